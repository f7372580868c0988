import QuorumCore

/// Clears the copies this node keeps of keys it no longer replicates, left behind when a
/// join moved partitions to the new member. `StrayCopyRule` decides each key from the
/// replicas' states: delete the copy (a replica holds it, or it was purged since), hand
/// it off to the replicas first (a recent write they missed) and then delete it, or wait
/// (a replica is silent). Deletes are compare-and-deletes on the copy's digest
/// (`PeerRequest.purge` to this node), so a write that lands meanwhile stays.
///
/// Like `TombstonePurgeDriver`: one pass per anti-entropy tick scans one page of one
/// partition this node does not replicate for every bucket (resuming where the last pass
/// stopped), and no pass runs while the ring changes.
public final class StrayCopyDriver {
    /// Stray copies deleted since start.
    public private(set) var removed = 0
    /// Stray copies merged into replicas that lacked them since start.
    public private(set) var handedOff = 0
    private let sweep: KeySweep
    private let clock: any ServiceClock

    public init(
        nodeID: String, bounds: AntiEntropyBounds = .defaults, storage: any ReplicaStorage, replicas: any ReplicaCaller,
        context: any AntiEntropyContext, clock: any ServiceClock
    ) {
        sweep = KeySweep("stray copy sweep", nodeID: nodeID, bounds: bounds, storage: storage, replicas: replicas, context: context)
        self.clock = clock
    }

    /// A pass is working through its page.
    public var isRunning: Bool { sweep.isRunning }

    /// Starts one pass unless one is still running.
    public func tick() {
        sweep.tick(partitions: { [self] in candidates(ring: $0) }) { [self] ring, partition, rows, done in
            let strays: [(row: StoredRow, copy: KeyState, replicas: [String])] = rows.compactMap { row in
                let replicas = sweep.replicas(of: row.bucket, partition: partition, ring: ring)
                guard StrayCopyRule.isStray(node: sweep.nodeID, replicas: replicas), let copy = try? KeyState(decoding: row.blob)
                else { return nil }
                return (row, copy, replicas)
            }
            BoundedSteps.run(count: strays.count, step: { [self] index, finished in
                let stray = strays[index]
                settle(bucket: stray.row.bucket, key: stray.row.key, copy: stray.copy, replicas: stray.replicas, done: finished)
            }, done: done)
        }
    }

    /// Partitions where some bucket may have a key this node does not replicate: those it
    /// is not a replica of for the smallest n any bucket uses.
    private func candidates(ring: Ring) -> [Int] {
        let n = min(sweep.context.replicasMin, ring.members.count)
        return (0..<ring.partitionCount).filter { !ring.preferenceList(partition: $0, n: n).contains(sweep.nodeID) }
    }

    private func settle(bucket: String, key: [UInt8], copy: KeyState, replicas: [String], done: @escaping () -> Void) {
        let mode = sweep.context.props(for: bucket).conflict
        sweep.states(bucket: bucket, key: key, replicas: replicas) { [self] answers in
            let states = answers.map { answer in answer.map { StrayCopyRule.ReplicaState.held($0) } ?? .unknown }
            let decision = StrayCopyRule.decide(
                copy: copy, replicas: states, mode: mode, nowMilliseconds: clock.nowMilliseconds(),
                graceMilliseconds: sweep.context.tombstoneGraceMilliseconds)
            switch decision {
            case .keep, .wait:
                done()
            case .handOff(let lacking):
                var stored = 0
                BoundedSteps.run(count: lacking.count, step: { [self] index, finished in
                    sweep.call(replicas[lacking[index]], .merge(bucket: bucket, key: key, state: copy, mode: mode)) { response in
                        if response == .ack { stored += 1 }
                        finished()
                    }
                }, done: { [self] in
                    handedOff += stored
                    // An acknowledged merge is durable on the replica: the copy is redundant now.
                    // If any merge failed, a later pass decides again.
                    guard stored == lacking.count else { return done() }
                    delete(bucket: bucket, key: key, copy: copy, done: done)
                })
            case .delete:
                delete(bucket: bucket, key: key, copy: copy, done: done)
            }
        }
    }

    private func delete(bucket: String, key: [UInt8], copy: KeyState, done: @escaping () -> Void) {
        let digest = MerkleTree.versionDigest(of: copy)
        sweep.call(sweep.nodeID, .purge(bucket: bucket, key: key, digest: digest)) { [self] response in
            if response == .ack { removed += 1 }
            done()
        }
    }
}
