/// Tracks, per key, which writes were acknowledged when, and judges every read against them.
///
/// A read is **stale** when it returns a version older than a write that was acknowledged
/// before the read began — precisely: some write W' of the key was acknowledged before the
/// read started and W' itself started after the returned version's write was acknowledged.
/// (Writes that overlapped in time are concurrent; last-writer-wins may order them either
/// way, so returning either is not stale.)
///
/// It also keeps the PBS-style figure: for each read, how long after the key's latest
/// acknowledged write it began, binned, and whether it was fresh.
///
/// Confined to the load generator's event loop. Memory is bounded: a ring of the last
/// `ringSize` versions per key (32 up to 200 000 records, 4 past that, so 1 million records
/// cost about 70 MB here), and for versions pushed out of the ring only the latest
/// acknowledgement among them. A read returning such a version is judged with that bound:
/// it counts as stale only when it certainly was, never by guesswork.
public final class StalenessTracker: @unchecked Sendable {
    /// Versions remembered exactly per key.
    public let ringSize: Int
    /// Upper edges of the PBS bins, in milliseconds after the key's latest acknowledged write.
    public static let pbsEdgesMs: [Double] = [1, 2, 5, 10, 20, 50, 100, 1_000]

    public struct Snapshot: Sendable {
        /// The latest start time among the key's writes acknowledged before the read began.
        var maxAckedWriteStart: Int64
        /// When the key's most recent acknowledgement arrived.
        var lastAck: Int64
        var startedAt: Int64
    }

    public let recordCount: Int
    private var nextSequence: [UInt32]
    private var maxAckedWriteStart: [Int64]
    private var lastAck: [Int64]
    /// Ring per key: sequence numbers and their acknowledgement times (`pending` until acked).
    private var ringSequence: [UInt32]
    private var ringAck: [Int64]
    private var ringNext: [UInt8]
    /// Per key: the latest acknowledgement of any version pushed out of the ring (an upper
    /// bound on the acknowledgement time of each of them).
    private var evictedMaxAck: [Int64]
    static let pending = Int64.max
    /// Times before the run: the preload's writes start and are acknowledged then.
    static let preloadStart: Int64 = -2
    static let preloadAck: Int64 = -1

    public init(recordCount: Int) {
        self.recordCount = recordCount
        ringSize = recordCount <= 200_000 ? 32 : 4
        nextSequence = [UInt32](repeating: 1, count: recordCount)
        maxAckedWriteStart = [Int64](repeating: Self.preloadStart, count: recordCount)
        lastAck = [Int64](repeating: Self.preloadAck, count: recordCount)
        ringSequence = [UInt32](repeating: 0, count: recordCount * ringSize)
        ringAck = [Int64](repeating: Self.preloadAck, count: recordCount * ringSize)
        ringNext = [UInt8](repeating: 0, count: recordCount)
        evictedMaxAck = [Int64](repeating: Self.preloadAck, count: recordCount)
    }

    /// A new write of `key`: its sequence number, remembered as not yet acknowledged.
    public func beginWrite(key: Int) -> UInt32 {
        let sequence = nextSequence[key]
        nextSequence[key] = sequence &+ 1
        let slot = key * ringSize + Int(ringNext[key])
        if ringAck[slot] != Self.pending, ringAck[slot] > evictedMaxAck[key] { evictedMaxAck[key] = ringAck[slot] }
        ringSequence[slot] = sequence
        ringAck[slot] = Self.pending
        ringNext[key] = UInt8((Int(ringNext[key]) + 1) % ringSize)
        return sequence
    }

    public func writeAcknowledged(key: Int, sequence: UInt32, startedAt: Int64, at now: Int64) {
        let base = key * ringSize
        var inRing = false
        for slot in base..<(base + ringSize) where ringSequence[slot] == sequence {
            ringAck[slot] = now
            inRing = true
        }
        // Pushed out while still in flight: it now bounds the evicted versions' acks.
        if !inRing, now > evictedMaxAck[key] { evictedMaxAck[key] = now }
        if startedAt > maxAckedWriteStart[key] { maxAckedWriteStart[key] = startedAt }
        if now > lastAck[key] { lastAck[key] = now }
    }

    /// A write that failed stays "not acknowledged": it may still be stored on some replicas
    /// (as in Dynamo), and a read that returns it is not stale.
    public func writeFailed(key: Int, sequence: UInt32) {}

    public func snapshot(key: Int, at now: Int64) -> Snapshot {
        Snapshot(maxAckedWriteStart: maxAckedWriteStart[key], lastAck: lastAck[key], startedAt: now)
    }

    /// Whether a read that began at `snapshot` and returned `sequence` (nil: no value, which
    /// is older than everything) was stale.
    public func isStale(key: Int, returned sequence: UInt32?, snapshot: Snapshot) -> Bool {
        let returnedAck: Int64
        if let sequence {
            let base = key * ringSize
            var found: Int64?
            for slot in base..<(base + ringSize) where ringSequence[slot] == sequence {
                found = ringAck[slot]
            }
            if let found {
                returnedAck = found
            } else if sequence >= nextSequence[key] {
                returnedAck = Self.pending  // from a later run of another harness; never stale
            } else if sequence == 0 && evictedMaxAck[key] == Self.preloadAck {
                returnedAck = Self.preloadAck  // the preloaded version
            } else {
                returnedAck = evictedMaxAck[key]  // pushed out: at most this
            }
        } else {
            returnedAck = Int64.min
        }
        return snapshot.maxAckedWriteStart > returnedAck
    }

    /// The PBS bin of a read: by how long after the key's latest acknowledged write it began
    /// (the last bin is "at least the last edge"); nil for keys not written during the run.
    public static func pbsBin(snapshot: Snapshot) -> Int? {
        guard snapshot.lastAck >= 0 else { return nil }
        let elapsedMs = Double(snapshot.startedAt - snapshot.lastAck) / 1_000
        for (index, edge) in pbsEdgesMs.enumerated() where elapsedMs < edge { return index }
        return pbsEdgesMs.count
    }
}
