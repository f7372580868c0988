import QuorumCore

/// (b) Every acknowledged write is in the final r = n read, or superseded: in `vclock` by a
/// write (acknowledged or not) whose context covers its dot, in `lww` by a newer version.
/// A key that reads as absent passes only if some delete was sent for it (its tombstones
/// may have been purged).
enum DurabilityCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.keys {
            let requests = input.requests(on: name)
            let acknowledged = requests.filter { $0.kind == .put && $0.isAcknowledged }
            guard !acknowledged.isEmpty else { continue }
            guard let final = input.finalStates[name] else {
                violations.append(CheckViolation(check: .durability, message: "\(name.text): the final read at r = n failed"))
                continue
            }
            // A key whose state is gone entirely was deleted and its tombstones purged.
            let deleted = requests.contains { $0.kind == .delete }
            for write in acknowledged {
                let version = write.writtenVersion!
                guard let state = final else {
                    if !deleted { violations.append(lost(write, name: name, final: "nothing")) }
                    continue
                }
                switch input.props(name).conflict {
                case .vclock:
                    let present = state.siblings.contains { $0.dot == version.dot }
                    let superseded = requests.contains { other in
                        other.id != write.id && other.isWrite && other.context.covers(version.dot)
                    }
                    if !present && !superseded { violations.append(lost(write, name: name, final: History.render(state))) }
                case .lww:
                    guard let winner = state.siblings.first, winner == version || winner.isNewer(than: version) else {
                        violations.append(lost(write, name: name, final: History.render(state)))
                        continue
                    }
                }
            }
        }
        return violations
    }

    private static func lost(_ write: History.Entry, name: CheckInput.KeyName, final: String) -> CheckViolation {
        CheckViolation(
            check: .durability,
            message: "\(name.text): acknowledged write lost: \(CheckInput.describe(write)); final read: \(final)")
    }
}
