import Synchronization

/// Which row: the `kv` table's primary key.
struct RowKey: Hashable, Sendable {
    var partition: Int
    var bucket: String
    var key: [UInt8]

    /// What an entry is charged against the byte bound besides its blob: the key, the
    /// bucket name and a fixed share for the dictionary slot and array headers.
    var chargedBytes: Int { key.count + bucket.utf8.count + 96 }
}

/// The committed state of hot rows, in memory: point reads answer from it without a
/// SQLite read transaction, and the writer reads a row's current state from it instead of
/// a SELECT and a decode.
///
/// It is a second copy of the truth, so it follows rules that keep it from ever answering
/// ahead of the disk or behind it:
/// - only the writer changes a row's entry, after the transaction that wrote the row has
///   committed (`committed`), and before the writer starts its next group; a failed commit
///   drops the group's rows (`drop`);
/// - every write path to `kv` goes through the writer, so no row changes behind it;
/// - a reader fills a missing entry with what it read only if no commit changed the cache
///   since it looked (`fill` checks `generation`): a commit that landed meanwhile may be
///   newer than its snapshot.
///
/// Bounded by entries and bytes (`StoreOptions.rowCache*`), evicting with CLOCK (second
/// chance): a hit marks the entry, the hand passes marked entries once before taking them.
final class RowCache: Sendable {
    /// A read's answer: the cached state, or a miss with the generation to hand to `fill`.
    enum Lookup {
        case hit([UInt8])
        case miss(generation: UInt64)
    }

    private struct Slot {
        var key: RowKey
        var blob: [UInt8]
        var referenced: Bool
    }

    private struct State {
        var index: [RowKey: Int] = [:]
        var slots: [Slot] = []
        /// Slots freed by removals, reused before the hand evicts anything.
        var free: [Int] = []
        var hand = 0
        var bytes = 0
        var generation: UInt64 = 0
        var statistics = RowCacheStatistics()
    }

    private let state = Mutex(State())
    private let entriesMax: Int
    private let bytesMax: Int
    private let blobBytesMax: Int

    init(options: StoreOptions) {
        entriesMax = options.rowCacheEntriesMax
        bytesMax = options.rowCacheBytesMax
        blobBytesMax = options.rowCacheBlobBytesMax
    }

    var isEnabled: Bool { entriesMax > 0 && bytesMax > 0 }

    func lookup(_ key: RowKey) -> Lookup {
        state.withLock { state in
            guard let slot = state.index[key] else {
                state.statistics.misses += 1
                return .miss(generation: state.generation)
            }
            state.statistics.hits += 1
            state.slots[slot].referenced = true
            return .hit(state.slots[slot].blob)
        }
    }

    /// The state the writer reads inside its transaction, without counting a hit or miss.
    func current(_ key: RowKey) -> [UInt8]? {
        state.withLock { state in state.index[key].map { state.slots[$0].blob } }
    }

    /// A reader's fill after a miss: stored only if no commit changed the cache since the
    /// lookup that returned `generation`.
    func fill(_ key: RowKey, blob: [UInt8], generation: UInt64) {
        guard isEnabled, blob.count <= blobBytesMax else { return }
        state.withLock { state in
            guard state.generation == generation, state.index[key] == nil else { return }
            insert(key, blob, into: &state)
        }
    }

    /// A committed group's rows, in commit order: the new state of each, or nil where the
    /// row was deleted. Runs on the writer after COMMIT and before its next group.
    func committed(_ changes: some Sequence<(key: RowKey, blob: [UInt8]?)>) {
        guard isEnabled else { return }
        state.withLock { state in
            state.generation &+= 1
            for change in changes {
                if let blob = change.blob, blob.count <= blobBytesMax {
                    if let slot = state.index[change.key] {
                        state.bytes += blob.count - state.slots[slot].blob.count
                        state.slots[slot].blob = blob
                        evictWhileOverBytes(&state, keeping: slot)
                    } else {
                        insert(change.key, blob, into: &state)
                    }
                } else {
                    remove(change.key, from: &state)
                }
            }
        }
    }

    /// A failed group's rows: whatever the cache held for them is forgotten.
    func drop(_ keys: some Sequence<RowKey>) {
        state.withLock { state in
            state.generation &+= 1
            for key in keys { remove(key, from: &state) }
        }
    }

    var statistics: RowCacheStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.entries = state.index.count
            statistics.bytes = state.bytes
            statistics.entriesMax = entriesMax
            statistics.bytesMax = bytesMax
            return statistics
        }
    }

    // MARK: - Under the lock

    private func insert(_ key: RowKey, _ blob: [UInt8], into state: inout State) {
        let charged = blob.count + key.chargedBytes
        guard charged <= bytesMax else { return }
        let slot: Int
        if let reused = state.free.popLast() {
            slot = reused
            state.slots[slot] = Slot(key: key, blob: blob, referenced: false)
        } else if state.slots.count < entriesMax {
            slot = state.slots.count
            state.slots.append(Slot(key: key, blob: blob, referenced: false))
        } else {
            slot = victim(&state)
            evict(slot, from: &state)
            state.free.removeLast()  // `evict` freed exactly this slot
            state.slots[slot] = Slot(key: key, blob: blob, referenced: false)
        }
        state.index[key] = slot
        state.bytes += charged
        evictWhileOverBytes(&state, keeping: slot)
    }

    private func evictWhileOverBytes(_ state: inout State, keeping kept: Int) {
        while state.bytes > bytesMax, state.index.count > 1 {
            let slot = victim(&state)
            if slot == kept {
                state.slots[slot].referenced = false
                continue
            }
            evict(slot, from: &state)
        }
    }

    /// The CLOCK hand's next unmarked live slot, clearing marks as it passes.
    private func victim(_ state: inout State) -> Int {
        while true {
            let slot = state.hand
            state.hand = (state.hand + 1) % state.slots.count
            guard state.index[state.slots[slot].key] == slot else { continue }  // a free slot
            if state.slots[slot].referenced {
                state.slots[slot].referenced = false
                continue
            }
            return slot
        }
    }

    private func evict(_ slot: Int, from state: inout State) {
        state.statistics.evictions += 1
        release(slot, from: &state)
    }

    private func remove(_ key: RowKey, from state: inout State) {
        guard let slot = state.index[key] else { return }
        release(slot, from: &state)
    }

    private func release(_ slot: Int, from state: inout State) {
        let entry = state.slots[slot]
        state.index[entry.key] = nil
        state.bytes -= entry.blob.count + entry.key.chargedBytes
        state.slots[slot].blob = []
        state.free.append(slot)
    }
}

/// The row cache as /metrics and /status (`storage.row_cache`) show it.
public struct RowCacheStatistics: Sendable, Equatable, Codable {
    public var entries = 0
    public var bytes = 0
    public var entriesMax = 0
    public var bytesMax = 0
    public var hits = 0
    public var misses = 0
    public var evictions = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case entries, bytes, hits, misses, evictions
        case entriesMax = "entries_max"
        case bytesMax = "bytes_max"
    }
}
