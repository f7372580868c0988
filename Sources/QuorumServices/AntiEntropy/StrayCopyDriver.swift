import QuorumCore

/// Clears the copies this node keeps of keys it no longer replicates, left behind when a
/// join moved partitions to the new member. `StrayCopyRule` decides each key from the
/// replicas' states: delete the copy (a replica holds it, or it was purged since), hand
/// it off to the replicas first (a recent write they missed) and then delete it, or wait
/// (a replica is silent). Deletes are compare-and-deletes on the copy's digest
/// (`PeerRequest.purge` to this node), so a write that lands meanwhile stays. A typed
/// key's copy moves whole (`TypedStrayCopyRule`): handed off as a full state, and deleted
/// with its member rows only once a replica holds everything it has. A strong key's copy
/// moves as its commit (`StrongStrayCopyRule`), learned by the replicas' commit step.
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

    /// What a stray row holds, as the pass settles it.
    private enum Copy {
        case versions(KeyState)
        case typed
        case strong(PaxosCommit)
    }

    /// Starts one pass unless one is still running.
    public func tick() {
        sweep.tick(partitions: { [self] in candidates(ring: $0) }) { [self] ring, partition, rows, done in
            let strays: [(row: StoredRow, copy: Copy, replicas: [String])] = rows.compactMap { row in
                let replicas = sweep.replicas(of: row.bucket, partition: partition, ring: ring)
                guard StrayCopyRule.isStray(node: sweep.nodeID, replicas: replicas) else { return nil }
                if TypedHeader.isTypedHeader(row.blob) { return (row, .typed, replicas) }
                if StrongRecord.isStrongRecord(row.blob) {
                    guard let commit = try? StrongRecord.decode(row.blob) else { return nil }
                    return (row, .strong(commit), replicas)
                }
                guard let copy = try? KeyState(decoding: row.blob) else { return nil }
                return (row, .versions(copy), replicas)
            }
            BoundedSteps.run(count: strays.count, step: { [self] index, finished in
                let stray = strays[index]
                let digest = StableHash.hash(stray.row.blob)
                switch stray.copy {
                case .versions(let copy):
                    settle(bucket: stray.row.bucket, key: stray.row.key, copy: copy, replicas: stray.replicas, done: finished)
                case .typed:
                    settleTyped(
                        bucket: stray.row.bucket, key: stray.row.key, digest: digest, replicas: stray.replicas, done: finished)
                case .strong(let commit):
                    settleStrong(
                        bucket: stray.row.bucket, key: stray.row.key, copy: commit, digest: digest, replicas: stray.replicas,
                        done: finished)
                }
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
                // An acknowledged merge is durable on the replica: the copy is redundant then.
                handOff(
                    .merge(bucket: bucket, key: key, state: copy, mode: mode), to: lacking.map { replicas[$0] },
                    stored: { $0 == .ack }, thenDelete: (bucket, key, MerkleTree.versionDigest(of: copy)), done: done)
            case .delete:
                delete(bucket: bucket, key: key, digest: MerkleTree.versionDigest(of: copy), done: done)
            }
        }
    }

    /// A typed key's stray copy (`TypedStrayCopyRule`): its whole state and each replica's
    /// are fetched; it is handed off whole (a full-state join) where lacking, and deleted,
    /// members and all, once a replica holds it. The delete compares the header's digest
    /// as scanned (`digest`), so a write that reached the copy since keeps it for a later pass.
    private func settleTyped(bucket: String, key: [UInt8], digest: UInt64, replicas: [String], done: @escaping () -> Void) {
        let fetch = PeerRequest.typedFetch(bucket: bucket, key: key, members: .all)
        sweep.call(sweep.nodeID, fetch) { [self] response in
            guard case .typed(let held)? = response, let copy = held else { return done() }
            let down = sweep.context.unreachable()
            var answers = [TypedState??](repeating: nil, count: replicas.count)
            BoundedSteps.run(count: replicas.count, step: { [self] index, finished in
                guard !down.contains(replicas[index]) else { return finished() }
                sweep.call(replicas[index], fetch) { response in
                    if case .typed(let state)? = response { answers[index] = .some(state) }
                    finished()
                }
            }, done: { [self] in
                switch TypedStrayCopyRule.decide(copy: copy, replicas: answers) {
                case .keep, .wait:
                    done()
                case .delete:
                    delete(bucket: bucket, key: key, digest: digest, done: done)
                case .handOff(let lacking):
                    handOff(
                        .typedMerge(bucket: bucket, key: key, state: copy, isFull: true), to: lacking.map { replicas[$0] },
                        stored: { $0 == .ack }, thenDelete: (bucket, key, digest), done: done)
                }
            })
        }
    }

    /// A strong key's stray copy (`StrongStrayCopyRule`): each replica's latest commit is
    /// fetched; the copy's commit is handed to those that answered without it or an later
    /// one (`.paxosCommit`: their acceptor's commit step, which keeps the later ballot),
    /// and the `kv` row is deleted once a replica holds it (compare-and-delete on the row's
    /// digest as scanned). The key's Paxos row, this node's old votes, stays: dropping a
    /// promise is never safe, keeping one only refuses more.
    private func settleStrong(
        bucket: String, key: [UInt8], copy: PaxosCommit, digest: UInt64, replicas: [String], done: @escaping () -> Void
    ) {
        let down = sweep.context.unreachable()
        var answers = [PaxosCommit??](repeating: nil, count: replicas.count)
        BoundedSteps.run(count: replicas.count, step: { [self] index, finished in
            guard !down.contains(replicas[index]) else { return finished() }
            sweep.call(replicas[index], .strongFetch(bucket: bucket, key: key)) { response in
                if case .strongCommit(let commit)? = response { answers[index] = .some(commit) }
                finished()
            }
        }, done: { [self] in
            switch StrongStrayCopyRule.decide(copy: copy, replicas: answers) {
            case .keep, .wait:
                done()
            case .delete:
                delete(bucket: bucket, key: key, digest: digest, done: done)
            case .handOff(let lacking):
                handOff(
                    .paxosCommit(bucket: bucket, key: key, commit: copy), to: lacking.map { replicas[$0] },
                    stored: { if case .paxos(.committed)? = $0 { true } else { false } }, thenDelete: (bucket, key, digest),
                    done: done)
            }
        })
    }

    /// Sends the copy to the replicas lacking it, then deletes this node's copy once every
    /// one stored it; if any did not, a later pass decides again.
    private func handOff(
        _ request: PeerRequest, to nodes: [String], stored isStored: @escaping (PeerResponse?) -> Bool,
        thenDelete row: (bucket: String, key: [UInt8], digest: UInt64), done: @escaping () -> Void
    ) {
        var stored = 0
        BoundedSteps.run(count: nodes.count, step: { [self] index, finished in
            sweep.call(nodes[index], request) { response in
                if isStored(response) { stored += 1 }
                finished()
            }
        }, done: { [self] in
            handedOff += stored
            guard stored == nodes.count else { return done() }
            delete(bucket: row.bucket, key: row.key, digest: row.digest, done: done)
        })
    }

    /// Compare-and-delete of this node's copy on `digest` (of the stored bytes).
    private func delete(bucket: String, key: [UInt8], digest: UInt64, done: @escaping () -> Void) {
        sweep.call(sweep.nodeID, .purge(bucket: bucket, key: key, digest: digest)) { [self] response in
            if response == .ack { removed += 1 }
            done()
        }
    }
}
