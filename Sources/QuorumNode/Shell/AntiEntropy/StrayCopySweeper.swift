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
/// Like `TombstonePurger`: one pass per anti-entropy tick scans one page (500 rows) of
/// one partition this node does not replicate for every bucket (resuming where the last
/// pass stopped), and no pass runs while the ring changes.
final class StrayCopySweeper: Sendable {
    private let sweep: KeySweep
    private let removedCount = Atomic<Int>(0)
    private let handedOffCount = Atomic<Int>(0)

    init(sweep: KeySweep) {
        self.sweep = sweep
    }

    /// Stray copies deleted since start.
    var removed: Int { removedCount.load(ordering: .relaxed) }
    /// Stray copies merged into replicas that lacked them since start.
    var handedOff: Int { handedOffCount.load(ordering: .relaxed) }

    /// Starts one pass unless one is still running.
    func tick() {
        sweep.tick("stray copy sweep", partitions: { [self] in candidates(ring: $0) }) { [self] ring, partition, rows in
            for row in rows {
                let replicas = sweep.replicas(of: row.bucket, partition: partition, ring: ring)
                guard StrayCopyRule.isStray(node: sweep.nodeID, replicas: replicas), let copy = try? KeyState(decoding: row.blob)
                else { continue }
                await settle(bucket: row.bucket, key: row.key, copy: copy, replicas: replicas)
            }
        }
    }

    /// Partitions where some bucket may have a key this node does not replicate: those it
    /// is not a replica of for the smallest n any bucket uses.
    private func candidates(ring: Ring) -> [Int] {
        let smallestN = min(sweep.registry.all().map(\.props.n).min() ?? BucketProps.defaults.n, BucketProps.defaults.n)
        let n = min(smallestN, ring.members.count)
        return (0..<ring.partitionCount).filter { !ring.preferenceList(partition: $0, n: n).contains(sweep.nodeID) }
    }

    private func settle(bucket: String, key: [UInt8], copy: KeyState, replicas: [String]) async {
        let mode = sweep.registry.props(for: bucket).conflict
        let answers = await sweep.states(bucket: bucket, key: key, replicas: replicas).map { answer in
            answer.map { StrayCopyRule.ReplicaState.held($0) } ?? .unknown
        }
        let decision = StrayCopyRule.decide(
            copy: copy, replicas: answers, mode: mode, nowMilliseconds: WallClock.nowMilliseconds(),
            graceMilliseconds: sweep.graceMilliseconds)
        switch decision {
        case .keep, .wait:
            return
        case .handOff(let lacking):
            var stored = 0
            for index in lacking {
                if case .success(.ack) = await sweep.call(replicas[index], .merge(bucket: bucket, key: key, state: copy, mode: mode)) {
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
        if case .success(.ack) = await sweep.call(sweep.nodeID, .purge(bucket: bucket, key: key, digest: digest)) {
            removedCount.add(1, ordering: .relaxed)
        }
    }
}
