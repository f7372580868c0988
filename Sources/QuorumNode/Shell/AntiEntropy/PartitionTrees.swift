import Dispatch
import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// The live Merkle tree of every partition, over (bucket, key) → `StableHash.hash(encoded
/// state)`, kept in memory and updated on every committed write.
///
/// Every partition has one, not only those this node replicates: the ring changes as
/// nodes join and leave, and a node gaining or losing a partition exchanges it before
/// the change completes. A partition with no keys here costs an empty tree. `held`
/// (what the rings give this node) only chooses what `/status` reports.
///
/// Trees are built at start (and again whenever one is missing) from a paged scan of the
/// store on a background queue. A partition is usable for exchanges only once `ready`.
///
/// Writes that commit while a partition is being built are not lost: the scan spans
/// several read transactions, so it may have seen a key before or after such a write.
/// While building, `record` keeps the latest committed digest of each key written in a
/// `pending` table; when the scan ends, those digests replace whatever the scan saw (they
/// are the newest committed versions, since completions run in commit order), and only
/// then does the tree become ready. Every later write updates the tree in O(1).
final class PartitionTrees: Sendable {
    private enum Slot {
        case absent
        /// Being scanned; the newest digest of every key written meanwhile (nil: removed).
        case building(pending: [UInt64: UInt64?])
        case ready(MerkleTree)
    }

    let shape: MerkleShape
    /// Partitions this node holds a replica of now, in either ring.
    private let held: @Sendable () -> [Int]
    private let partitionCount: Int
    private let store: ReplicaStore
    private let slots: Mutex<[Slot]>
    private let rebuilds = Atomic<Int>(0)
    private let queue = DispatchQueue(label: "quorumkv.anti-entropy.trees")
    private let logger: Logger
    private let pageRows = 1000
    /// How long a finished scan waits for the completions of writes it saw (they run
    /// microseconds after their commit; a longer wait means the completion queue is stuck).
    private let settleWaitMilliseconds = 5000
    /// The last partition listed by segment (see `segmentKeys`), its lifetime and size bound.
    private let listing = Mutex<SegmentListing?>(nil)
    private let listingLifetimeMilliseconds: UInt64 = 2000
    private let listingRowsMax = 200_000

    init(partitionCount: Int, held: @escaping @Sendable () -> [Int], store: ReplicaStore, shape: MerkleShape, logger: Logger) {
        self.shape = shape
        self.store = store
        self.logger = logger
        self.held = held
        self.partitionCount = partitionCount
        slots = Mutex(Array(repeating: .absent, count: partitionCount))
    }

    /// Tree builds completed since start (the first build of each partition included).
    var rebuildCount: Int { rebuilds.load(ordering: .relaxed) }

    /// Schedules a build, on the background queue, of every partition without a tree
    /// (all of them at start, held ones first; after that, those whose build failed).
    func buildMissing() {
        let held = held()
        let order = held + (0..<partitionCount).filter { !held.contains($0) }
        let missing = slots.withLock { slots in
            order.filter { partition in
                guard case .absent = slots[partition] else { return false }
                slots[partition] = .building(pending: [:])
                return true
            }
        }
        guard !missing.isEmpty else { return }
        queue.async { [self] in
            for partition in missing { build(partition) }
        }
    }

    private func build(_ partition: Int) {
        do {
            let digests = try scanDigests(partition)
            // Read after the scan: writes it saw may still have their completion (and so
            // their `record`) to come, and must not be applied twice.
            finishBuild(partition, digests: digests, mark: store.writeGroupsStarted)
        } catch {
            logger.error("anti-entropy could not scan a partition to build its tree; retrying later",
                         metadata: ["partition": "\(partition)", "error": "\(error)"])
            slots.withLock { $0[partition] = .absent }
        }
    }

    private func scanDigests(_ partition: Int) throws -> [UInt64: UInt64] {
        var digests: [UInt64: UInt64] = [:]
        var after: (bucket: String, key: [UInt8])?
        while true {
            let rows = try store.scan(partition: partition, after: after, limit: pageRows)
            for row in rows {
                digests[StableHash.keyHash(bucket: row.bucket, key: row.key)] = StableHash.hash(row.blob)
            }
            guard rows.count == pageRows, let last = rows.last else { return digests }
            after = (last.bucket, last.key)
        }
    }

    /// Makes the tree from the scan and the writes recorded meanwhile, once the completions
    /// of every write group the scan could see have run (polled on the build queue, a
    /// millisecond apart, for at most `settleWaitMilliseconds`; past that the build is
    /// dropped and retried on a later tick).
    private func finishBuild(_ partition: Int, digests: [UInt64: UInt64], mark: Int, waited: Int = 0) {
        guard slots.withLock({ if case .building = $0[partition] { true } else { false } }) else { return }
        guard store.completionsReached(mark) else {
            guard waited < settleWaitMilliseconds else {
                logger.warning("a tree build gave up waiting for write completions; retrying later", metadata: ["partition": "\(partition)"])
                slots.withLock { $0[partition] = .absent }
                return
            }
            queue.asyncAfter(deadline: .now() + .milliseconds(1)) { [self] in
                finishBuild(partition, digests: digests, mark: mark, waited: waited + 1)
            }
            return
        }
        var digests = digests
        slots.withLock { slots in
            if case .building(let pending) = slots[partition] {
                for (keyHash, digest) in pending { digests[keyHash] = digest }
            }
            var tree = MerkleTree(shape: shape, entries: digests.map { (keyHash: $0.key, digest: $0.value) })
            tree.refresh()
            slots[partition] = .ready(tree)
        }
        rebuilds.add(1, ordering: .relaxed)
    }

    /// A committed write of a key: its digest went from `old` to `new` (nil: absent).
    /// Called in commit order (from the store's completions).
    func record(partition: Int, keyHash: UInt64, old: UInt64?, new: UInt64?) {
        guard partition >= 0, partition < partitionCount, old != new else { return }
        slots.withLock { slots in
            switch slots[partition] {
            case .absent:
                break  // the build that comes later scans this write
            case .building(var pending):
                slots[partition] = .absent  // drop the reference so `pending` is mutated in place
                pending[keyHash] = .some(new)
                slots[partition] = .building(pending: pending)
            case .ready(var tree):
                slots[partition] = .absent
                tree.update(keyHash: keyHash, old: old, new: new)
                slots[partition] = .ready(tree)
            }
        }
    }

    /// Runs `body` on the partition's ready tree; nil when it has none yet.
    func withTree<T: Sendable>(_ partition: Int, _ body: (inout MerkleTree) -> T) -> T? {
        guard partition >= 0, partition < partitionCount else { return nil }
        return slots.withLock { slots in
            guard case .ready(var tree) = slots[partition] else { return nil }
            slots[partition] = .absent
            defer { slots[partition] = .ready(tree) }
            return body(&tree)
        }
    }

    /// A copy of the partition's tree, for an exchange to compare against; nil if not ready.
    func snapshot(_ partition: Int) -> MerkleTree? {
        withTree(partition) { tree in
            tree.refresh()
            return tree
        }
    }

    /// Root hash (16 hex digits) of each held partition whose tree is ready, keyed by partition.
    func roots() -> [String: String] {
        var roots: [String: String] = [:]
        for partition in held() {
            if let root = withTree(partition, { $0.root }) {
                let hex = String(root, radix: 16)
                roots[String(partition)] = String(repeating: "0", count: 16 - hex.count) + hex
            }
        }
        return roots
    }

    var readyCount: Int {
        slots.withLock { slots in
            held().filter { if case .ready = slots[$0] { return true } else { return false } }.count
        }
    }

    /// The (bucket, key, digest) entries of `segments` of a partition: what a peer's
    /// `.segmentKeys` asks for, and the local side of the same comparison.
    ///
    /// An exchange over a partition that differs a lot (a joiner's, an emptied replica's)
    /// asks for its segments in many requests; scanning the partition for each would cost
    /// O(m) every time. So one scan lists every segment and the listing answers requests
    /// for that partition for `listingLifetimeMilliseconds` — the staleness an exchange
    /// already accepts (a key written meanwhile is found by the next exchange). Partitions
    /// over `listingRowsMax` rows are scanned per request instead, bounding the memory.
    func segmentKeys(partition: Int, segments: [Int]) throws -> [SegmentKey] {
        let now = WallClock.nowMilliseconds()
        if let cached = listing.withLock({ $0 }), cached.partition == partition,
            now &- cached.takenMilliseconds < listingLifetimeMilliseconds
        {
            return segments.flatMap { cached.bySegment[$0] ?? [] }
        }
        var bySegment: [Int: [SegmentKey]] = [:]
        var rowsSeen = 0
        let wanted = Set(segments)
        var entries: [SegmentKey] = []
        var after: (bucket: String, key: [UInt8])?
        while true {
            let rows = try store.scan(partition: partition, after: after, limit: pageRows)
            for row in rows {
                let segment = shape.segment(bucket: row.bucket, key: row.key)
                let entry = SegmentKey(bucket: row.bucket, key: row.key, digest: StableHash.hash(row.blob))
                if wanted.contains(segment) { entries.append(entry) }
                if rowsSeen < listingRowsMax { bySegment[segment, default: []].append(entry) }
                rowsSeen += 1
            }
            guard rows.count == pageRows, let last = rows.last else { break }
            after = (last.bucket, last.key)
        }
        if rowsSeen <= listingRowsMax {
            listing.withLock { $0 = SegmentListing(partition: partition, takenMilliseconds: now, bySegment: bySegment) }
        }
        return entries
    }
}

/// One partition's keys by segment, as a scan found them at `takenMilliseconds`.
private struct SegmentListing: Sendable {
    var partition: Int
    var takenMilliseconds: UInt64
    var bySegment: [Int: [SegmentKey]]
}
