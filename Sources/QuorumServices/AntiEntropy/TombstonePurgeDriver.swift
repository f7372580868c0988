import QuorumCore

/// Removes tombstones for good once `TombstonePurgeRule` allows it (versions below their
/// bucket's truncation point count as tombstones): every sibling a tombstone, the newest older than the grace period, and every replica holding exactly
/// this version. Then each replica deletes the state with a compare-and-delete on the
/// version digest (`PeerRequest.purge`), so a write that arrived meanwhile survives.
///
/// Each node looks after the partitions it owns (first on their preference lists), so a
/// key is checked by one node, not n. A pass scans one page (`AntiEntropyBounds.rowsPerPage`)
/// of one partition, resuming where the last pass stopped, one pass per anti-entropy tick:
/// a full sweep is slow by design, and a tombstone kept longer is only disk. No pass runs
/// while the ring changes. A replica that misses a purge keeps its tombstone; anti-entropy
/// copies it back to the others, which is safe, and a later pass retries.
///
/// Typed keys (counters, sets, maps; issue #16) are never purged, not even one reset to no
/// members: their header's causal context is what makes removals stick. A delta still in
/// flight (a hint, a late merge, a replica back from a partition) carries dots the context
/// covers; joined into a key whose context was purged, those dots would count as new and
/// bring removed elements or old increments back. What a reset typed key keeps is its
/// header (context and dedupe window), bounded by `Limits.typedActorsMax` and
/// `typedOperationIDsMax`, not by how many elements it ever held.
///
/// Strong keys (issue #17) are never purged either, not even one whose latest commit is a
/// delete: that commit's ballot is what orders the commits after it. A replica that lost
/// it would answer a prepare with an older commit (or none), and a compare-and-set
/// conditioned on "absent" or on the delete's ETag would be judged against the wrong
/// value. What a deleted strong key keeps is one small record.
///
/// Runs on its executor, like the `AntiEntropyDriver` whose ticks drive it.
public final class TombstonePurgeDriver {
    /// Tombstones removed from every replica since start (counted by the node that ran the check).
    public private(set) var purged = 0
    /// Of `purged`, the states that were expired versions (rather than deletes) when removed.
    public private(set) var expiredPurged = 0
    /// Tombstones past their grace that stayed because a replica was unreachable or held another version.
    public private(set) var deferred = 0
    private let sweep: KeySweep
    private let clock: any ServiceClock
    private let faults: FaultPoints

    public init(
        nodeID: String, bounds: AntiEntropyBounds = .defaults, storage: any ReplicaStorage, replicas: any ReplicaCaller,
        context: any AntiEntropyContext, clock: any ServiceClock, faults: FaultPoints = .inert
    ) {
        sweep = KeySweep("tombstone purge", nodeID: nodeID, bounds: bounds, storage: storage, replicas: replicas, context: context)
        self.clock = clock
        self.faults = faults
    }

    /// A pass is working through its page.
    public var isRunning: Bool { sweep.isRunning }

    /// Starts one pass over the next page of the partitions this node owns, unless one is
    /// still running.
    public func tick() {
        let nodeID = sweep.nodeID
        sweep.tick(partitions: { $0.partitions(ownedBy: nodeID) }) { [self] ring, partition, rows, done in
            let now = clock.nowMilliseconds()
            let grace = sweep.context.tombstoneGraceMilliseconds
            let candidates: [(row: StoredRow, state: KeyState)] = rows.compactMap { row in
                // Typed keys are never purged (see the type's doc), nor strong keys.
                guard !TypedHeader.isTypedHeader(row.blob), !StrongRecord.isStrongRecord(row.blob) else { return nil }
                // A truncated bucket's old versions count as the tombstones replicas answer them as.
                guard let stored = try? KeyState(decoding: row.blob) else { return nil }
                let state = stored.truncated(before: sweep.context.truncationPoint(for: row.bucket))
                guard
                    TombstonePurgeRule.decide(state: state, nowMilliseconds: now, graceMilliseconds: grace, replicaDigests: [])
                        == .keep(.noReplicas)
                else { return nil }
                return (row, state)
            }
            BoundedSteps.run(count: candidates.count, step: { [self] index, finished in
                let (row, state) = candidates[index]
                var replicas = sweep.replicas(of: row.bucket, partition: partition, ring: ring)
                if faults.has(.purgeAsksOnlyItself) { replicas = [sweep.nodeID] }  // the deliberate bug
                purge(bucket: row.bucket, key: row.key, state: state, replicas: replicas, now: now, done: finished)
            }, done: done)
        }
    }

    private func purge(bucket: String, key: [UInt8], state: KeyState, replicas: [String], now: UInt64, done: @escaping () -> Void) {
        sweep.states(bucket: bucket, key: key, replicas: replicas) { [self] answers in
            // An absent state counts like a silent replica: neither confirms the tombstone.
            // Compared in stripped form: a replica may hold an expired version in full or stripped.
            let digests = answers.map { answer in
                answer.flatMap { $0 }.map { TombstonePurgeRule.purgeDigest(of: $0, nowMilliseconds: now) }
            }
            let grace = sweep.context.tombstoneGraceMilliseconds
            guard TombstonePurgeRule.decide(state: state, nowMilliseconds: now, graceMilliseconds: grace, replicaDigests: digests)
                == .purge
            else {
                deferred += 1
                return done()
            }
            let digest = TombstonePurgeRule.purgeDigest(of: state, nowMilliseconds: now)
            let expired = state.siblings.contains { $0.expiry.deadlineMilliseconds != nil }
            var removed = 0
            BoundedSteps.run(count: replicas.count, step: { [self] index, finished in
                sweep.call(replicas[index], .purge(bucket: bucket, key: key, digest: digest)) { response in
                    if response == .ack { removed += 1 }
                    finished()
                }
            }, done: { [self] in
                if removed == replicas.count {
                    purged += 1
                    if expired { expiredPurged += 1 }
                } else {
                    deferred += 1
                }
                done()
            })
        }
    }
}
