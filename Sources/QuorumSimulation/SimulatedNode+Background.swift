import QuorumCore

/// The node's background work, as its timers run it: gossip rounds, hint delivery (the
/// node's `HintDriver`) and anti-entropy exchanges.
extension SimulatedNode {
    // MARK: Gossip

    /// One gossip round of the node's `MembershipDriver`.
    func gossipRound() {
        membership.round()
    }

    // MARK: Hinted handoff

    /// One delivery pass of the node's `HintDriver`, past the peers its detector believes down.
    func deliverHints() {
        hints.deliver(down: down)
    }

    // MARK: Anti-entropy

    /// Starts the next exchange unless one is running.
    func antiEntropyTick() {
        guard !antiEntropyPairs.isEmpty, !antiEntropyRunning else { return }
        let pair = antiEntropyPairs[nextPair]
        nextPair = (nextPair + 1) % antiEntropyPairs.count
        antiEntropyRunning = true
        let run = ExchangeRun(
            exchange: AntiEntropyExchange(local: tree(pair.partition), limits: world.config.antiEntropyLimits),
            partition: pair.partition, peer: pair.peer, incarnation: incarnation)
        continueExchange(run, with: run.exchange.start())
    }

    /// Carries out the exchange's actions in order; each request's answer resumes it.
    private func continueExchange(_ run: ExchangeRun, with actions: [AntiEntropyExchange.Action]) {
        guard run.incarnation == incarnation else { return }
        run.queue += actions
        let timeout: UInt64 = 5000
        while !run.queue.isEmpty {
            let action = run.queue.removeFirst()
            switch action {
            case .requestRoot:
                call(run.peer, .treeRoot(partition: run.partition), timeoutMilliseconds: timeout) { [self] response in
                    guard case .treeRoot(let hash, let segmentCount, let fanOut)? = response,
                        let shape = MerkleShape(validatingSegmentCount: segmentCount, fanOut: fanOut)
                    else { return continueExchange(run, with: run.exchange.handle(.failed("no root"))) }
                    continueExchange(run, with: run.exchange.handle(.remoteRoot(hash: hash, shape: shape)))
                }
                return
            case .requestHashes(let level, let indices):
                call(run.peer, .treeHashes(partition: run.partition, level: level, indices: indices), timeoutMilliseconds: timeout) {
                    [self] response in
                    guard case .treeHashes(let hashes)? = response else {
                        return continueExchange(run, with: run.exchange.handle(.failed("no tree hashes")))
                    }
                    continueExchange(run, with: run.exchange.handle(.remoteHashes(level: level, hashes: hashes)))
                }
                return
            case .requestSegmentKeys(let segments):
                call(run.peer, .segmentKeys(partition: run.partition, segments: segments), timeoutMilliseconds: timeout) {
                    [self] response in
                    guard case .segmentKeys(let remote)? = response else {
                        return continueExchange(run, with: run.exchange.handle(.failed("no segment keys")))
                    }
                    let local = segmentKeys(partition: run.partition, segments: segments)
                    continueExchange(run, with: run.exchange.handle(.segmentKeys(local: local, remote: remote)))
                }
                return
            case .repair(let keys):
                repair(keys[...], run: run) { [self] in continueExchange(run, with: []) }
                return
            case .finished, .failed:
                antiEntropyRunning = false
            }
        }
    }

    /// Repairs keys one at a time, as the node does: fetch both states, merge (`KeyRepair`),
    /// write the merge locally and send it to the peer where it was missing.
    private func repair(_ keys: ArraySlice<RepairKey>, run: ExchangeRun, then done: @escaping () -> Void) {
        guard let key = keys.first else { return done() }
        let rest = keys.dropFirst()
        let props = world.props(for: key.bucket)
        let replicas = world.ring.preferenceList(partition: run.partition, n: min(props.n, world.ring.members.count))
        guard replicas.contains(id), replicas.contains(run.peer) else { return repair(rest, run: run, then: done) }
        call(run.peer, .fetch(bucket: key.bucket, key: key.key), timeoutMilliseconds: 5000) { [self] response in
            guard case .state(let remote)? = response else { return repair(rest, run: run, then: done) }
            let local = store.read(partition: run.partition, bucket: key.bucket, key: key.key)
            guard let plan = KeyRepair(local: local, remote: remote, mode: props.conflict) else {
                return repair(rest, run: run, then: done)
            }
            if world.config.bug == .antiEntropyIgnoresTombstones, plan.merged.siblings.allSatisfy(\.isTombstone) {
                return repair(rest, run: run, then: done)  // the deliberate bug
            }
            if plan.sendToPeer {
                call(run.peer, .merge(bucket: key.bucket, key: key.key, state: plan.merged, mode: props.conflict),
                     timeoutMilliseconds: 5000) { _ in }
            }
            guard plan.writeLocally else { return repair(rest, run: run, then: done) }
            replica.handle(.merge(bucket: key.bucket, key: key.key, state: plan.merged, mode: props.conflict)) { [self] _ in
                repair(rest, run: run, then: done)
            }
        }
    }
}

/// One anti-entropy exchange in progress: the core state machine and the actions not yet
/// carried out.
final class ExchangeRun {
    var exchange: AntiEntropyExchange
    var queue: [AntiEntropyExchange.Action] = []
    let partition: Int
    let peer: String
    let incarnation: Int

    init(exchange: AntiEntropyExchange, partition: Int, peer: String, incarnation: Int) {
        self.exchange = exchange
        self.partition = partition
        self.peer = peer
        self.incarnation = incarnation
    }
}
