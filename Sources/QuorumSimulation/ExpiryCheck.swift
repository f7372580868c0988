import QuorumCore

/// (i) Expiry holds: no read that began after a version's deadline plus the allowed clock
/// error returns that version live; and in the expiring buckets an expired version keeps
/// shadowing what it superseded, as a tombstone does. In `lww` every acknowledged write is
/// the final r = n read's version (in full or stripped to its tombstone form) or older than
/// it; in `vclock` no version an acknowledged write's context covered is live in it. A key
/// whose state is gone (purged after expiring or deleting) passes.
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
        violations += shadowing(input)
        return violations
    }

    /// The shadowing rule for the expiring buckets (see the type's comment).
    private static func shadowing(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.keys where SimulatedBuckets.expiringNames.contains(name.bucket) {
            let requests = input.requests(on: name)
            let acknowledged = requests.filter { $0.kind == .put && $0.isAcknowledged }
            guard !acknowledged.isEmpty, case .some(.some(let state)) = input.finalStates[name] else { continue }
            for write in acknowledged {
                let version = write.writtenVersion!
                let kept: Bool
                switch input.props(name).conflict {
                case .vclock:
                    // What the write superseded (its context) is never live again; its own
                    // version may be gone, dropped under a clock that covers it.
                    kept = !state.siblings.contains { !$0.isTombstone && $0.dot != version.dot && write.context.covers($0.dot) }
                case .lww:
                    guard let winner = state.siblings.first else { kept = false; break }
                    kept = (winner.dot == version.dot && winner.timestamp == version.timestamp) || winner.isNewer(than: version)
                }
                if !kept {
                    violations.append(CheckViolation(
                        check: .expiry,
                        message: "\(name.text): an acknowledged write no longer shadows what it superseded: "
                            + "\(CheckInput.describe(write)); final read: \(History.render(state))"))
                }
            }
        }
        return violations
    }
}
