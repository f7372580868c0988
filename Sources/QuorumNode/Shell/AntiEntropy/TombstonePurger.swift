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
/// key is checked by one node, not n. A pass scans one page (500 rows, `PartitionPager`) of one
/// partition, resuming where the last pass stopped, one pass per anti-entropy tick: a full
/// sweep is slow by design, and a tombstone kept longer is only disk. No pass runs while the
/// ring changes. A replica that misses a purge keeps its tombstone; anti-entropy copies it
/// back to the others, which is safe, and a later pass retries.
final class TombstonePurger: Sendable {
    private let sweep: KeySweep
    private let purgedCount = Atomic<Int>(0)
    private let deferredCount = Atomic<Int>(0)

    init(sweep: KeySweep) {
        self.sweep = sweep
    }

    /// Tombstones removed from every replica since start (counted by the node that ran the check).
    var purged: Int { purgedCount.load(ordering: .relaxed) }
    /// Tombstones past their grace that stayed because a replica was unreachable or held another version.
    var deferred: Int { deferredCount.load(ordering: .relaxed) }

    /// Starts one pass over the partitions this node owns, unless one is still running.
    func tick() {
        sweep.tick("tombstone purge", partitions: { [nodeID = sweep.nodeID] in $0.partitions(ownedBy: nodeID) }) {
            [self] ring, partition, rows in
            let now = WallClock.nowMilliseconds()
            for row in rows {
                guard let state = try? KeyState(decoding: row.blob),
                    TombstonePurgeRule.decide(
                        state: state, nowMilliseconds: now, graceMilliseconds: sweep.graceMilliseconds, replicaDigests: [])
                        == .keep(.noReplicas)
                else { continue }
                let replicas = sweep.replicas(of: row.bucket, partition: partition, ring: ring)
                await purge(bucket: row.bucket, key: row.key, state: state, replicas: replicas, now: now)
            }
        }
    }

    private func purge(bucket: String, key: [UInt8], state: KeyState, replicas: [String], now: UInt64) async {
        // An absent state counts like a silent replica: neither confirms the tombstone.
        let digests = await sweep.states(bucket: bucket, key: key, replicas: replicas).map { answer in
            answer.flatMap { $0 }.map { MerkleTree.versionDigest(of: $0) }
        }
        guard TombstonePurgeRule.decide(
            state: state, nowMilliseconds: now, graceMilliseconds: sweep.graceMilliseconds, replicaDigests: digests) == .purge
        else {
            deferredCount.add(1, ordering: .relaxed)
            return
        }
        let digest = MerkleTree.versionDigest(of: state)
        var removed = 0
        for replica in replicas {
            if case .success(.ack) = await sweep.call(replica, .purge(bucket: bucket, key: key, digest: digest)) { removed += 1 }
        }
        if removed == replicas.count {
            purgedCount.add(1, ordering: .relaxed)
        } else {
            deferredCount.add(1, ordering: .relaxed)
        }
    }
}
