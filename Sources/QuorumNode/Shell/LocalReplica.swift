import Dispatch
import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// This node's replica: answers `PeerRequest`s against its own SQLite store.
///
/// Used both for requests from peers and, without encoding, for the replica this node
/// holds of a key it coordinates. Every write answers only after its commit, so an ack
/// always means durable.
final class LocalReplica: Sendable {
    let nodeID: String
    /// This store's identity in version vectors: the node id plus the store's creation
    /// time, so a node whose data was wiped never reissues a dot it issued before.
    let actorID: String
    private let store: ReplicaStore
    private let ring: Ring
    private let limits: Limits
    private let clock: Mutex<HybridLogicalClock>
    /// A bound above every timestamp this node has issued, saved in the store: a restart
    /// starts its clock there (`ClockFloor` decides when to save the next one).
    private let clockFloor: Mutex<ClockFloor>
    private static let clockFloorKey = "hlc_floor"
    private let props: BucketRegistry
    private let hints: HintService
    private let trees: PartitionTrees
    private let readQueue = DispatchQueue(label: "quorumkv.replica.reads", attributes: .concurrent)
    private let logger: Logger

    init(
        nodeID: String, actorID: String, store: ReplicaStore, ring: Ring, limits: Limits, props: BucketRegistry,
        hints: HintService, trees: PartitionTrees, logger: Logger
    ) throws {
        self.hints = hints
        self.trees = trees
        self.nodeID = nodeID
        self.actorID = actorID
        self.store = store
        self.ring = ring
        self.limits = limits
        self.props = props
        self.logger = logger
        let floor = try store.metaValue(Self.clockFloorKey).flatMap { UInt64($0) } ?? 0
        self.clockFloor = Mutex(ClockFloor(saved: floor))
        self.clock = Mutex(HybridLogicalClock(last: HLCTimestamp(physicalMilliseconds: floor, logical: 0)))
        // Saved now, before serving, so the first writes don't wait for it.
        keepFloorAhead(of: max(WallClock.nowMilliseconds(), floor))
    }

    /// A timestamp for a write this node coordinates. It never waits for the floor's save
    /// unless the clock jumped past the saved floor (see `ClockFloor`): callers run on
    /// network threads.
    func tick() -> HLCTimestamp {
        let timestamp = clock.withLock { $0.tick(nowMilliseconds: WallClock.nowMilliseconds()) }
        keepFloorAhead(of: timestamp.physicalMilliseconds)
        return timestamp
    }

    /// Saves the clock floor when `ClockFloor` asks: in the background, or before the
    /// timestamp goes out.
    private func keepFloorAhead(of physicalMilliseconds: UInt64) {
        switch clockFloor.withLock({ $0.issuing(physicalMilliseconds: physicalMilliseconds) }) {
        case .none:
            return
        case .saveAhead(let value):
            store.setMetaValue(Self.clockFloorKey, String(value)) { [self] result in floorSaved(value, result) }
        case .saveBeforeIssuing(let value):
            floorSaved(value, Result { try store.setMetaValue(Self.clockFloorKey, String(value)) })
        }
    }

    private func floorSaved(_ value: UInt64, _ result: Result<Void, any Error>) {
        switch result {
        case .success:
            clockFloor.withLock { $0.saved(value) }
        case .failure(let error):
            clockFloor.withLock { $0.saveFailed(value) }
            logger.warning("could not save the clock floor; a restart with the clock stepped back may reorder lww writes",
                           metadata: ["error": "\(error)"])
        }
    }

    func observe(_ timestamp: HLCTimestamp) {
        clock.withLock { $0.observe(timestamp, nowMilliseconds: WallClock.nowMilliseconds()) }
    }

    func handle(_ request: PeerRequest, respond: @escaping @Sendable (PeerResponse) -> Void) {
        switch request {
        case .fetch(let bucket, let key):
            // A point read is answered on the caller's thread when a reader connection is
            // idle: for a key whose replica is local that is the whole request, with no
            // thread hop. Only when every reader is busy does it queue.
            if let response = fetch(bucket: bucket, key: key, waitForReader: false) { return respond(response) }
            readQueue.async { [self] in
                respond(fetch(bucket: bucket, key: key, waitForReader: true)
                    ?? .failure(code: "internal", message: "a waiting read found no reader connection"))
            }
        case .coordinateWrite(let bucket, let key, let intent, let mode, let timestamp, let ifAbsent):
            observe(timestamp)
            let actor = actorID
            let limits = limits
            update(bucket: bucket, key: key, respond: respond) { current in
                try ReplicaWrite.lead(
                    current: current, intent: intent, actor: actor, timestamp: timestamp, mode: mode, ifAbsent: ifAbsent,
                    limits: limits)
            }
        case .listKeys(let bucket, let partition, let after, let limit):
            readQueue.async { [self] in respond(listKeys(bucket: bucket, partition: partition, after: after, limit: limit)) }
        case .merge(let bucket, let key, let state, let mode):
            if let newest = state.siblings.map(\.timestamp).max() { observe(newest) }
            update(bucket: bucket, key: key, acknowledgeOnly: true, respond: respond) { current in
                ReplicaWrite.merge(current: current, incoming: state, mode: mode)
            }
        case .setBucketProps(let bucket, let newProps):
            // Off the caller's thread: this may be a network event loop, and storing commits.
            readQueue.async { [self] in respond(storeProps(bucket: bucket, props: newProps)) }
        case .storeHint(let target, let bucket, let key, let state, let mode):
            hints.take(target: target, bucket: bucket, key: key, state: state, mode: mode, respond: respond)
        case .gossip:
            respond(.failure(code: "bad_parameter", message: "gossip goes to the membership service, not a replica"))
        case .mergeBatch(let compressed, let originalLength):
            mergeBatch(compressed: compressed, originalLength: originalLength, respond: respond)
        case .treeRoot, .treeHashes, .segmentKeys:
            // Scans and hashing: off the caller's thread, which may be a network event loop.
            readQueue.async { [self] in respond(answerAntiEntropy(request)) }
        case .ping:
            respond(.pong)
        case .purge(let bucket, let key, let digest):
            purge(bucket: bucket, key: key, digest: digest, respond: respond)
        }
    }

    /// Removes a tombstone whose version digest is still `digest`, and takes it out of the
    /// partition's Merkle tree, so anti-entropy sees the replicas agree on "absent".
    private func purge(bucket: String, key: [UInt8], digest: UInt64, respond: @escaping @Sendable (PeerResponse) -> Void) {
        let partition = ring.partition(bucket: bucket, key: key)
        store.deleteState(partition: partition, bucket: bucket, key: key, matches: { StableHash.hash($0) == digest }) {
            [self] result in
            switch result {
            case .success(.some):
                trees.record(partition: partition, keyHash: StableHash.keyHash(bucket: bucket, key: key), old: digest, new: nil)
                respond(.ack)
            case .success(nil):
                respond(.failure(code: "precondition_failed", message: "the state changed or is absent; not purged"))
            case .failure(let error):
                respond(failure(error, doing: "purge"))
            }
        }
    }

    /// Merges every state of an anti-entropy batch; acks once all are committed.
    private func mergeBatch(compressed: [UInt8], originalLength: Int, respond: @escaping @Sendable (PeerResponse) -> Void) {
        let batch: RepairBatch
        do {
            guard originalLength <= limits.frameBytesMax else { throw WireError.malformed("batch of \(originalLength) bytes") }
            batch = try RepairBatch(decoding: try LZ4Codec.decompress(compressed, originalLength: originalLength))
        } catch {
            return respond(.failure(code: "bad_parameter", message: "unreadable repair batch: \(error)"))
        }
        guard !batch.entries.isEmpty else { return respond(.ack) }
        let remaining = Mutex((count: batch.entries.count, failed: false))
        for entry in batch.entries {
            handle(.merge(bucket: entry.bucket, key: entry.key, state: entry.state, mode: entry.mode)) { response in
                let (done, failed) = remaining.withLock { state -> (Bool, Bool) in
                    if case .ack = response {} else { state.failed = true }
                    state.count -= 1
                    return (state.count == 0, state.failed)
                }
                guard done else { return }
                respond(failed ? .failure(code: "internal", message: "some states of the repair batch were not stored") : .ack)
            }
        }
    }

    /// Answers a peer's exchange from this node's live tree of the partition (kept up to
    /// date on every committed write) and, for segment keys, a scan of the partition.
    private func answerAntiEntropy(_ request: PeerRequest) -> PeerResponse {
        let notReady = PeerResponse.failure(
            code: "unavailable", message: "\(nodeID) has no Merkle tree of that partition (still building, or not a replica of it)")
        switch request {
        case .treeRoot(let partition):
            guard let root = trees.withTree(partition, { $0.root }) else { return notReady }
            return .treeRoot(hash: root, segmentCount: trees.shape.segmentCount, fanOut: trees.shape.fanOut)
        case .treeHashes(let partition, let level, let indices):
            guard let hashes = trees.withTree(partition, { $0.hashes(level: level, indices: indices) }) else { return notReady }
            return .treeHashes(hashes)
        case .segmentKeys(let partition, let segments):
            guard partition >= 0, partition < ring.partitionCount else {
                return .failure(code: "bad_parameter", message: "partition \(partition) is outside the ring")
            }
            do {
                return .segmentKeys(try trees.segmentKeys(partition: partition, segments: segments))
            } catch {
                return failure(error, doing: "list segment keys")
            }
        default:
            return .failure(code: "bad_parameter", message: "not an anti-entropy request")
        }
    }

    private func storeProps(bucket: String, props newProps: BucketProps) -> PeerResponse {
        do {
            try props.store(bucket: bucket, props: newProps)
            return .ack
        } catch {
            return .failure(code: error.code, message: error.message)
        }
    }

    /// Live keys of one bucket in one partition; tombstoned keys are skipped.
    private func listKeys(bucket: String, partition: Int, after: [UInt8]?, limit: Int) -> PeerResponse {
        guard partition >= 0, partition < ring.partitionCount else {
            return .failure(code: "bad_parameter", message: "partition \(partition) is outside the ring")
        }
        do {
            let rows = try store.scan(partition: partition, after: (bucket: bucket, key: after ?? []), limit: limit)
            let inBucket = rows.prefix { $0.bucket == bucket }
            var keys: [[UInt8]] = []
            for row in inBucket where try !KeyState(decoding: row.blob).isDeleted { keys.append(row.key) }
            let more = rows.count == limit && inBucket.count == rows.count
            return .keys(keys, resumeAfter: more ? inBucket.last?.key : nil)
        } catch {
            return failure(error, doing: "list keys")
        }
    }

    /// The key's state as a fetch answer. Without `waitForReader`, nil when every reader
    /// connection is busy (the caller must not wait: it may be a network thread).
    private func fetch(bucket: String, key: [UInt8], waitForReader: Bool) -> PeerResponse? {
        do {
            let partition = ring.partition(bucket: bucket, key: key)
            let blob: [UInt8]?
            if waitForReader {
                blob = try store.read(partition: partition, bucket: bucket, key: key)
            } else {
                guard case .read(let found) = try store.readIfIdle(partition: partition, bucket: bucket, key: key) else { return nil }
                blob = found
            }
            return .state(try blob.map { try KeyState(decoding: $0) })
        } catch {
            return failure(error, doing: "read")
        }
    }

    /// Runs `transform` inside the writer's group commit and answers once it committed.
    private func update(
        bucket: String, key: [UInt8], acknowledgeOnly: Bool = false,
        respond: @escaping @Sendable (PeerResponse) -> Void,
        transform: @escaping @Sendable (KeyState?) throws -> KeyState
    ) {
        let partition = ring.partition(bucket: bucket, key: key)
        // The version digests before and after, taken in the writer's transaction and told
        // to the partition's Merkle tree once the write committed (completions run in
        // commit order; a failed commit tells it nothing).
        let digests = Mutex<(old: UInt64?, new: UInt64?)>((nil, nil))
        store.update(partition: partition, bucket: bucket, key: key, transform: { blob in
            let current = try blob.map { try KeyState(decoding: $0) }
            let next = try transform(current).encoded()
            digests.withLock { $0 = (blob.map { StableHash.hash($0) }, StableHash.hash(next)) }
            return next
        }, completion: { [self] result in
            switch result {
            case .success(let blob):
                let change = digests.withLock { $0 }
                trees.record(
                    partition: partition, keyHash: StableHash.keyHash(bucket: bucket, key: key), old: change.old,
                    new: change.new)
                if acknowledgeOnly { return respond(.ack) }
                guard let blob, let state = try? KeyState(decoding: blob) else {
                    return respond(.failure(code: "internal", message: "the replica stored a state it cannot read back"))
                }
                respond(.state(state))
            case .failure(let error):
                respond(failure(error, doing: "write"))
            }
        })
    }

    private func failure(_ error: any Error, doing operation: String) -> PeerResponse {
        if let error = error as? KVError { return .failure(code: error.code, message: error.message) }
        let message: String
        if let error = error as? StoreError {
            if case .overloaded = error { return .failure(code: "overloaded", message: error.message) }
            message = error.message
        } else if let error = error as? WireError {
            message = "a stored state could not be decoded: \(error.message)"
        } else {
            message = "\(error)"
        }
        logger.error("replica \(operation) failed", metadata: ["error": "\(message)"])
        return .failure(code: "internal", message: "replica \(nodeID) could not \(operation): \(message)")
    }
}
