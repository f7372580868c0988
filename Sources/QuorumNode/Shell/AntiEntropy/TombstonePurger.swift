import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// Removes tombstones for good once `TombstonePurgeRule` allows it: every sibling a
/// tombstone, the newest older than the grace period, and every replica holding exactly
/// this version. Then each replica deletes the state with a compare-and-delete on the
/// version digest (`PeerRequest.purge`), so a write that arrived meanwhile survives.
///
/// Each node looks after the partitions it owns (first on their preference lists), so a
/// key is checked by one node, not n. A pass scans at most `rowsPerPass` rows of one
/// partition, resuming where the last pass stopped, one pass per anti-entropy tick: a full
/// sweep is slow by design, and a tombstone kept longer is only disk. No pass runs while the
/// ring changes. A replica that misses a purge keeps its tombstone; anti-entropy copies it
/// back to the others, which is safe, and a later pass retries.
final class TombstonePurger: Sendable {
    private let nodeID: String
    private let rings: RingView
    private let store: ReplicaStore
    private let router: ReplicaRouter
    private let registry: BucketRegistry
    private let graceMilliseconds: UInt64
    /// Peers believed down: their digest counts as unknown without waiting for a timeout.
    private let unreachable: @Sendable () -> Set<String>
    private let logger: Logger
    private let rowsPerPass = 500
    private let requestTimeoutMilliseconds = 5000
    private let cursor = Mutex<(partition: Int, after: (bucket: String, key: [UInt8])?)>((0, nil))
    private let running = Atomic<Bool>(false)
    private let purgedCount = Atomic<Int>(0)
    private let deferredCount = Atomic<Int>(0)

    init(
        nodeID: String, rings: RingView, store: ReplicaStore, router: ReplicaRouter, registry: BucketRegistry,
        graceMilliseconds: UInt64, unreachable: @escaping @Sendable () -> Set<String>, logger: Logger
    ) {
        self.unreachable = unreachable
        self.nodeID = nodeID
        self.rings = rings
        self.store = store
        self.router = router
        self.registry = registry
        self.graceMilliseconds = graceMilliseconds
        self.logger = logger
    }

    /// Tombstones removed from every replica since start (counted by the node that ran the check).
    var purged: Int { purgedCount.load(ordering: .relaxed) }
    /// Tombstones past their grace that stayed because a replica was unreachable or held another version.
    var deferred: Int { deferredCount.load(ordering: .relaxed) }

    /// Starts one pass unless one is still running.
    func tick() {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        Task {
            await pass()
            running.store(false, ordering: .releasing)
        }
    }

    private func pass() async {
        let ring = rings.serving
        guard ring == rings.target else { return }
        let owned = ring.partitions(ownedBy: nodeID)
        guard let (partition, after) = nextPosition(owned: owned) else { return }
        let rows: [(bucket: String, key: [UInt8], blob: [UInt8])]
        do {
            rows = try store.scan(partition: partition, after: after, limit: rowsPerPass)
        } catch {
            logger.warning("tombstone purge could not scan partition \(partition): \(error)")
            return
        }
        cursor.withLock { position in
            if rows.count < rowsPerPass || rows.isEmpty {
                position = ((partition + 1) % ring.partitionCount, nil)
            } else {
                position = (partition, (rows.last!.bucket, rows.last!.key))
            }
        }
        let now = WallClock.nowMilliseconds()
        for row in rows {
            guard let state = try? KeyState(decoding: row.blob),
                TombstonePurgeRule.decide(state: state, nowMilliseconds: now, graceMilliseconds: graceMilliseconds, replicaDigests: [])
                    == .keep(.noReplicas)
            else { continue }
            await purge(bucket: row.bucket, key: row.key, state: state, replicas: replicas(of: row.bucket, partition: partition, ring: ring), now: now)
        }
    }

    /// The next owned partition at or after the cursor, with where to resume in it.
    private func nextPosition(owned: [Int]) -> (Int, (bucket: String, key: [UInt8])?)? {
        guard !owned.isEmpty else { return nil }
        return cursor.withLock { position in
            if owned.contains(position.partition) { return (position.partition, position.after) }
            let next = owned.first { $0 > position.partition } ?? owned[0]
            position = (next, nil)
            return (next, nil)
        }
    }

    private func replicas(of bucket: String, partition: Int, ring: Ring) -> [String] {
        ring.preferenceList(partition: partition, n: min(registry.props(for: bucket).n, ring.members.count))
    }

    private func purge(bucket: String, key: [UInt8], state: KeyState, replicas: [String], now: UInt64) async {
        let down = unreachable()
        var digests: [UInt64?] = []
        for replica in replicas {
            if !down.contains(replica), case .success(.state(let held)) = await call(replica, .fetch(bucket: bucket, key: key)) {
                digests.append(held.map { MerkleTree.versionDigest(of: $0) })
            } else {
                digests.append(nil)
            }
        }
        guard TombstonePurgeRule.decide(state: state, nowMilliseconds: now, graceMilliseconds: graceMilliseconds, replicaDigests: digests)
            == .purge
        else {
            deferredCount.add(1, ordering: .relaxed)
            return
        }
        let digest = MerkleTree.versionDigest(of: state)
        var removed = 0
        for replica in replicas {
            if case .success(.ack) = await call(replica, .purge(bucket: bucket, key: key, digest: digest)) { removed += 1 }
        }
        if removed == replicas.count {
            purgedCount.add(1, ordering: .relaxed)
        } else {
            deferredCount.add(1, ordering: .relaxed)
        }
    }

    private func call(_ node: String, _ request: PeerRequest) async -> Result<PeerResponse, any Error> {
        await withCheckedContinuation { continuation in
            router.call(node, request, timeoutMilliseconds: requestTimeoutMilliseconds) { continuation.resume(returning: $0) }
        }
    }
}
