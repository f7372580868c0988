import QuorumCore

/// (f) In `lww` buckets, when no clock is skewed: a write begun after another was
/// acknowledged gets the newer version, and the final state is never older than a value
/// some read returned.
enum LWWOrderCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        guard input.clocksExact, !input.disksWiped else { return [] }
        var violations: [CheckViolation] = []
        for name in input.keys where input.props(name).conflict == .lww {
            let requests = input.requests(on: name)
            let writes = requests.filter(\.isAcknowledged)
            for earlier in writes {
                for later in writes where later.invokedAt > earlier.completedAt! {
                    if !later.writtenVersion!.isNewer(than: earlier.writtenVersion!) {
                        violations.append(CheckViolation(
                            check: .lwwOrder,
                            message: "\(name.text): \(CheckInput.describe(later)) began after \(CheckInput.describe(earlier)) "
                                + "was acknowledged but has the older version"))
                    }
                }
            }
            guard let final = input.finalStates[name] else { continue }
            // Absent: deleted and purged; nothing left to compare.
            if final == nil && requests.contains(where: { $0.kind == .delete }) { continue }
            let winner = final?.siblings.first
            for read in requests {
                guard case .read(let state) = read.outcome, let seen = state?.siblings.first else { continue }
                guard let winner, winner == seen || winner.isNewer(than: seen) else {
                    violations.append(CheckViolation(
                        check: .lwwOrder,
                        message: "\(name.text): the final state \(ConvergenceCheck.render(final)) is older than what "
                            + "\(CheckInput.describe(read)) returned"))
                    continue
                }
            }
        }
        return violations
    }
}
