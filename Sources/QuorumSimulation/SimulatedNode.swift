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
    /// This store's identity in version vectors, as the node's (node id plus the store's
    /// creation): the same across restarts, new after a wiped disk.
    var actorID: String { actorID(generation: diskGeneration) }
    /// Raised each time the node's disk is wiped: the store's identity changes with it, as
    /// the node's actor id (node id plus the store's creation time) does.
    private(set) var diskGeneration = 0
    /// Every actor id this node's stores had, oldest first.
    var actorIDs: [String] { (0...diskGeneration).map(actorID(generation:)) }
    /// The disk refuses writes (full) until freed; writes fail cleanly.
    var diskFull = false
    /// The next commit fails to reach the disk: by the node's policy the process stops.
    var failNextCommit = false
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
    /// The node's gossip and failure detector, and its ring changes; made anew by each start.
    private(set) var membership: MembershipDriver!
    private(set) var ringChanges: RingChangeDriver!
    /// The rings this node places requests by, as its ring-change driver installed them.
    var serving: Ring
    var target: Ring
    /// Peers the membership driver last published as down.
    var down: Set<String> = [] {
        didSet { if down != oldValue { downGeneration += 1 } }
    }
    /// Raised by every change of `down` (as the node's `DownPeers` counts them).
    private(set) var downGeneration: UInt64 = 0
    /// A founding member; a spare starts alone and empty, as `serve --join` starts a node.
    let isFounder: Bool
    /// Left the cluster and stopped, as the node's process exits after its departure: never
    /// restarted.
    private(set) var retired = false
    /// The node's hinted handoff; made anew by each start, from the hints on its disk.
    private(set) var hints: HintDriver!
    var trees: [Int: MerkleTree] = [:]
    /// The node's request path; made anew by each start, as a process's would be.
    private(set) var requests: RequestDriver!
    /// The node's replica side; made anew by each start.
    private(set) var replica: ReplicaDriver!
    /// The node's anti-entropy (with its purge and stray-copy passes); made anew by each start.
    private(set) var antiEntropy: AntiEntropyDriver!
    /// Ends Paxos catch-up after a wiped disk (issue #17), ticked with gossip.
    private(set) var catchUp: PaxosCatchUpDriver!

    private var nextCallID: UInt64 = 0
    /// Calls waiting for an answer, each with what to do when none comes.
    private var pendingCalls: [UInt64: () -> Void] = [:]
    /// When the disk's writer is free: writes commit one after another, in queue order.
    private var diskFreeAt: UInt64 = 0
    /// Client requests this node coordinates, by request number: told `indeterminate` on a crash.
    var openRequests: [UInt64: () -> Void] = [:]
    var nextRequest: UInt64 = 0

    init(index: Int, id: String, isFounder: Bool, world: SimulatedWorld) {
        self.index = index
        self.id = id
        self.isFounder = isFounder
        self.world = world
        var hintLimits = ServiceDefaults.hintLimits
        hintLimits.ageMaxMilliseconds = world.config.hintAgeMaxMilliseconds
        self.hintLimits = hintLimits
        serving = world.ring
        target = world.ring
        // The founders' stores stand for a cluster that has long caught up (a new cluster's
        // catch-up round is the real-process tests' business); a spare's is new.
        if isFounder { store.consensusFloor = .voting(floor: nil) }
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
        let generation = MembershipDriver.generation(previous: store.generation, nowMilliseconds: now, faults: faults)
        store.generation = generation
        hints = HintDriver(
            restored: store.allHints(), limits: hintLimits, storage: SimulatedHintStorage(node: self),
            replicas: SimulatedReplicaCaller(node: self), clock: SimulatedNodeClock(node: self), log: SimulatedLog(),
            deliveryTimeoutMilliseconds: limits.requestTimeoutMillisecondsDefault, faults: faults)
        trees = [:]
        for (name, row) in store.all() {
            recordInTree(partition: name.partition, bucket: name.bucket, key: name.key, old: nil, new: row.digest)
        }
        let storage = SimulatedStorage(node: self)
        replica = ReplicaDriver(
            nodeID: id, partitionCount: world.config.partitionCount, limits: limits, storage: storage, trees: storage, context: SimulatedReplicaContext(node: self),
            clock: SimulatedNodeClock(node: self), faults: faults)
        requests = RequestDriver(
            nodeID: id, limits: limits, readRepairProbability: world.config.readRepairProbability,
            executor: SimulatedExecutor(node: self), replicas: SimulatedReplicaCaller(node: self), context: SimulatedRequestContext(node: self),
            random: SimulatedRandom(world: world), faults: faults)
        antiEntropy = AntiEntropyDriver(
            nodeID: id, limits: world.config.antiEntropyLimits, routineExchanges: true,
            purgesTombstones: world.config.purgesTombstones, executor: SimulatedExecutor(node: self),
            replicas: SimulatedReplicaCaller(node: self), storage: storage, trees: storage,
            context: SimulatedAntiEntropyContext(node: self), clock: SimulatedNodeClock(node: self), faults: faults)
        startMembership(generation: generation)
        catchUp = PaxosCatchUpDriver(
            nodeID: id, replicas: SimulatedReplicaCaller(node: self), context: SimulatedReplicaContext(node: self),
            members: { [unowned self] in Set(serving.members).union(target.members) },
            timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault)
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

    /// The node left and its departure spread: its process stops for good.
    func retire() {
        crash()
        retired = true
    }

    func restart() {
        precondition(!isUp, "seed \(world.seed): \(id) restarted while up")
        isUp = true
        incarnation += 1
        start()
    }

    /// The node's gossip and ring changes, from the state on its disk merged with the
    /// founders, as the node's `MembershipBootstrap` starts them.
    private func startMembership(generation: UInt64) {
        let founding = isFounder ? world.membership : MembershipState(partitionCount: world.config.partitionCount)
        let state = store.membership.map { $0.merged(with: founding) } ?? founding
        let log = SimulatedLog()
        membership = MembershipDriver(
            local: id, peerAddress: "\(id):7000", httpAddress: "\(id):8000", state: state, generation: generation,
            replicas: SimulatedReplicaCaller(node: self), clock: SimulatedNodeClock(node: self),
            random: SimulatedRandom(world: world), context: SimulatedMembershipContext(node: self), log: log, faults: faults)
        ringChanges = RingChangeDriver(
            membership: membership, executor: SimulatedExecutor(node: self), seeds: SimulatedSeedCaller(node: self),
            context: SimulatedRingChangeContext(node: self), log: log,
            gossipIntervalMilliseconds: Int(world.config.gossipIntervalMilliseconds))
        ringChanges.membershipChanged(membership.state)
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
        if case .gossip(let message) = request { return respond(.gossip(message: membership.receive(message, from: "peer"))) }
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
    ///
    /// A full disk fails the write cleanly (`failed`); a commit that cannot be made durable
    /// (a failed fsync) stops the node, as the node's store does: the kernel may have
    /// dropped the pages, so nothing after it could be trusted.
    func diskWrite(_ commit: @escaping () -> Void, failed: @escaping (StorageFailure) -> Void = { _ in }) {
        let queued = incarnation
        var latency = world.draw(1...3)
        if world.mix.crashesNodes && world.random.below(50) == 0 { latency += world.draw(50...800) }
        diskFreeAt = max(world.now, diskFreeAt) + latency
        world.schedule(after: diskFreeAt - world.now) { [self] in
            guard incarnation == queued else { return }
            if failNextCommit {
                failNextCommit = false
                world.storeErrors += 1
                return crash()
            }
            if diskFull {
                world.storeErrors += 1
                return failed(.full("the disk is full; free space on the data directory's volume"))
            }
            commit()
        }
    }

    private func actorID(generation: Int) -> String {
        generation == 0 ? "\(id).sim" : "\(id).sim\(generation)"
    }

    /// The disk is replaced while the node is down: it restarts empty, with a new store
    /// identity, so nothing it issues reuses an identifier from before.
    func wipeDisk() {
        precondition(!isUp, "seed \(world.seed): \(id)'s disk wiped while it runs")
        store = MemoryStore()
        diskGeneration += 1
        world.wipes.append((node: id, at: world.now))
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
