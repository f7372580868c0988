import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// Clears the copies this node keeps of keys it no longer replicates, left behind when a
/// join moved partitions to the new member. `StrayCopyRule` decides each key from the
/// replicas' states: delete the copy (a replica holds it, or it was purged since), hand
/// it off to the replicas first (a recent write they missed) and then delete it, or wait (a
/// replica is silent).
/// Deletes are compare-and-deletes on the copy's digest (`PeerRequest.purge` to this node),
/// so a write that lands meanwhile stays.
///
/// Like `TombstonePurger`: one pass per anti-entropy tick scans at most `rowsPerPass` rows of
/// one partition this node does not replicate for every bucket (resuming where the last
/// pass stopped), and no pass runs while the ring changes.
final class StrayCopySweeper: Sendable {
    private let nodeID: String
    private let rings: RingView
    private let store: ReplicaStore
    private let router: ReplicaRouter
    private let registry: BucketRegistry
    private let graceMilliseconds: UInt64
    private let unreachable: @Sendable () -> Set<String>
    private let logger: Logger
    private let rowsPerPass = 500
    private let requestTimeoutMilliseconds = 5000
    private let cursor = Mutex<(partition: Int, after: (bucket: String, key: [UInt8])?)>((0, nil))
    private let running = Atomic<Bool>(false)
    private let removedCount = Atomic<Int>(0)
    private let handedOffCount = Atomic<Int>(0)

    init(
        nodeID: String, rings: RingView, store: ReplicaStore, router: ReplicaRouter, registry: BucketRegistry,
        graceMilliseconds: UInt64, unreachable: @escaping @Sendable () -> Set<String>, logger: Logger
    ) {
        self.nodeID = nodeID
        self.rings = rings
        self.store = store
        self.router = router
        self.registry = registry
        self.graceMilliseconds = graceMilliseconds
        self.unreachable = unreachable
        self.logger = logger
    }

    /// Stray copies deleted since start.
    var removed: Int { removedCount.load(ordering: .relaxed) }
    /// Stray copies merged into replicas that lacked them since start.
    var handedOff: Int { handedOffCount.load(ordering: .relaxed) }

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
        guard let (partition, after) = nextPosition(candidates: candidates(ring: ring)) else { return }
        let rows: [(bucket: String, key: [UInt8], blob: [UInt8])]
        do {
            rows = try store.scan(partition: partition, after: after, limit: rowsPerPass)
        } catch {
            logger.warning("stray copy sweep could not scan partition \(partition): \(error)")
            return
        }
        cursor.withLock { position in
            if let last = rows.last, rows.count == rowsPerPass {
                position = (partition, (last.bucket, last.key))
            } else {
                position = ((partition + 1) % ring.partitionCount, nil)
            }
        }
        for row in rows {
            let props = registry.props(for: row.bucket)
            let replicas = ring.preferenceList(partition: partition, n: min(props.n, ring.members.count))
            guard StrayCopyRule.isStray(node: nodeID, replicas: replicas), let copy = try? KeyState(decoding: row.blob) else {
                continue
            }
            await settle(bucket: row.bucket, key: row.key, copy: copy, replicas: replicas, mode: props.conflict)
        }
    }

    /// Partitions where some bucket may have a key this node does not replicate: those it
    /// is not a replica of for the smallest n any bucket uses.
    private func candidates(ring: Ring) -> [Int] {
        let smallestN = min(registry.all().map(\.props.n).min() ?? BucketProps.defaults.n, BucketProps.defaults.n)
        let n = min(smallestN, ring.members.count)
        return (0..<ring.partitionCount).filter { !ring.preferenceList(partition: $0, n: n).contains(nodeID) }
    }

    private func nextPosition(candidates: [Int]) -> (Int, (bucket: String, key: [UInt8])?)? {
        guard !candidates.isEmpty else { return nil }
        return cursor.withLock { position in
            if candidates.contains(position.partition) { return (position.partition, position.after) }
            let next = candidates.first { $0 > position.partition } ?? candidates[0]
            position = (next, nil)
            return (next, nil)
        }
    }

    private func settle(bucket: String, key: [UInt8], copy: KeyState, replicas: [String], mode: ConflictMode) async {
        let down = unreachable()
        var answers: [StrayCopyRule.ReplicaState] = []
        for replica in replicas {
            if !down.contains(replica), case .success(.state(let held)) = await call(replica, .fetch(bucket: bucket, key: key)) {
                answers.append(.held(held))
            } else {
                answers.append(.unknown)
            }
        }
        let decision = StrayCopyRule.decide(
            copy: copy, replicas: answers, mode: mode, nowMilliseconds: WallClock.nowMilliseconds(),
            graceMilliseconds: graceMilliseconds)
        switch decision {
        case .keep, .wait:
            return
        case .handOff(let lacking):
            var stored = 0
            for index in lacking {
                if case .success(.ack) = await call(replicas[index], .merge(bucket: bucket, key: key, state: copy, mode: mode)) {
                    stored += 1
                }
            }
            handedOffCount.add(stored, ordering: .relaxed)
            // An acknowledged merge is durable on the replica: the copy is redundant now.
            // If any merge failed, a later pass decides again.
            if stored == lacking.count { await delete(bucket: bucket, key: key, copy: copy) }
        case .delete:
            await delete(bucket: bucket, key: key, copy: copy)
        }
    }

    private func delete(bucket: String, key: [UInt8], copy: KeyState) async {
        let digest = MerkleTree.versionDigest(of: copy)
        if case .success(.ack) = await call(nodeID, .purge(bucket: bucket, key: key, digest: digest)) {
            removedCount.add(1, ordering: .relaxed)
        }
    }

    private func call(_ node: String, _ request: PeerRequest) async -> Result<PeerResponse, any Error> {
        await withCheckedContinuation { continuation in
            router.call(node, request, timeoutMilliseconds: requestTimeoutMilliseconds) { continuation.resume(returning: $0) }
        }
    }
}
