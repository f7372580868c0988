/// One version of a key's value as a replica stores it.
public struct Sibling: Sendable, Equatable {
    /// The write event that made this version.
    public var dot: Dot
    public var value: [UInt8]
    public var contentType: String
    /// A delete: versioned like a write so it replicates and supersedes like one.
    public var isTombstone: Bool
    /// The coordinator's hybrid logical clock when written; LWW orders by it.
    public var timestamp: HLCTimestamp
    /// When this version expires: the one part of a version that changes after it is
    /// written (by `EXPIRE`/`PERSIST`), merged per dot by its own stamp. It takes no part
    /// in the last-writer-wins order, so an expired winner still shadows older versions.
    public var expiry: ExpiryRegister

    public init(
        dot: Dot, value: [UInt8], contentType: String, isTombstone: Bool, timestamp: HLCTimestamp, expiry: ExpiryRegister = .none
    ) {
        self.dot = dot
        self.value = value
        self.contentType = contentType
        self.isTombstone = isTombstone
        self.timestamp = timestamp
        self.expiry = expiry
    }

    /// Last-writer-wins order: timestamp, then actor id, then counter, so every replica
    /// picks the same winner.
    ///
    /// Two different versions can tie on all three: an lww version's counter is always 0,
    /// and a node restarted with its clock stepped back starts its hybrid logical clock
    /// again from the wall clock, so it can stamp a second write with the timestamp of one
    /// it stamped before. Such ties are ordered by content (a tombstone wins, then the
    /// larger value, then the larger content type), so the merge stays commutative and
    /// replicas agree; without it each replica kept whichever version reached it first,
    /// forever (found by the simulator's `RegressionScheduleTests`).
    public func isNewer(than other: Sibling) -> Bool {
        if (timestamp, dot.actor, dot.counter) != (other.timestamp, other.dot.actor, other.dot.counter) {
            return (timestamp, dot.actor, dot.counter) > (other.timestamp, other.dot.actor, other.dot.counter)
        }
        if isTombstone != other.isTombstone { return isTombstone }
        if value != other.value { return other.value.lexicographicallyPrecedes(value) }
        return contentType > other.contentType
    }

    /// The join of two copies of one version (same dot and timestamp): the copy with the
    /// winning expiry register (`ExpiryRegister.joined`); with equal registers, the one
    /// `isNewer`'s content order picks, so a copy stripped to a tombstone under a register
    /// wins over the full copy under the same register.
    ///
    /// Why the register decides first: a copy stripped under deadline D must not undo an
    /// `EXPIRE` that moved the deadline later before D passed (a later-stamped register on
    /// a full copy); that full copy wins, and is stripped again once its own deadline
    /// passes. The order is total, so the join is commutative, associative and idempotent.
    public func joined(with other: Sibling) -> Sibling {
        if expiry != other.expiry { return expiry.joined(with: other.expiry) == expiry ? self : other }
        return other.isNewer(than: self) ? other : self
    }
}

/// Everything a replica holds for one key: its siblings and the causal context that
/// summarizes every write it has seen (a dotted version vector set).
///
/// Invariant: every sibling's dot is covered by `clock`. Replicas converge by `merged`,
/// which is commutative, associative and idempotent, so repair in any order is safe.
public struct KeyState: Sendable, Equatable {
    public var clock: VersionVector
    /// Sorted by dot.
    public var siblings: [Sibling]

    public init(clock: VersionVector = .empty, siblings: [Sibling] = []) {
        self.clock = clock
        self.siblings = siblings.sorted { $0.dot < $1.dot }
    }

    /// Versions a client sees: live siblings only; a state of only tombstones is deleted.
    public var liveSiblings: [Sibling] { siblings.filter { !$0.isTombstone } }

    public var isDeleted: Bool { liveSiblings.isEmpty }

    /// The context a read hands out: writing with it supersedes every version seen here.
    public var context: VersionVector { clock }

    /// Joins two replicas' states of the same key.
    public func merged(with other: KeyState, mode: ConflictMode) -> KeyState {
        switch mode {
        case .lww:
            // Copies of one version (same dot and timestamp) join (their expiry registers by
            // stamp), then the newest version wins; expiry takes no part in the order. The
            // first copy of the final winner replaces everything older, and later copies join it.
            let all = siblings + other.siblings
            guard var winner = all.first else { return KeyState(clock: clock.merged(with: other.clock)) }
            for candidate in all.dropFirst() {
                if candidate.dot == winner.dot, candidate.timestamp == winner.timestamp {
                    winner = winner.joined(with: candidate)
                } else if candidate.isNewer(than: winner) {
                    winner = candidate
                }
            }
            return KeyState(clock: clock.merged(with: other.clock), siblings: [winner])
        case .vclock:
            var otherByDot: [Dot: Sibling] = [:]
            for sibling in other.siblings { otherByDot[sibling.dot] = sibling }
            let ownDots = Set(siblings.map(\.dot))
            var kept: [Sibling] = []
            kept.reserveCapacity(siblings.count + other.siblings.count)
            for sibling in siblings {
                if let copy = otherByDot[sibling.dot] {
                    kept.append(sibling.joined(with: copy))
                } else if !other.clock.covers(sibling.dot) {
                    kept.append(sibling)
                }
            }
            kept += other.siblings.filter { !ownDots.contains($0.dot) && !clock.covers($0.dot) }
            return KeyState(clock: clock.merged(with: other.clock), siblings: kept)
        }
    }
}

/// A client's write or delete, before a replica turns it into a version.
public struct WriteIntent: Sendable, Equatable {
    public var value: [UInt8]
    public var contentType: String
    public var isTombstone: Bool
    /// The context the client sent back: the versions this write supersedes. Empty for a blind write.
    public var context: VersionVector
    /// The new version's absolute deadline (wall-clock milliseconds), or nil for none.
    /// Always absolute by the time an intent exists: the coordinator resolves relative
    /// ttls and `KEEPTTL` first.
    public var expiresAtMilliseconds: UInt64?

    public init(
        value: [UInt8], contentType: String, isTombstone: Bool = false, context: VersionVector = .empty,
        expiresAtMilliseconds: UInt64? = nil
    ) {
        self.value = value
        self.contentType = contentType
        self.isTombstone = isTombstone
        self.context = context
        self.expiresAtMilliseconds = isTombstone ? nil : expiresAtMilliseconds
    }

    /// The expiry register of the version this intent makes when stamped `timestamp`.
    public func expiry(stampedAt timestamp: HLCTimestamp) -> ExpiryRegister {
        .written(deadlineMilliseconds: expiresAtMilliseconds, timestamp: timestamp)
    }

    public static func delete(context: VersionVector = .empty) -> WriteIntent {
        WriteIntent(value: [], contentType: "", isTombstone: true, context: context)
    }
}

extension KeyState {
    /// The state after `actor` coordinates `intent` on top of this replica's state.
    ///
    /// In a `vclock` bucket the new version gets the next dot of `actor`, which must be a
    /// replica holding this key, so the dot is unique. Siblings the context covers are
    /// superseded; blind writes add a sibling. In an `lww` bucket the newest timestamp wins.
    public func applying(
        _ intent: WriteIntent, actor: String, timestamp: HLCTimestamp, mode: ConflictMode, limits: Limits
    ) throws(KVError) -> KeyState {
        switch mode {
        case .lww:
            guard clock[actor] < UInt64.max else { throw Self.counterExhausted(actor) }
            let version = Sibling(
                dot: Dot(actor: actor, counter: clock[actor] + 1), value: intent.value,
                contentType: intent.contentType, isTombstone: intent.isTombstone, timestamp: timestamp,
                expiry: intent.expiry(stampedAt: timestamp))
            return merged(with: KeyState(siblings: [version]), mode: .lww)
        case .vclock:
            return try applyingCausally(intent, actor: actor, timestamp: timestamp, limits: limits)
        }
    }

    /// The key's clock holds the largest counter of `actor`, so no later version of it can
    /// be numbered. Only forged input gets a clock there (2^64 writes never happen).
    private static func counterExhausted(_ actor: String) -> KVError {
        .internalError(message: "the key's clock holds the largest counter of \(actor); no later version can be numbered")
    }

    private func applyingCausally(
        _ intent: WriteIntent, actor: String, timestamp: HLCTimestamp, limits: Limits
    ) throws(KVError) -> KeyState {
        // The context is the client's (a token anyone can forge), and the clock may hold
        // what a forged context left there: a counter at the top must fail this write,
        // not trap the node (found writing the fuzz checks; `CoreFuzzChecks.checkWritable`).
        guard intent.context[actor] < UInt64.max else {
            throw .badParameter(
                name: "context",
                message: "the context counts \(UInt64.max) writes by \(actor), which QuorumKV never issues; "
                    + "send back the X-Context of a read unchanged")
        }
        guard clock[actor] < UInt64.max else { throw Self.counterExhausted(actor) }
        let counter = max(clock[actor], intent.context[actor]) + 1
        var remaining = siblings.filter { !intent.context.covers($0.dot) }
        if intent.isTombstone && remaining.allSatisfy(\.isTombstone) { remaining = [] }
        guard remaining.count < limits.siblingsMax else { throw .siblingLimit(limit: limits.siblingsMax) }
        let dot = Dot(actor: actor, counter: counter)
        remaining.append(
            Sibling(
                dot: dot, value: intent.value, contentType: intent.contentType,
                isTombstone: intent.isTombstone, timestamp: timestamp, expiry: intent.expiry(stampedAt: timestamp)))
        var newClock = clock.merged(with: intent.context)
        newClock.advance(actor, to: counter, touchedMilliseconds: timestamp.physicalMilliseconds)
        newClock.prune(maximum: limits.clockEntriesMax, keep: Set(remaining.map(\.dot.actor)))
        return KeyState(clock: newClock, siblings: remaining)
    }
}
