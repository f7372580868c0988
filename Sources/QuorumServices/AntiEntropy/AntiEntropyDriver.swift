import QuorumCore

/// Active anti-entropy on one node: in turn, for each partition it owns and each other
/// replica of it (`AntiEntropySchedule`), one Merkle exchange (`AntiEntropyExchange`
/// decides every step), then repair of the keys that differ: both sides' states are
/// fetched, merged (`KeyRepair`; a typed key's whole states joined, `TypedKeyRepair`; of a
/// strong key's two commits the later ballot, `StrongKeyRepair`) and written to whichever
/// side lacked the merge, in compressed `.mergeBatch` batches both ways, so tombstones (and
/// typed removals, and committed deletes) spread like values. A strong key's promises and
/// accepted proposals never travel: only commits, learned through the acceptor's commit step.
///
/// While the ring changes (a member joins or leaves), the transfers `RingChange` lists for
/// this node come first, back to back, one exchange each, every key of the partition
/// shipped whatever its bucket's n; when the last one succeeds, the context hears
/// `transfersDone` (the joiner then starts serving, the leaver leaves). A failed transfer
/// is retried on a later tick, after the other pending ones.
///
/// One exchange at a time, one per tick (a tick that finds one running starts none): the
/// interval is the rate limit that keeps foreground latency. Both sides compare their live
/// trees: this side a copy taken when the exchange starts (`MerkleIndex.snapshot`), the
/// peer its current tree. Writes during an exchange may make it repair a key that already
/// agrees (a harmless merge) or miss one that just diverged (the next exchange finds it).
/// Each tick also drives the tombstone purge and stray-copy passes (`purger`, `sweeper`).
///
/// The same lines run in the real node (on its background event loop) and the simulator
/// (one per simulated node, on the agenda). Every method must be called on `executor`;
/// answers come back on it. Bounds are `AntiEntropyLimits` and `AntiEntropyBounds`.
public final class AntiEntropyDriver {
    public let nodeID: String
    /// The tombstone purge pass, ticked with routine exchanges.
    public let purger: TombstonePurgeDriver
    /// The stray-copy pass, ticked with routine exchanges.
    public let sweeper: StrayCopyDriver
    private let limits: AntiEntropyLimits
    private let bounds: AntiEntropyBounds
    private let routineExchanges: Bool
    private let purgesTombstones: Bool
    private let executor: any ServiceExecutor
    private let replicas: any ReplicaCaller
    private let trees: any MerkleIndex
    private let context: any AntiEntropyContext
    private let clock: any ServiceClock
    private let faults: FaultPoints
    private var transfers = TransferQueue()
    /// Ring-change transfers finished since start (a plan's own count resets when it is replaced).
    private var transfersCompleted = 0
    /// Where the round robin over the routine pairs is.
    private var nextPair = 0
    private var running = false
    private var counted = AntiEntropyFigures()

    /// - Parameters:
    ///   - routineExchanges: whether routine exchanges, purges and stray-copy passes run
    ///     (`--anti-entropy-interval 0` turns them off); ring-change transfers always do.
    ///   - purgesTombstones: whether the tombstone purge runs with them.
    public init(
        nodeID: String, limits: AntiEntropyLimits, bounds: AntiEntropyBounds = .defaults, routineExchanges: Bool,
        purgesTombstones: Bool = true, executor: any ServiceExecutor, replicas: any ReplicaCaller, storage: any ReplicaStorage,
        trees: any MerkleIndex, context: any AntiEntropyContext, clock: any ServiceClock, faults: FaultPoints = .inert
    ) {
        precondition(trees.shape == limits.shape, "the partition trees' shape \(trees.shape) differs from the limits' \(limits.shape)")
        self.nodeID = nodeID
        self.limits = limits
        self.bounds = bounds
        self.routineExchanges = routineExchanges
        self.purgesTombstones = purgesTombstones
        self.executor = executor
        self.replicas = replicas
        self.trees = trees
        self.context = context
        self.clock = clock
        self.faults = faults
        purger = TombstonePurgeDriver(
            nodeID: nodeID, bounds: bounds, storage: storage, replicas: replicas, context: context, clock: clock, faults: faults)
        sweeper = StrayCopyDriver(nodeID: nodeID, bounds: bounds, storage: storage, replicas: replicas, context: context, clock: clock)
    }

    /// An exchange (or a run of ring-change transfers) is in progress.
    public var isExchanging: Bool { running }

    /// What this driver and its passes did since start, for `/status`.
    public var figures: AntiEntropyFigures {
        var figures = counted
        figures.transfersPending = transfers.pending.count
        figures.transfersDone = transfersCompleted
        (figures.tombstonesPurged, figures.tombstonesDeferred) = (purger.purged, purger.deferred)
        figures.expiredPurged = purger.expiredPurged
        (figures.strayCopiesRemoved, figures.strayCopiesHandedOff) = (sweeper.removed, sweeper.handedOff)
        return figures
    }

    /// (partition, peer) pairs this node starts routine exchanges for: each partition it
    /// owns in the serving ring, with every other replica of it.
    var pairs: [AntiEntropySchedule.Pair] {
        // The deliberate bug pairs three replicas deep whatever the buckets' n.
        let depth = faults.has(.antiEntropyThreeReplicasDeep) ? 3 : context.replicasMax
        return AntiEntropySchedule.pairs(ring: context.serving, node: nodeID, replicas: depth)
    }

    /// Replaces the transfers still to do with `planned` (those already done for the same
    /// ring change are not repeated); tells the context at once when none remain.
    public func plan(transfers planned: [RingChange.Transfer]) {
        if transfers.replace(with: planned) { context.transfersDone() }
    }

    /// The periodic work: builds missing partition trees, runs a purge and a stray-copy
    /// pass when routine work is on, then starts the next transfer or routine exchange
    /// unless one is still running.
    public func tick() {
        trees.buildMissing()
        if routineExchanges {
            if purgesTombstones { purger.tick() }
            sweeper.tick()
        }
        guard !running else { return }
        if transfers.next() != nil {
            running = true
            return runTransfers()
        }
        guard routineExchanges else { return }
        let pairs = pairs
        guard !pairs.isEmpty else { return }
        let pair = pairs[nextPair % pairs.count]
        nextPair = (nextPair + 1) % pairs.count
        running = true
        exchange(partition: pair.partition, peer: pair.peer, everyKey: false) { [self] _ in running = false }
    }

    /// Runs pending transfers one after another (a join or leave waits on them, so they
    /// don't wait for ticks); stops at the first failure so an unreachable peer is retried
    /// on a later tick, not in a tight loop.
    private func runTransfers() {
        guard let transfer = transfers.next() else {
            running = false
            return
        }
        exchange(partition: transfer.partition, peer: transfer.peer, everyKey: true) { [self] succeeded in
            let allDone = transfers.finished(transfer, succeeded: succeeded)
            if succeeded { transfersCompleted += 1 }
            if allDone {
                context.log(.info, "ring change transfers done", [:])
                context.transfersDone()
            }
            guard succeeded else {
                running = false
                return
            }
            executor.execute { [self] in runTransfers() }
        }
    }

    // MARK: One exchange

    /// One exchange in progress: the core's state machine, the actions not carried out
    /// yet, and what its repairs did.
    private final class ExchangeRun {
        var exchange: AntiEntropyExchange
        var queue: [AntiEntropyExchange.Action] = []
        let partition: Int
        let peer: String
        /// Repair every differing key (a ring-change transfer), not only keys whose bucket
        /// places replicas on both sides.
        let everyKey: Bool
        let startedMilliseconds: UInt64
        var repaired = 0
        /// Every repair it made was stored, and it finished.
        var complete = true
        private var completion: ((Bool) -> Void)?

        init(exchange: AntiEntropyExchange, partition: Int, peer: String, everyKey: Bool, startedMilliseconds: UInt64,
             completion: @escaping (Bool) -> Void) {
            self.exchange = exchange
            self.partition = partition
            self.peer = peer
            self.everyKey = everyKey
            self.startedMilliseconds = startedMilliseconds
            self.completion = completion
        }

        func finish() {
            guard let completion else { return }
            self.completion = nil
            completion(complete)
        }
    }

    /// One exchange; `completion` tells whether it finished and every repair it made was
    /// stored. A partition without a ready tree (still building) fails at once.
    private func exchange(partition: Int, peer: String, everyKey: Bool, completion: @escaping (Bool) -> Void) {
        let started = clock.nowMilliseconds()
        guard let local = trees.snapshot(partition: partition) else { return completion(false) }
        var exchange = AntiEntropyExchange(local: local, limits: limits)
        let actions = exchange.start()
        let run = ExchangeRun(
            exchange: exchange, partition: partition, peer: peer, everyKey: everyKey, startedMilliseconds: started,
            completion: completion)
        carryOut(run, actions)
    }

    /// Carries out the exchange's actions in order; each request's answer resumes it.
    private func carryOut(_ run: ExchangeRun, _ actions: [AntiEntropyExchange.Action]) {
        run.queue += actions
        while !run.queue.isEmpty {
            switch run.queue.removeFirst() {
            case .requestRoot:
                return call(run.peer, .treeRoot(partition: run.partition)) { [self] response in
                    guard case .treeRoot(let hash, let segmentCount, let fanOut)? = response,
                        let shape = MerkleShape(validatingSegmentCount: segmentCount, fanOut: fanOut)
                    else { return carryOut(run, run.exchange.handle(.failed("\(run.peer) did not answer its tree root"))) }
                    carryOut(run, run.exchange.handle(.remoteRoot(hash: hash, shape: shape)))
                }
            case .requestHashes(let level, let indices):
                return call(run.peer, .treeHashes(partition: run.partition, level: level, indices: indices)) { [self] response in
                    guard case .treeHashes(let hashes)? = response else {
                        return carryOut(run, run.exchange.handle(.failed("\(run.peer) did not answer tree hashes")))
                    }
                    carryOut(run, run.exchange.handle(.remoteHashes(level: level, hashes: hashes)))
                }
            case .requestSegmentKeys(let segments):
                return call(run.peer, .segmentKeys(partition: run.partition, segments: segments)) { [self] response in
                    guard case .segmentKeys(let remote)? = response else {
                        return carryOut(run, run.exchange.handle(.failed("\(run.peer) did not answer segment keys")))
                    }
                    trees.segmentKeys(partition: run.partition, segments: segments) { [self] result in
                        switch result {
                        case .success(let local):
                            carryOut(run, run.exchange.handle(.segmentKeys(local: local, remote: remote)))
                        case .failure(let failure):
                            let reason = "the local store could not list segment keys: \(failure.message)"
                            carryOut(run, run.exchange.handle(.failed(reason)))
                        }
                    }
                }
            case .repair(let keys):
                return repair(keys, run: run) { [self] repaired, complete in
                    run.repaired += repaired
                    run.complete = run.complete && complete
                    carryOut(run, [])
                }
            case .finished(let result):
                record(run, result, failure: nil)
            case .failed(let failure, let result):
                run.complete = false
                record(run, result, failure: failure.message)
            }
        }
        run.finish()
    }

    private func record(_ run: ExchangeRun, _ result: AntiEntropyStats, failure: String?) {
        let now = clock.nowMilliseconds()
        // A clock stepped back during the exchange reads as no time at all.
        let duration = now > run.startedMilliseconds ? Int(now - run.startedMilliseconds) : 0
        if failure == nil { counted.partitionsExchanged += 1 } else { counted.failedExchanges += 1 }
        counted.keysRepaired += run.repaired
        counted.hashesMoved += result.hashesMoved
        counted.lastExchangeMilliseconds = duration
        let metadata = [
            "partition": "\(run.partition)", "peer": run.peer, "keys_repaired": "\(run.repaired)",
            "hashes_moved": "\(result.hashesMoved)", "duration_ms": "\(duration)",
        ]
        if let failure {
            context.log(.warning, "anti-entropy exchange failed: \(failure)", metadata)
        } else if run.repaired > 0 {
            context.log(.info, "anti-entropy repaired keys", metadata)
        }
    }

    // MARK: Repair

    /// Both sides' states of one key: plain states, a typed key's whole states, or a
    /// strong key's latest commits.
    private enum Fetched {
        case versions(key: RepairKey, local: KeyState?, remote: KeyState?)
        case typed(key: RepairKey, local: TypedState?, remote: TypedState?)
        case strong(key: RepairKey, local: PaxosCommit?, remote: PaxosCommit?)
    }

    /// Merges both sides' states of each key (`KeyRepair`, or `TypedKeyRepair` for a key of
    /// a typed bucket: whole states joined as full states) and writes the merge where it
    /// was missing, in compressed batches both ways (`.mergeBatch`, committed as one group on
    /// each side): first to the peer, then to this node's own replica. The states are
    /// fetched `bounds.fetchConcurrency` keys at a time; the exchange bounds a repair at
    /// `limits.batchKeysMax` keys, and batches are cut at `bounds.batchBytesMax`. Unless
    /// the run is a transfer, keys whose bucket keeps fewer replicas than this pair are left
    /// alone. `complete` is false when a key could not be read or stored on either side.
    private func repair(_ keys: [RepairKey], run: ExchangeRun, completion: @escaping (_ repaired: Int, _ complete: Bool) -> Void) {
        let ring = context.serving
        let wanted = run.everyKey ? keys : keys.filter { key in
            let replicas = ring.preferenceList(partition: run.partition, n: min(context.props(for: key.bucket).n, ring.members.count))
            return replicas.contains(nodeID) && replicas.contains(run.peer)
        }
        fetchBoth(wanted, peer: run.peer) { [self] states in
            var complete = states.count == wanted.count
            var toPeer: [RepairBatch.Entry] = []
            var toLocal: [RepairBatch.Entry] = []
            for fetched in states {
                guard let (entry, local, peer) = decide(fetched) else { continue }
                if peer { toPeer.append(entry) }
                if local { toLocal.append(entry) }
            }
            let shipments = chunks(toPeer).map { (entries: $0, target: run.peer) } + chunks(toLocal).map { (entries: $0, target: nodeID) }
            var failed = Set<[UInt8]>()
            BoundedSteps.run(count: shipments.count, step: { [self] index, finished in
                let shipment = shipments[index]
                ship(shipment.entries, to: shipment.target) { stored in
                    if stored != shipment.entries.count {
                        complete = false
                        for entry in shipment.entries { failed.insert(Self.name(entry)) }
                    }
                    finished()
                }
            }, done: {
                let repaired = Set((toPeer + toLocal).map(Self.name)).subtracting(failed).count
                completion(repaired, complete)
            })
        }
    }

    /// The repair of one key: the entry to write, and whether this node and the peer lack it.
    private func decide(_ fetched: Fetched) -> (entry: RepairBatch.Entry, writeLocally: Bool, sendToPeer: Bool)? {
        switch fetched {
        case .versions(let key, let local, let remote):
            let mode = context.props(for: key.bucket).conflict
            guard let decision = KeyRepair(local: local, remote: remote, mode: mode) else { return nil }
            if faults.has(.antiEntropyIgnoresTombstones), decision.merged.siblings.allSatisfy(\.isTombstone) {
                return nil  // the deliberate bug
            }
            let entry = RepairBatch.Entry(bucket: key.bucket, key: key.key, state: decision.merged, mode: mode)
            return (entry, decision.writeLocally, decision.sendToPeer)
        case .typed(let key, let local, let remote):
            guard let decision = TypedKeyRepair(local: local, remote: remote) else {
                if let local, let remote, local.datatype != remote.datatype {
                    context.log(.error, "anti-entropy found a typed key of two datatypes; not repaired", [
                        "bucket": key.bucket, "local": local.datatype.rawValue, "remote": remote.datatype.rawValue,
                    ])
                }
                return nil
            }
            let entry = RepairBatch.Entry(bucket: key.bucket, key: key.key, typed: decision.merged)
            return (entry, decision.writeLocally, decision.sendToPeer)
        case .strong(let key, let local, let remote):
            guard let decision = StrongKeyRepair(local: local, remote: remote) else { return nil }
            let entry = RepairBatch.Entry(bucket: key.bucket, key: key.key, commit: decision.newest)
            return (entry, decision.writeLocally, decision.sendToPeer)
        }
    }

    /// One key's name in a set of keys: bucket, a zero byte, key.
    private static func name(_ entry: RepairBatch.Entry) -> [UInt8] {
        Array(entry.bucket.utf8) + [0] + entry.key
    }

    /// Both sides' state of each key, at most `bounds.fetchConcurrency` keys in flight, in
    /// the keys' order; keys either side failed to answer are left out. A key of a typed
    /// bucket is fetched whole (`.typedFetch` of every member): repair ships full states. A
    /// key of a strong bucket is fetched as its latest commit (`.strongFetch`).
    private func fetchBoth(_ keys: [RepairKey], peer: String, completion: @escaping ([Fetched]) -> Void) {
        var fetched = [Fetched?](repeating: nil, count: keys.count)
        BoundedSteps.run(count: keys.count, concurrency: bounds.fetchConcurrency, step: { [self] index, finished in
            let key = keys[index]
            if context.props(for: key.bucket).consistency == .strong {
                let request = PeerRequest.strongFetch(bucket: key.bucket, key: key.key)
                return call(nodeID, request) { [self] response in
                    guard case .strongCommit(let local)? = response else { return finished() }
                    call(peer, request) { response in
                        if case .strongCommit(let remote)? = response { fetched[index] = .strong(key: key, local: local, remote: remote) }
                        finished()
                    }
                }
            }
            if context.props(for: key.bucket).datatype != nil {
                let request = PeerRequest.typedFetch(bucket: key.bucket, key: key.key, members: .all)
                return call(nodeID, request) { [self] response in
                    guard case .typed(let local)? = response else { return finished() }
                    call(peer, request) { response in
                        if case .typed(let remote)? = response { fetched[index] = .typed(key: key, local: local, remote: remote) }
                        finished()
                    }
                }
            }
            let request = PeerRequest.fetch(bucket: key.bucket, key: key.key)
            call(nodeID, request) { [self] response in
                guard case .state(let local)? = response else { return finished() }
                call(peer, request) { response in
                    if case .state(let remote)? = response { fetched[index] = .versions(key: key, local: local, remote: remote) }
                    finished()
                }
            }
        }, done: { completion(fetched.compactMap { $0 }) })
    }

    /// Splits entries so no batch carries more than `bounds.batchBytesMax` of encoded
    /// states (a batch of 256 large states must not come near `frameBytesMax`).
    func chunks(_ entries: [RepairBatch.Entry]) -> [[RepairBatch.Entry]] {
        var chunks: [[RepairBatch.Entry]] = []
        var chunk: [RepairBatch.Entry] = []
        var chunkBytes = 0
        for entry in entries {
            let size = entry.key.count + entry.bucket.utf8.count + entry.stateBytes
            if !chunk.isEmpty, chunkBytes + size > bounds.batchBytesMax {
                chunks.append(chunk)
                chunk = []
                chunkBytes = 0
            }
            chunk.append(entry)
            chunkBytes += size
        }
        if !chunk.isEmpty { chunks.append(chunk) }
        return chunks
    }

    /// Sends one compressed batch to `target` (the peer, or this node's own replica);
    /// completes with how many keys it stored.
    private func ship(_ entries: [RepairBatch.Entry], to target: String, completion: @escaping (Int) -> Void) {
        let encoded = RepairBatch(entries: entries).encoded()
        guard let compressed = context.compress(encoded) else {
            context.log(.error, "anti-entropy could not compress a repair batch", ["keys": "\(entries.count)"])
            return completion(0)
        }
        call(target, .mergeBatch(compressed: compressed, originalLength: encoded.count)) { [self] response in
            guard response == .ack else {
                context.log(.warning, "anti-entropy repair batch failed", ["node": target, "keys": "\(entries.count)"])
                return completion(0)
            }
            if target != nodeID { counted.bytesShipped += compressed.count }
            completion(entries.count)
        }
    }

    private func call(_ node: String, _ request: PeerRequest, completion: @escaping (PeerResponse?) -> Void) {
        replicas.call(node, request, timeoutMilliseconds: bounds.requestTimeoutMilliseconds, completion: completion)
    }
}
