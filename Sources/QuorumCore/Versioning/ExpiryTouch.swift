/// What an expiry change (`EXPIRE`, `PERSIST` and their kin) writes, decided on the state
/// the coordinator read at its r.
///
/// A touch is state-based: it sets a new expiry register on the versions it read live and
/// writes that state back as a merge (like a repair write). A value written concurrently
/// is a new dot the touch never saw, so its register is untouched and, in a vclock bucket,
/// it stays a sibling, in an lww bucket it wins or loses by its timestamp as before: a
/// touch can never overwrite an acknowledged value write.
public enum ExpiryTouch {
    /// The state to merge into the key's replicas, or nil when the change does not apply:
    /// no version is live at `nowMilliseconds`, a condition failed (all must hold: Redis
    /// allows `XX` with `GT` or `LT`), or `PERSIST` found no ttl.
    ///
    /// - Parameters:
    ///   - stamp: the coordinator's hybrid logical clock now. The registers get a stamp
    ///     later than every register read, so the touch wins over what it read even when
    ///     the coordinator's clock is behind the writer's.
    public static func plan(
        read state: KeyState?, change: ExpiryChange, conditions: [ExpiryCondition], nowMilliseconds: UInt64,
        stamp: HLCTimestamp
    ) -> KeyState? {
        guard let state else { return nil }
        let live = state.liveSiblings(atMilliseconds: nowMilliseconds)
        guard !live.isEmpty else { return nil }
        let current = KeyState.keyDeadline(of: live)
        let deadline: UInt64?
        switch change {
        case .persist:
            guard live.contains(where: { $0.expiry.deadlineMilliseconds != nil }) else { return nil }
            deadline = nil
        case .at(let milliseconds):
            if !conditions.allSatisfy({ applies($0, current: current, new: milliseconds) }) { return nil }
            deadline = milliseconds
        }
        var newest = stamp
        for version in live where version.expiry.stamp >= newest {
            newest = HLCTimestamp(physicalMilliseconds: version.expiry.stamp.physicalMilliseconds, logical: version.expiry.stamp.logical &+ 1)
        }
        let register = ExpiryRegister(deadlineMilliseconds: deadline, stamp: newest)
        let liveDots = Set(live.map(\.dot))
        var touched = state
        touched.siblings = state.siblings.map { version in
            guard liveDots.contains(version.dot) else { return version }
            var changed = version
            changed.expiry = register
            return changed
        }
        return touched
    }

    /// Redis's rule for `NX XX GT LT`; `current` nil means the key has no ttl, which
    /// counts as an infinite one for `GT` and `LT`.
    public static func applies(_ condition: ExpiryCondition, current: UInt64?, new: UInt64) -> Bool {
        switch condition {
        case .nx: return current == nil
        case .xx: return current != nil
        case .gt: return current.map { new > $0 } ?? false
        case .lt: return current.map { new < $0 } ?? true
        }
    }
}
