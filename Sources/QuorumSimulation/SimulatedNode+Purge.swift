import QuorumCore

/// Tombstone purge, as the node's `TombstonePurger` runs it on each anti-entropy tick: one
/// pass over (up to `rowsPerPass` rows of) one partition this node owns, resuming where the
/// last stopped; for each state `TombstonePurgeRule` may allow, ask every replica for its
/// version, and when all hold exactly this one, send each a compare-and-delete.
extension SimulatedNode {
    static let purgeRowsPerPass = 500

    func purgeTick() {
        guard !purgeRunning else { return }
        let ring = world.ring
        let owned = ring.partitions(ownedBy: id)
        guard !owned.isEmpty else { return }
        if !owned.contains(purgeCursor.partition) {
            purgeCursor = (owned.first { $0 > purgeCursor.partition } ?? owned[0], nil)
        }
        let partition = purgeCursor.partition
        let after = purgeCursor.after
        let rows = Array(store.scan(partition: partition).filter { after == nil || after! < $0.name }.prefix(Self.purgeRowsPerPass))
        if rows.count < Self.purgeRowsPerPass {
            purgeCursor = ((partition + 1) % ring.partitionCount, nil)
        } else {
            purgeCursor = (partition, rows.last!.name)
        }
        let now = wallNow
        let grace = world.config.antiEntropyLimits.tombstoneGraceMilliseconds
        let candidates = rows.filter { row in
            TombstonePurgeRule.decide(state: row.row.state, nowMilliseconds: now, graceMilliseconds: grace, replicaDigests: [])
                == .keep(.noReplicas)
        }
        guard !candidates.isEmpty else { return }
        purgeRunning = true
        let started = incarnation
        purgeKeys(candidates.map { ($0.name, $0.row.state) }[...], now: now) { [self] in
            if incarnation == started { purgeRunning = false }
        }
    }

    private func purgeKeys(_ keys: ArraySlice<(MemoryStore.Name, KeyState)>, now: UInt64, then done: @escaping () -> Void) {
        guard let (name, state) = keys.first else { return done() }
        let rest = keys.dropFirst()
        let props = world.props(for: name.bucket)
        var replicas = world.ring.preferenceList(partition: name.partition, n: min(props.n, world.ring.members.count))
        if world.config.bug == .purgeAsksOnlyItself { replicas = [id] }  // the deliberate bug
        let down = membership.unreachable()
        collectDigests(replicas[...], name: name, down: down, collected: []) { [self] digests in
            let grace = world.config.antiEntropyLimits.tombstoneGraceMilliseconds
            guard TombstonePurgeRule.decide(state: state, nowMilliseconds: now, graceMilliseconds: grace, replicaDigests: digests)
                == .purge
            else { return purgeKeys(rest, now: now, then: done) }
            let digest = MerkleTree.versionDigest(of: state)
            sendPurges(replicas[...], name: name, digest: digest) { [self] in purgeKeys(rest, now: now, then: done) }
        }
    }

    /// Each replica's version digest, one at a time; nil for one believed down or silent.
    private func collectDigests(
        _ replicas: ArraySlice<String>, name: MemoryStore.Name, down: Set<String>, collected: [UInt64?],
        then done: @escaping ([UInt64?]) -> Void
    ) {
        guard let replica = replicas.first else { return done(collected) }
        let rest = replicas.dropFirst()
        guard !down.contains(replica) else { return collectDigests(rest, name: name, down: down, collected: collected + [nil], then: done) }
        call(replica, .fetch(bucket: name.bucket, key: name.key), timeoutMilliseconds: 5000) { [self] response in
            var digest: UInt64?
            if case .state(let held)? = response { digest = held.map { MerkleTree.versionDigest(of: $0) } }
            collectDigests(rest, name: name, down: down, collected: collected + [digest], then: done)
        }
    }

    private func sendPurges(_ replicas: ArraySlice<String>, name: MemoryStore.Name, digest: UInt64, then done: @escaping () -> Void) {
        guard let replica = replicas.first else { return done() }
        call(replica, .purge(bucket: name.bucket, key: name.key, digest: digest), timeoutMilliseconds: 5000) { [self] _ in
            sendPurges(replicas.dropFirst(), name: name, digest: digest, then: done)
        }
    }
}
