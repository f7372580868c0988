import QuorumCore
import QuorumServices

/// One simulated QuorumKV node. Client requests run through the node's own
/// `RequestDriver` (QuorumServices), on the world's agenda, with peer messages crossing the
/// simulated network as encoded frames.
///
/// This file: identity, the replica (answering peer requests against `MemoryStore`),
/// calls to peers, and crash and restart. Hints and gossip are in the extensions beside
/// it; anti-entropy, tombstone purges and stray-copy clearing are the node's
/// `AntiEntropyDriver`.
final class SimulatedNode {
    let index: Int
    let id: String
    /// As the real node's: the node id plus the store's creation time. The store is never
    /// wiped here, so it stays the same across restarts.
    let actorID: String
    unowned let world: SimulatedWorld
    let limits = Limits.defaults
    let hintLimits: HintLimits

    var clock = SimulatedClock()
    var store = MemoryStore()
    private(set) var isUp = true
    /// Raised by every crash and restart; work started by an earlier incarnation (a
    /// queued write, a reply, a timer) checks it and does nothing.
    private(set) var incarnation = 0
    /// Deliberate bugs switched on in the node's services.
    var faults: FaultPoints { FaultPoints(bug: world.config.bug) }
    var hlc = HybridLogicalClock()
    var gossip: Gossip
    var hints: HintQueue
    var trees: [Int: MerkleTree] = [:]
    /// The node's request path; made anew by each start, as a process's would be.
    private(set) var requests: RequestDriver!
    private(set) var requestContext: SimulatedRequestContext!
    /// The node's replica side; made anew by each start.
    private(set) var replica: ReplicaDriver!
    /// The node's anti-entropy (with its purge and stray-copy passes); made anew by each start.
    private(set) var antiEntropy: AntiEntropyDriver!

    private var nextCallID: UInt64 = 0
    /// Calls waiting for an answer, each with what to do when none comes.
    private var pendingCalls: [UInt64: () -> Void] = [:]
    /// When the disk's writer is free: writes commit one after another, in queue order.
    private var diskFreeAt: UInt64 = 0
    /// Client requests this node coordinates, by request number: told `indeterminate` on a crash.
    var openRequests: [UInt64: () -> Void] = [:]
    var nextRequest: UInt64 = 0

    init(index: Int, id: String, world: SimulatedWorld) {
        self.index = index
        self.id = id
        self.world = world
        var hintLimits = ServiceDefaults.hintLimits
        hintLimits.ageMaxMilliseconds = world.config.hintAgeMaxMilliseconds
        self.hintLimits = hintLimits
        actorID = "\(id).sim"
        gossip = Gossip(local: id, generation: 0, state: world.membership, nowMilliseconds: 0)
        hints = HintQueue(limits: .defaults)
    }

    /// Wall-clock milliseconds as this node reads them.
    var wallNow: UInt64 { clock.nowMilliseconds(virtual: world.now) }

    // MARK: Lifecycle

    /// Starts the node's process: a fresh HLC, gossip with a new generation (above the
    /// last run's, see `HeartbeatGeneration`), hints restored from the store, trees built
    /// from it.
    func start() {
        let now = wallNow
        hlc = HybridLogicalClock()
        let generation = world.config.bug == .generationFromWallClock
            ? now : HeartbeatGeneration.next(previous: store.generation, nowMilliseconds: now)
        store.generation = generation
        gossip = Gossip(local: id, generation: generation, state: world.membership, nowMilliseconds: now)
        hints = HintQueue(restoring: store.allHints(), limits: hintLimits)
        trees = [:]
        for (name, row) in store.all() {
            recordInTree(partition: name.partition, bucket: name.bucket, key: name.key, old: nil, new: row.digest)
        }
        let storage = SimulatedStorage(node: self)
        replica = ReplicaDriver(
            nodeID: id, limits: limits, storage: storage, trees: storage, context: SimulatedReplicaContext(node: self),
            faults: faults)
        requestContext = SimulatedRequestContext(node: self)
        requests = RequestDriver(
            nodeID: id, limits: limits, readRepairProbability: world.config.readRepairProbability,
            executor: SimulatedExecutor(node: self), replicas: SimulatedReplicaCaller(node: self), context: requestContext,
            random: SimulatedRandom(world: world), faults: faults)
        antiEntropy = AntiEntropyDriver(
            nodeID: id, limits: world.config.antiEntropyLimits, routineExchanges: true,
            purgesTombstones: world.config.purgesTombstones, executor: SimulatedExecutor(node: self),
            replicas: SimulatedReplicaCaller(node: self), storage: storage, trees: storage,
            context: SimulatedAntiEntropyContext(node: self), clock: SimulatedServiceClock(node: self), faults: faults)
        diskFreeAt = world.now
    }

    /// The process dies: queued writes are lost, calls in flight never answer, and the
    /// clients of requests it coordinated learn nothing of their fate.
    func crash() {
        guard isUp else { return }
        isUp = false
        incarnation += 1
        pendingCalls = [:]
        let open = openRequests.sorted { $0.key < $1.key }.map(\.value)
        openRequests = [:]
        for tell in open { tell() }
    }

    func restart() {
        precondition(!isUp, "seed \(world.seed): \(id) restarted while up")
        isUp = true
        incarnation += 1
        start()
    }

    // MARK: Calls to replicas

    /// Sends `request` to `target` and calls `completion` once with its answer, or nil on
    /// a timeout or refused connection. To this node itself it goes straight to the local
    /// replica, as `ReplicaRouter` does, without a timeout.
    func call(_ target: String, _ request: PeerRequest, timeoutMilliseconds: UInt64, completion: @escaping (PeerResponse?) -> Void) {
        if target == id {
            replica.handle(request, respond: completion)
            return
        }
        let frame = request.encoded()
        exchange(with: target, timeoutMilliseconds: timeoutMilliseconds, serve: { peer, respond in
            peer.serve(frame) { respond($0.encoded()) }
        }) { bytes in
            completion(bytes.flatMap { try? PeerResponse(decoding: $0) })
        }
    }

    /// A peer's frame, as the node's peer server takes it: decoded by the real codec, then
    /// answered like any request (an undecodable one with a failure, as the server does).
    func serve(_ frame: [UInt8], _ respond: @escaping (PeerResponse) -> Void) {
        let request: PeerRequest
        do {
            request = try PeerRequest(decoding: frame)
        } catch {
            return respond(.failure(code: "bad_parameter", message: "undecodable request: \(error)"))
        }
        if case .gossip(let message) = request { return respond(.gossip(message: receiveGossip(message))) }
        replica.handle(request, respond: respond)
    }

    /// One request and its answer over the simulated network: `serve` runs on the peer
    /// when the request arrives; its answer travels back. Exactly one `completion`, with
    /// nil on a timeout, a refused connection (peer down) or a crash of the peer meanwhile.
    func exchange<Response>(
        with target: String, timeoutMilliseconds: UInt64,
        serve: @escaping (SimulatedNode, @escaping (Response) -> Void) -> Void, completion: @escaping (Response?) -> Void
    ) {
        guard let peer = world.node(target) else { return completion(nil) }
        let callID = nextCallID
        nextCallID += 1
        pendingCalls[callID] = { completion(nil) }
        let sent = incarnation
        world.schedule(after: timeoutMilliseconds) { [self] in
            guard incarnation == sent, let timedOut = pendingCalls.removeValue(forKey: callID) else { return }
            timedOut()
        }
        world.send(from: index, to: peer.index) { [self] in
            guard peer.isUp else {
                // Connection refused: the caller hears of it a round trip later.
                world.send(from: peer.index, to: index) { [self] in
                    guard incarnation == sent, let refused = pendingCalls.removeValue(forKey: callID) else { return }
                    refused()
                }
                return
            }
            let serving = peer.incarnation
            serve(peer) { [self] response in
                guard peer.incarnation == serving else { return }
                world.send(from: peer.index, to: index) { [self] in
                    guard incarnation == sent, pendingCalls.removeValue(forKey: callID) != nil else { return }
                    completion(response)
                }
            }
        }
    }

    // MARK: The replica

    /// Keeps a partition's tree in step with a committed change, as the node's storage does.
    func recordInTree(partition: Int, bucket: String, key: [UInt8], old: UInt64?, new: UInt64?) {
        guard old != new else { return }
        trees[partition, default: MerkleTree(shape: world.config.antiEntropyLimits.shape)].update(
            keyHash: StableHash.keyHash(bucket: bucket, key: key), old: old, new: new)
    }

    /// Runs `commit` when the disk's writer gets to it (1–3 ms per write, in order). In
    /// mixes with crashes, one write in 50 stalls the writer for 50–800 ms (a slow fsync),
    /// holding up every write queued behind it: leads time out after committing.
    func diskWrite(_ commit: @escaping () -> Void) {
        let queued = incarnation
        var latency = world.draw(1...3)
        if world.mix.crashesNodes && world.random.below(50) == 0 { latency += world.draw(50...800) }
        diskFreeAt = max(world.now, diskFreeAt) + latency
        world.schedule(after: diskFreeAt - world.now) { [self] in
            guard incarnation == queued else { return }
            commit()
        }
    }

    func tree(_ partition: Int) -> MerkleTree {
        var tree = trees[partition] ?? MerkleTree(shape: world.config.antiEntropyLimits.shape)
        tree.refresh()
        return tree
    }

    /// The (bucket, key, digest) entries of some segments of a partition, from a scan.
    func segmentKeys(partition: Int, segments: [Int]) -> [SegmentKey] {
        let wanted = Set(segments)
        let shape = world.config.antiEntropyLimits.shape
        return store.scan(partition: partition).filter { wanted.contains(shape.segment(bucket: $0.name.bucket, key: $0.name.key)) }
            .map { SegmentKey(bucket: $0.name.bucket, key: $0.name.key, digest: $0.row.digest) }
    }
}
