import QuorumCore

/// (a) Once faults healed and repair had its time, every replica of every key holds the
/// same state: the same siblings under the same context; for a typed key (issue #16),
/// the same header bytes and the same member rows; for a strong key (issue #17), the same
/// latest commit (a commit is sent without waiting, so this is anti-entropy's work).
enum ConvergenceCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.replicaStates.keys.sorted() {
            let replicas = input.replicaStates[name]!
            guard let first = replicas.first else { continue }
            for replica in replicas.dropFirst() where replica.state != first.state {
                violations.append(CheckViolation(
                    check: .convergence,
                    message: "\(name.text): \(first.node) holds \(render(first.state)) but \(replica.node) holds \(render(replica.state))"))
            }
        }
        for name in input.typedReplicaStates.keys.sorted() {
            let replicas = input.typedReplicaStates[name]!
            guard let first = replicas.first else { continue }
            for replica in replicas.dropFirst() where replica.rows != first.rows {
                violations.append(CheckViolation(
                    check: .convergence,
                    message: "\(name.text): \(first.node) holds \(render(first.rows)) but \(replica.node) holds \(render(replica.rows))"))
            }
        }
        for name in input.strongReplicaCommits.keys.sorted() {
            let replicas = input.strongReplicaCommits[name]!
            guard let first = replicas.first else { continue }
            for replica in replicas.dropFirst() where replica.commit != first.commit {
                violations.append(CheckViolation(
                    check: .convergence,
                    message: "\(name.text): \(first.node) holds \(render(first.commit)) but \(replica.node) holds \(render(replica.commit))"))
            }
        }
        return violations
    }

    static func render(_ commit: PaxosCommit?) -> String {
        guard let commit else { return "no commit" }
        return "the commit of ballot \(commit.ballot) (etag \(commit.origin))"
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
}
