import QuorumCore

/// (a) Once faults healed and repair had its time, every replica of every key holds the
/// same state: the same siblings under the same context; for a typed key (issue #16),
/// the same header bytes and the same member rows; for a strong key (issue #17), the same
/// latest commit (a commit is sent without waiting, so this is anti-entropy's work).
enum ConvergenceCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        disagreements(input.replicaStates.mapValues { $0.map { (node: $0.node, held: $0.state) } }, render: render)
            + disagreements(input.typedReplicaStates.mapValues { $0.map { (node: $0.node, held: $0.rows) } }, render: render)
            + disagreements(input.strongReplicaCommits.mapValues { $0.map { (node: $0.node, held: $0.commit) } }, render: render)
    }

    /// Each replica that holds something other than the key's first replica, by key.
    private static func disagreements<Held: Equatable>(
        _ replicas: [CheckInput.KeyName: [(node: String, held: Held)]], render: (Held) -> String
    ) -> [CheckViolation] {
        replicas.keys.sorted().flatMap { name -> [CheckViolation] in
            guard let first = replicas[name]!.first else { return [] }
            return replicas[name]!.dropFirst().filter { $0.held != first.held }.map { replica in
                CheckViolation(
                    check: .convergence,
                    message: "\(name.text): \(first.node) holds \(render(first.held)) but \(replica.node) holds \(render(replica.held))")
            }
        }
    }

    /// A typed key's stored rows as the state they decode to (rows that don't decode say so).
    static func render(_ rows: StoredTyped?) -> String {
        guard let rows else { return "nothing" }
        guard let header = try? TypedHeader(decoding: rows.header) else {
            return "an undecodable typed header (\(rows.header.count) bytes)"
        }
        var members: [[UInt8]: Member] = [:]
        for row in rows.members {
            guard let member = try? Member(decodingRow: row.payload) else {
                return "an undecodable member row \(History.text(row.member))"
            }
            members[row.member] = member
        }
        let state = TypedState(header: header, members: members)
        return History.render(state) + " (its header counts \(header.memberCount) members)"
    }

    static func render(_ state: KeyState?) -> String {
        state.map(History.render) ?? "nothing"
    }

    static func render(_ commit: PaxosCommit?) -> String {
        guard let commit else { return "no commit" }
        return "the commit of ballot \(commit.ballot) (etag \(commit.origin))"
    }
}
