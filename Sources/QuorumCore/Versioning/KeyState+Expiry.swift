/// Reading a state at a wall-clock instant: which versions have expired, and the form a
/// replica may keep of them.
extension Sibling {
    /// Whether this version reads as absent at `nowMilliseconds` (tombstones are absent anyway).
    public func isExpired(atMilliseconds nowMilliseconds: UInt64) -> Bool {
        !isTombstone && expiry.hasPassed(atMilliseconds: nowMilliseconds)
    }

    /// The form a replica keeps of an expired version: a tombstone of the same dot and
    /// timestamp (so it still shadows older versions), the value dropped, the expiry kept
    /// (purge counts from the deadline). It wins the join with the full copy, so stripping
    /// is a lattice step and replicas that strip at different moments converge.
    public var strippedToTombstone: Sibling {
        Sibling(dot: dot, value: [], contentType: "", isTombstone: true, timestamp: timestamp, expiry: expiry)
    }

    /// When this version stopped being live, for the tombstone purge: its timestamp, or
    /// its deadline when that is later (an expired version counts as deleted from its
    /// deadline on).
    public var deadSinceMilliseconds: UInt64 {
        max(timestamp.physicalMilliseconds, expiry.deadlineMilliseconds ?? 0)
    }
}

extension KeyState {
    /// Versions a client sees at `nowMilliseconds`: neither tombstones nor expired.
    public func liveSiblings(atMilliseconds nowMilliseconds: UInt64) -> [Sibling] {
        siblings.filter { !$0.isTombstone && !$0.expiry.hasPassed(atMilliseconds: nowMilliseconds) }
    }

    /// No version is live at `nowMilliseconds`.
    public func isDeleted(atMilliseconds nowMilliseconds: UInt64) -> Bool {
        !siblings.contains { !$0.isTombstone && !$0.expiry.hasPassed(atMilliseconds: nowMilliseconds) }
    }

    /// Some version carries an expiry register other than `.none` (it needs `KeyState` version 2).
    public var carriesExpiry: Bool { siblings.contains { !$0.expiry.isNone } }

    /// How many versions have expired at `nowMilliseconds` but are still kept in full.
    public func expiredCount(atMilliseconds nowMilliseconds: UInt64) -> Int {
        siblings.reduce(0) { $0 + ($1.isExpired(atMilliseconds: nowMilliseconds) ? 1 : 0) }
    }

    /// This state with every version expired at `nowMilliseconds` stripped to its
    /// tombstone form; the same state when none has expired.
    public func strippingExpired(atMilliseconds nowMilliseconds: UInt64) -> KeyState {
        guard expiredCount(atMilliseconds: nowMilliseconds) > 0 else { return self }
        var stripped = self
        stripped.siblings = siblings.map { $0.isExpired(atMilliseconds: nowMilliseconds) ? $0.strippedToTombstone : $0 }
        return stripped
    }

    /// The key's deadline as a client sees it at `nowMilliseconds`: the latest deadline of
    /// its live versions, nil when one of them never expires (or none is live).
    public func deadlineMilliseconds(atMilliseconds nowMilliseconds: UInt64) -> UInt64? {
        Self.keyDeadline(of: liveSiblings(atMilliseconds: nowMilliseconds))
    }

    /// The latest deadline of `versions`, nil when one never expires or there are none.
    public static func keyDeadline(of versions: [Sibling]) -> UInt64? {
        var latest: UInt64 = 0
        for version in versions {
            guard let deadline = version.expiry.deadlineMilliseconds else { return nil }
            latest = max(latest, deadline)
        }
        return versions.isEmpty ? nil : latest
    }
}
