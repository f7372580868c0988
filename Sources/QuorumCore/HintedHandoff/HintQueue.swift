/// The hints a stand-in node holds, and the decisions about them: take or refuse a new
/// one, which to deliver to whom and when, when to give up on one.
///
/// In memory only: the shell stores every accepted hint (by id) before acknowledging the
/// write, deletes the rows `delivered` and `expire` report gone, and after a restart
/// rebuilds the queue with `init(restoring:)`. Time comes in as wall-clock milliseconds.
///
/// Delivery runs one batch per target at a time: `due` hands out the oldest hints and
/// marks them in flight; the shell reports `delivered(ids:)` for those the target
/// acknowledged, then `deliveryFailed(target:)` if any were not, which returns the rest
/// to the queue and backs off. A hint in flight is never merged into, so an
/// acknowledgement can't delete a write that arrived after the batch was sent.
public struct HintQueue: Sendable {
    public let limits: HintLimits
    private var entries: [UInt64: Entry] = [:]
    /// Ids per target, ascending (oldest first): the delivery order.
    private var idsByTarget: [String: [UInt64]] = [:]
    private var inFlight: [String: Set<UInt64>] = [:]
    /// The newest hint per (target, bucket, key, payload kind): where a new hint for the same key is merged.
    private var latestBySlot: [Slot: UInt64] = [:]
    private var backoffs: [String: Backoff] = [:]
    private var nextID: UInt64 = 1

    /// Sum of `byteSize` of every hint held, in flight included.
    public private(set) var pendingBytes = 0
    /// Hints refused because the queue was full.
    public private(set) var refusedCount: UInt64 = 0
    /// Hints the targets acknowledged.
    public private(set) var deliveredCount: UInt64 = 0
    /// New hints merged into one already held for the same key.
    public private(set) var coalescedCount: UInt64 = 0
    /// Hints dropped for age.
    public private(set) var expiredCount: UInt64 = 0

    public init(limits: HintLimits = .defaults) {
        precondition(limits.batchMax >= 1, "a hint batch must hold at least one hint")
        self.limits = limits
    }

    /// The queue as it was, from the hints the shell stored. They are all kept even past
    /// the bounds (limits may have been lowered): new hints are refused until it drains.
    public init(restoring hints: [Hint], limits: HintLimits = .defaults) {
        self.init(limits: limits)
        for hint in hints.sorted(by: { $0.id < $1.id }) where entries[hint.id] == nil {
            insert(hint)
            nextID = max(nextID, hint.id &+ 1)
        }
    }

    // MARK: Taking hints

    /// Takes a hint for `target`, or refuses it when the queue is full (counted in
    /// `refusedCount`). A hint for a key that already has one waiting (same target, bucket
    /// and payload kind, not in flight) is merged into it, keeping the older id and
    /// creation time: plain states with `KeyState.merged` under their conflict mode, typed
    /// deltas with `TypedState.joinedDelta` (the join of two deltas is a delta). Either
    /// way the shell stores the returned hint, replacing any row with the same id.
    public mutating func enqueue(
        target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode, nowMilliseconds now: UInt64
    ) -> HintEnqueueResult {
        enqueue(target: target, bucket: bucket, key: key, payload: .versions(state, mode: mode), nowMilliseconds: now)
    }

    /// `enqueue` for any payload: a plain state or a typed key's delta.
    public mutating func enqueue(
        target: String, bucket: String, key: [UInt8], payload: ReplicaPayload, nowMilliseconds now: UInt64
    ) -> HintEnqueueResult {
        let slot = Slot(target: target, bucket: bucket, key: key, kind: SlotKind(payload))
        if let id = latestBySlot[slot], inFlight[target]?.contains(id) != true, let entry = entries[id],
            let merged = Self.merging(entry.hint.payload, payload)
        {
            var hint = entry.hint
            hint.payload = merged
            let bytes = hint.byteSize
            if bytes > entry.bytes && pendingBytes + (bytes - entry.bytes) > limits.bytesMax {
                return refuse(.bytesFull(pendingBytes: pendingBytes, hintBytes: bytes - entry.bytes, bytesMax: limits.bytesMax))
            }
            entries[id] = Entry(hint: hint, bytes: bytes)
            pendingBytes += bytes - entry.bytes
            coalescedCount += 1
            return .accepted(hint)
        }
        guard entries.count < limits.countMax else { return refuse(.countFull(countMax: limits.countMax)) }
        let hint = Hint(id: nextID, target: target, bucket: bucket, key: key, payload: payload, createdMilliseconds: now)
        let bytes = hint.byteSize
        guard pendingBytes + bytes <= limits.bytesMax else {
            return refuse(.bytesFull(pendingBytes: pendingBytes, hintBytes: bytes, bytesMax: limits.bytesMax))
        }
        nextID += 1
        insert(hint, bytes: bytes)
        return .accepted(hint)
    }

    /// The merge of a held payload with a new one of the same slot; nil when they can't
    /// merge (never for one slot: the slot names the kind).
    private static func merging(_ held: ReplicaPayload, _ new: ReplicaPayload) -> ReplicaPayload? {
        switch (held, new) {
        case (.versions(let old, let mode), .versions(let state, let newMode)) where mode == newMode:
            return .versions(old.merged(with: state, mode: mode), mode: mode)
        case (.typed(let old), .typed(let delta)) where old.datatype == delta.datatype:
            return .typed(old.joinedDelta(with: delta))
        default:
            return nil
        }
    }

    // MARK: Delivering

    /// Targets with hints ready to go now (none in flight, backoff over), sorted by id.
    /// The shell delivers only to those its failure detector believes up.
    public func targetsDue(nowMilliseconds now: UInt64) -> [String] {
        idsByTarget.keys.filter { isDue($0, nowMilliseconds: now) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The next batch for `target`, oldest first, at most `batchMax` hints and
    /// `limits.batchBytesMax` bytes (but at least one hint), marked in flight. Empty while
    /// a batch is in flight or the target is backing off.
    public mutating func due(for target: String, nowMilliseconds now: UInt64, batchMax: Int? = nil) -> [Hint] {
        guard isDue(target, nowMilliseconds: now), let ids = idsByTarget[target] else { return [] }
        let countMax = max(1, min(batchMax ?? limits.batchMax, limits.batchMax))
        var batch: [Hint] = []
        var bytes = 0
        for id in ids.prefix(countMax) {
            let entry = entries[id]!
            if !batch.isEmpty && bytes + entry.bytes > limits.batchBytesMax { break }
            batch.append(entry.hint)
            bytes += entry.bytes
        }
        inFlight[target] = Set(batch.map(\.id))
        return batch
    }

    /// The target acknowledged these hints: they are gone, and its backoff starts over.
    /// Unknown ids (already expired or delivered) are ignored. Report acknowledged hints
    /// before `deliveryFailed` for the rest of a batch.
    public mutating func delivered(ids: [UInt64]) {
        var removedByTarget: [String: Set<UInt64>] = [:]
        for id in ids {
            guard let entry = remove(id) else { continue }
            deliveredCount += 1
            removedByTarget[entry.hint.target, default: []].insert(id)
        }
        for (target, removed) in removedByTarget {
            backoffs[target] = nil
            if var flying = inFlight[target] {
                flying.subtract(removed)
                inFlight[target] = flying.isEmpty ? nil : flying
            }
            purgeIndex(of: target, removing: removed)
        }
    }

    /// Delivery to `target` failed (refused, timed out, or some hints were not
    /// acknowledged): the hints still in flight go back to the queue and the target waits
    /// `backoffInitialMilliseconds`, doubling with each failure in a row up to
    /// `backoffMaxMilliseconds`. Returns when it may be tried again.
    @discardableResult
    public mutating func deliveryFailed(target: String, nowMilliseconds now: UInt64) -> UInt64 {
        inFlight[target] = nil
        guard idsByTarget[target] != nil else {
            backoffs[target] = nil
            return now
        }
        var backoff = backoffs[target] ?? Backoff(delayMilliseconds: 0, retryAtMilliseconds: now)
        let doubled = backoff.delayMilliseconds > UInt64.max / 2 ? UInt64.max : backoff.delayMilliseconds * 2
        let delay = backoff.delayMilliseconds == 0 ? limits.backoffInitialMilliseconds : doubled
        backoff.delayMilliseconds = max(1, min(delay, limits.backoffMaxMilliseconds))
        backoff.retryAtMilliseconds = now.addingReportingOverflow(backoff.delayMilliseconds).partialValue
        backoffs[target] = backoff
        return backoff.retryAtMilliseconds
    }

    /// Forgets `target`'s backoff, e.g. when the failure detector sees it come back, so
    /// delivery starts at once instead of after the remaining wait.
    public mutating func resetBackoff(for target: String) {
        backoffs[target] = nil
    }

    // MARK: Dropping

    /// Drops hints created more than `ageMaxMilliseconds` ago (those in flight wait for
    /// their batch to end) and returns their ids for the shell to delete.
    public mutating func expire(nowMilliseconds now: UInt64) -> [UInt64] {
        let old = entries.values.filter { entry in
            now >= entry.hint.createdMilliseconds && now - entry.hint.createdMilliseconds >= limits.ageMaxMilliseconds
                && inFlight[entry.hint.target]?.contains(entry.hint.id) != true
        }.map(\.hint.id).sorted()
        drop(old)
        expiredCount += UInt64(old.count)
        return old
    }

    /// Drops every hint for `target` (it left the cluster for good) and returns their ids.
    public mutating func discard(target: String) -> [UInt64] {
        let ids = idsByTarget[target] ?? []
        drop(ids)
        inFlight[target] = nil
        backoffs[target] = nil
        return ids
    }

    // MARK: Reading

    /// Hints held, in flight included.
    public var pendingCount: Int { entries.count }

    public func pendingCount(for target: String) -> Int { idsByTarget[target]?.count ?? 0 }

    /// Targets with hints held, sorted.
    public var targets: [String] { idsByTarget.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }

    /// When `target` may next be tried, if it is backing off.
    public func retryAtMilliseconds(for target: String) -> UInt64? { backoffs[target]?.retryAtMilliseconds }

    public func hint(id: UInt64) -> Hint? { entries[id]?.hint }

    // MARK: Internals

    private func isDue(_ target: String, nowMilliseconds now: UInt64) -> Bool {
        guard idsByTarget[target] != nil, inFlight[target] == nil else { return false }
        if let backoff = backoffs[target], now < backoff.retryAtMilliseconds { return false }
        return true
    }

    private mutating func refuse(_ reason: HintRefusal) -> HintEnqueueResult {
        refusedCount += 1
        return .refused(reason)
    }

    private mutating func insert(_ hint: Hint, bytes: Int? = nil) {
        let size = bytes ?? hint.byteSize
        entries[hint.id] = Entry(hint: hint, bytes: size)
        pendingBytes += size
        // Ids only grow, so appending keeps each target's list sorted.
        idsByTarget[hint.target, default: []].append(hint.id)
        latestBySlot[Slot(target: hint.target, bucket: hint.bucket, key: hint.key, kind: SlotKind(hint.payload))] = hint.id
    }

    /// Removes one entry's bytes and slot; the caller fixes `idsByTarget` in bulk.
    private mutating func remove(_ id: UInt64) -> Entry? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        pendingBytes -= entry.bytes
        let slot = Slot(target: entry.hint.target, bucket: entry.hint.bucket, key: entry.hint.key, kind: SlotKind(entry.hint.payload))
        if latestBySlot[slot] == id { latestBySlot[slot] = nil }
        return entry
    }

    private mutating func drop(_ ids: [UInt64]) {
        var removedByTarget: [String: Set<UInt64>] = [:]
        for id in ids {
            guard let entry = remove(id) else { continue }
            removedByTarget[entry.hint.target, default: []].insert(id)
        }
        for (target, removed) in removedByTarget { purgeIndex(of: target, removing: removed) }
    }

    private mutating func purgeIndex(of target: String, removing removed: Set<UInt64>) {
        guard var ids = idsByTarget[target] else { return }
        ids.removeAll { removed.contains($0) }
        if ids.isEmpty {
            idsByTarget[target] = nil
            backoffs[target] = nil
            inFlight[target] = nil
        } else {
            idsByTarget[target] = ids
        }
    }

    private struct Entry: Sendable {
        var hint: Hint
        var bytes: Int
    }

    private struct Slot: Sendable, Hashable {
        var target: String
        var bucket: String
        var key: [UInt8]
        var kind: SlotKind
    }

    /// What a hint holds, as far as merging goes: plain states of one conflict mode, or
    /// typed deltas of one datatype.
    private enum SlotKind: Sendable, Hashable {
        case versions(ConflictMode)
        case typed(DataType)

        init(_ payload: ReplicaPayload) {
            switch payload {
            case .versions(_, let mode): self = .versions(mode)
            case .typed(let delta): self = .typed(delta.datatype)
            }
        }
    }

    private struct Backoff: Sendable {
        var delayMilliseconds: UInt64
        var retryAtMilliseconds: UInt64
    }
}

/// What became of a hint offered to the queue.
public enum HintEnqueueResult: Sendable, Equatable {
    /// Store this hint: a new row, or the row of the same id replaced (an earlier hint
    /// for the key, merged with the new state).
    case accepted(Hint)
    case refused(HintRefusal)
}

/// Why a hint was refused. The write then counts only the replicas that really took it.
public enum HintRefusal: Error, Sendable, Equatable {
    case bytesFull(pendingBytes: Int, hintBytes: Int, bytesMax: Int)
    case countFull(countMax: Int)

    public var message: String {
        switch self {
        case .bytesFull(let pending, let hint, let maximum):
            return "hint storage is full: \(pending) bytes held, \(hint) more would pass the bound of \(maximum)"
        case .countFull(let maximum):
            return "hint storage is full: \(maximum) hints held"
        }
    }
}
