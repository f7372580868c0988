import QuorumCore

/// (i) Nothing a truncation hid comes back: once a truncation of a bucket has answered,
/// no read invoked later (a client's, or the final r = n read) returns a live version of
/// that bucket stamped below its point, whatever hints, read repair, anti-entropy,
/// crashes and restarts did meanwhile.
enum TruncationCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        let truncations = input.history.entries.compactMap { entry -> (entry: History.Entry, point: HLCTimestamp, at: UInt64)? in
            guard entry.kind == .truncate, case .truncated(let point) = entry.outcome, let at = entry.completedAt else { return nil }
            return (entry, point, at)
        }
        var violations: [CheckViolation] = []
        for read in input.history.entries where read.kind == .get {
            guard case .read(let state?) = read.outcome else { continue }
            for truncation in truncations where truncation.entry.bucket == read.bucket && truncation.at < read.invokedAt {
                for sibling in state.liveSiblings where sibling.timestamp < truncation.point {
                    violations.append(CheckViolation(
                        check: .truncation,
                        message: "\(CheckInput.describe(read)) returned \(History.render(sibling)), hidden by "
                            + CheckInput.describe(truncation.entry)))
                }
            }
        }
        return violations
    }
}
