import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// Active anti-entropy on this node: in turn, for each partition it owns and each other
/// replica of it, one Merkle exchange (`AntiEntropyExchange` decides every step), then
/// repair of the keys that differ through the read-repair path (merge both states,
/// write the merge to whichever side lacked it), so tombstones spread like values.
///
/// While the ring changes (a member joins or leaves), the transfers `RingChange` lists
/// for this node come first, one exchange each, every key of the partition shipped
/// whatever its bucket's n; when the last one succeeds, `onTransfersDone` is called (the
/// joiner then starts serving, the leaver leaves). A failed transfer is retried on a
/// later tick, after the other pending ones.
///
/// One exchange at a time, one per timer tick (a tick that finds one running is skipped):
/// the interval is the rate limit that keeps foreground latency. Both sides compare their
/// live trees (`PartitionTrees`, updated on every committed write): this side a copy
/// taken when the exchange starts, the peer its current tree. Writes during an exchange
/// may make it repair a key that already agrees (a harmless merge) or miss one that just
/// diverged (the next exchange finds it).
final class AntiEntropyService: Sendable {
    private let nodeID: String
    private let rings: RingView
    private let trees: PartitionTrees
    private let router: ReplicaRouter
    private let registry: BucketRegistry
    private let limits: AntiEntropyLimits
    private let logger: Logger
    private let next = Mutex(0)
    private let transfers = Mutex(TransferQueue())
    /// Ring-change transfers finished since start (a plan's own count resets when it is replaced).
    private let transfersCompleted = Atomic<Int>(0)
    private let onTransfersDone: @Sendable () -> Void
    private let purger: TombstonePurger
    private let sweeper: StrayCopySweeper
    /// Routine exchanges run only when enabled; ring-change transfers always do.
    private let enabled: Bool
    private let running = Atomic<Bool>(false)
    private let stats: Mutex<AntiEntropyStatus>
    private let requestTimeoutMilliseconds = 5000
    /// Most encoded bytes of states in one repair batch (besides `batchKeysMax` keys).
    private let batchBytesMax = 4 * 1024 * 1024
    /// Keys whose two states are fetched at once during a repair: enough to hide round
    /// trips, few enough not to crowd out client requests.
    private let fetchConcurrency = 32

    init(
        nodeID: String, rings: RingView, trees: PartitionTrees, router: ReplicaRouter, registry: BucketRegistry,
        limits: AntiEntropyLimits, enabled: Bool, logger: Logger, purger: TombstonePurger, sweeper: StrayCopySweeper,
        onTransfersDone: @escaping @Sendable () -> Void
    ) {
        self.purger = purger
        self.sweeper = sweeper
        stats = Mutex(AntiEntropyStatus(enabled: enabled, partitionsExchanged: 0))
        self.nodeID = nodeID
        self.rings = rings
        self.onTransfersDone = onTransfersDone
        self.enabled = enabled
        self.trees = trees
        self.router = router
        self.registry = registry
        self.limits = limits
        self.logger = logger
    }

    /// (partition, peer) pairs this node starts routine exchanges for (`AntiEntropySchedule`):
    /// each partition it owns in the serving ring, with every other replica of it.
    private var pairs: [AntiEntropySchedule.Pair] {
        AntiEntropySchedule.pairs(ring: rings.serving, node: nodeID, replicas: registry.replicasMax)
    }

    /// Replaces the transfers still to do with `planned` (those already done for the
    /// same ring change are not repeated); calls `onTransfersDone` at once when none remain.
    func plan(transfers planned: [RingChange.Transfer]) {
        let done = transfers.withLock { $0.replace(with: planned) }
        if done { onTransfersDone() }
    }

    var status: AntiEntropyStatus {
        var status = stats.withLock { $0 }
        status.treeRebuilds = trees.rebuildCount
        status.treesReady = trees.readyCount
        status.roots = trees.roots()
        status.transfersPending = transfers.withLock { $0.pending.count }
        status.transfersDone = transfersCompleted.load(ordering: .relaxed)
        (status.tombstonesPurged, status.tombstonesDeferred) = (purger.purged, purger.deferred)
        (status.strayCopiesRemoved, status.strayCopiesHandedOff) = (sweeper.removed, sweeper.handedOff)
        return status
    }

    /// Starts the next exchange unless one is still running; schedules the build of any
    /// partition tree that is missing (a build that failed is retried here).
    func tick() {
        trees.buildMissing()
        if enabled {
            purger.tick()
            sweeper.tick()
        }
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        if transfers.withLock({ $0.next() }) != nil {
            Task {
                await runTransfers()
                running.store(false, ordering: .releasing)
            }
            return
        }
        let pairs = enabled ? pairs : []
        guard !pairs.isEmpty else {
            running.store(false, ordering: .releasing)
            return
        }
        let pair = next.withLock { index in
            defer { index = (index + 1) % pairs.count }
            return pairs[index % pairs.count]
        }
        Task {
            await exchange(partition: pair.partition, peer: pair.peer, everyKey: false)
            running.store(false, ordering: .releasing)
        }
    }

    /// Runs pending transfers one after another (a join or leave waits on them, so they
    /// don't wait for ticks), one exchange at a time; stops at the first failure so an
    /// unreachable peer is retried on a later tick, not in a tight loop.
    private func runTransfers() async {
        while let transfer = transfers.withLock({ $0.next() }) {
            let succeeded = await exchange(partition: transfer.partition, peer: transfer.peer, everyKey: true)
            let allDone = transfers.withLock { $0.finished(transfer, succeeded: succeeded) }
            if succeeded { transfersCompleted.add(1, ordering: .relaxed) }
            if allDone {
                logger.info("ring change transfers done")
                onTransfersDone()
            }
            if !succeeded { return }
        }
    }

    /// One exchange; returns whether it finished and every repair it made was stored.
    /// - Parameter everyKey: repair every differing key (a ring-change transfer), not
    ///   only keys whose bucket places replicas on both sides.
    @discardableResult
    private func exchange(partition: Int, peer: String, everyKey: Bool) async -> Bool {
        let started = WallClock.nowMilliseconds()
        // No tree yet (still building at start): skip this pair until the next round.
        guard let local = trees.snapshot(partition) else { return false }
        var exchange = AntiEntropyExchange(local: local, limits: limits)
        var actions = exchange.start()
        var repaired = 0
        var complete = true
        while !actions.isEmpty {
            let action = actions.removeFirst()
            switch action {
            case .requestRoot:
                actions += exchange.handle(await rootInput(partition: partition, peer: peer))
            case .requestHashes(let level, let indices):
                let response = await call(peer, .treeHashes(partition: partition, level: level, indices: indices))
                if case .success(.treeHashes(let hashes)) = response {
                    actions += exchange.handle(.remoteHashes(level: level, hashes: hashes))
                } else {
                    actions += exchange.handle(.failed("\(peer) did not answer tree hashes"))
                }
            case .requestSegmentKeys(let segments):
                let response = await call(peer, .segmentKeys(partition: partition, segments: segments))
                guard case .success(.segmentKeys(let remote)) = response else {
                    actions += exchange.handle(.failed("\(peer) did not answer segment keys"))
                    continue
                }
                do {
                    let localKeys = try trees.segmentKeys(partition: partition, segments: segments)
                    actions += exchange.handle(.segmentKeys(local: localKeys, remote: remote))
                } catch {
                    actions += exchange.handle(.failed("the local store could not list segment keys: \(error)"))
                }
            case .repair(let keys):
                let outcome = await repair(keys, partition: partition, peer: peer, everyKey: everyKey)
                repaired += outcome.repaired
                complete = complete && outcome.complete
            case .finished(let result):
                record(result, repaired: repaired, started: started, partition: partition, peer: peer, failure: nil)
            case .failed(let failure, let result):
                complete = false
                record(result, repaired: repaired, started: started, partition: partition, peer: peer, failure: failure.message)
            }
        }
        return complete
    }

    private func rootInput(partition: Int, peer: String) async -> AntiEntropyExchange.Input {
        let response = await call(peer, .treeRoot(partition: partition))
        guard case .success(.treeRoot(let hash, let segmentCount, let fanOut)) = response,
            let shape = MerkleShape(validatingSegmentCount: segmentCount, fanOut: fanOut)
        else { return .failed("\(peer) did not answer its tree root") }
        return .remoteRoot(hash: hash, shape: shape)
    }

    /// Merges both sides' states of each key (`KeyRepair`) and writes the merge where it
    /// was missing, in LZ4-compressed batches both ways (`mergeBatch`, committed as one
    /// group on each side). The states are fetched `fetchConcurrency` keys at a time; the
    /// exchange bounds a repair at `batchKeysMax` keys. Unless `everyKey`, keys whose bucket
    /// keeps fewer replicas than this pair are left alone. `complete` is false when a key
    /// could not be read or stored on either side.
    private func repair(
        _ keys: [RepairKey], partition: Int, peer: String, everyKey: Bool
    ) async -> (repaired: Int, complete: Bool) {
        let ring = rings.serving
        let wanted = keys.filter { key in
            guard !everyKey else { return true }
            let replicas = ring.preferenceList(partition: partition, n: min(registry.props(for: key.bucket).n, ring.members.count))
            return replicas.contains(nodeID) && replicas.contains(peer)
        }
        let states = await fetchBoth(wanted, peer: peer)
        var complete = states.count == wanted.count
        var toPeer: [RepairBatch.Entry] = []
        var toLocal: [RepairBatch.Entry] = []
        for (key, local, remote) in states {
            let mode = registry.props(for: key.bucket).conflict
            guard let decision = KeyRepair(local: local, remote: remote, mode: mode) else { continue }
            let entry = RepairBatch.Entry(bucket: key.bucket, key: key.key, state: decision.merged, mode: mode)
            if decision.sendToPeer { toPeer.append(entry) }
            if decision.writeLocally { toLocal.append(entry) }
        }
        var failed = Set<[UInt8]>()
        for (entries, target) in [(toPeer, peer), (toLocal, nodeID)] {
            for chunk in Self.chunks(entries, bytesMax: batchBytesMax) where await ship(chunk, to: target) != chunk.count {
                complete = false
                for entry in chunk { failed.insert(Array(entry.bucket.utf8) + [0] + entry.key) }
            }
        }
        let repairedKeys = Set((toPeer + toLocal).map { Array($0.bucket.utf8) + [0] + $0.key })
        return (repairedKeys.subtracting(failed).count, complete)
    }

    /// Both sides' state of each key, at most `fetchConcurrency` keys in flight; keys
    /// either side failed to answer are left out.
    private func fetchBoth(
        _ keys: [RepairKey], peer: String
    ) async -> [(key: RepairKey, local: KeyState?, remote: KeyState?)] {
        await withTaskGroup(of: (RepairKey, KeyState?, KeyState?)?.self) { group in
            var results: [(key: RepairKey, local: KeyState?, remote: KeyState?)] = []
            var next = keys.makeIterator()
            func addNext() -> Bool {
                guard let key = next.next() else { return false }
                group.addTask { [self] in
                    guard case .success(.state(let local)) = await call(nodeID, .fetch(bucket: key.bucket, key: key.key)),
                        case .success(.state(let remote)) = await call(peer, .fetch(bucket: key.bucket, key: key.key))
                    else { return nil }
                    return (key, local, remote)
                }
                return true
            }
            for _ in 0..<fetchConcurrency where !addNext() { break }
            while let result = await group.next() {
                if let (key, local, remote) = result { results.append((key, local, remote)) }
                _ = addNext()
            }
            return results
        }
    }

    /// Splits entries so no batch carries more than `bytesMax` of encoded states (a batch
    /// of 256 large states must not come near `frameBytesMax`).
    private static func chunks(_ entries: [RepairBatch.Entry], bytesMax: Int) -> [[RepairBatch.Entry]] {
        var chunks: [[RepairBatch.Entry]] = []
        var chunk: [RepairBatch.Entry] = []
        var chunkBytes = 0
        for entry in entries {
            let size = entry.key.count + entry.bucket.utf8.count + entry.state.encoded().count
            if !chunk.isEmpty, chunkBytes + size > bytesMax {
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

    /// Sends one compressed batch to `target` (a peer, or this node's own replica);
    /// returns how many keys it stored.
    private func ship(_ entries: [RepairBatch.Entry], to target: String) async -> Int {
        let encoded = RepairBatch(entries: entries).encoded()
        guard let compressed = try? LZ4Codec.compress(encoded) else { return 0 }
        let response = await call(target, .mergeBatch(compressed: compressed, originalLength: encoded.count))
        guard case .success(.ack) = response else {
            logger.warning("anti-entropy repair batch failed", metadata: ["node": "\(target)", "keys": "\(entries.count)"])
            return 0
        }
        if target != nodeID { stats.withLock { $0.bytesShipped += compressed.count } }
        return entries.count
    }

    private func record(
        _ result: AntiEntropyStats, repaired: Int, started: UInt64, partition: Int, peer: String, failure: String?
    ) {
        let duration = Int(WallClock.nowMilliseconds() - started)
        stats.withLock { status in
            status.partitionsExchanged += failure == nil ? 1 : 0
            status.failedExchanges += failure == nil ? 0 : 1
            status.keysRepaired += repaired
            status.hashesMoved += result.hashesMoved
            status.lastExchangeMilliseconds = duration
        }
        let metadata: Logger.Metadata = [
            "partition": "\(partition)", "peer": "\(peer)", "keys_repaired": "\(repaired)",
            "hashes_moved": "\(result.hashesMoved)", "duration_ms": "\(duration)",
        ]
        if let failure {
            logger.warning("anti-entropy exchange failed: \(failure)", metadata: metadata)
        } else if repaired > 0 {
            logger.info("anti-entropy repaired keys", metadata: metadata)
        }
    }

    private func call(_ node: String, _ request: PeerRequest) async -> Result<PeerResponse, any Error> {
        await router.call(node, request, timeoutMilliseconds: requestTimeoutMilliseconds)
    }
}
