import QuorumCore

/// (i) Expiry holds: no read that began after a version's deadline plus the allowed clock
/// error returns that version live.
///
/// The deadline is the one the read itself returned (a later `EXPIRE` may have moved it).
/// The allowed error is the documented bound (`Limits.expirySkewMillisecondsMax`), or the
/// largest clock offset the run applied when its faults pushed a clock further: a node
/// whose clock runs behind by that much judges the version live for that much longer.
/// Virtual time is true time, so a read that began at `invokedAt` was judged by clocks
/// no further behind than that error.
enum ExpiryCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        let allowed = max(Limits.defaults.expirySkewMillisecondsMax, input.clockOffsetMaxMilliseconds)
        var violations: [CheckViolation] = []
        for entry in input.history.entries where entry.kind == .get {
            guard case .read(let state?) = entry.outcome else { continue }
            for version in state.siblings where !version.isTombstone {
                guard let deadline = version.expiry.deadlineMilliseconds, entry.invokedAt > deadline + allowed else { continue }
                violations.append(CheckViolation(
                    check: .expiry,
                    message: "\(CheckInput.describe(entry)) began \(entry.invokedAt - deadline) ms after the deadline of the "
                        + "version \(String(decoding: version.value, as: UTF8.self)) it returned (allowed: \(allowed) ms)"))
            }
        }
        return violations
    }
}
