import QuorumCore

/// (d) No version an acknowledged delete superseded is live again, in the final read or
/// on any replica: in `vclock` none the delete's context covers, in `lww` none older
/// than the tombstone.
enum ResurrectionCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.keys {
            let deletes = input.requests(on: name).filter { $0.kind == .delete && $0.isAcknowledged }
            guard !deletes.isEmpty else { continue }
            var states: [(String, KeyState?)] = []
            if let final = input.finalStates[name] { states.append(("the final read", final)) }
            for replica in input.replicaStates[name] ?? [] { states.append((replica.node, replica.state)) }
            let mode = input.props(name).conflict
            for delete in deletes {
                let tombstone = delete.writtenVersion!
                for (holder, state) in states {
                    for sibling in state?.liveSiblings ?? [] {
                        let superseded: Bool
                        switch mode {
                        case .vclock: superseded = delete.context.covers(sibling.dot)
                        case .lww: superseded = tombstone.isNewer(than: sibling)
                        }
                        if superseded {
                            violations.append(CheckViolation(
                                check: .resurrection,
                                message: "\(name.text): \(holder) holds \(History.render(sibling)), deleted by \(CheckInput.describe(delete))"))
                        }
                    }
                }
            }
        }
        return violations
    }
}
