import Logging
import NIOCore
import NIOPosix
import QuorumCore
import Synchronization

/// Coordinates client requests across the key's replicas: the `KVService` every client
/// server calls. Decisions come from `GetCoordinator` and `PutCoordinator`; this type
/// only sends what they ask for and feeds the answers back.
final class RequestCoordinator: KVService {
    private let nodeID: String
    private let rings: RingView
    /// The serving ring now; a request reads it once where it needs several answers from one ring.
    private var ring: Ring { rings.serving }
    private let router: ReplicaRouter
    private let local: LocalReplica
    private let registry: BucketRegistry
    private let peers: PeerDirectory
    private let limits: Limits
    private let eventLoop: any EventLoop
    private let inFlight = Atomic<Int>(0)
    private let logger: Logger
    private let storageStatus: @Sendable () -> StorageStatus
    private let readRepairProbability: Double
    private let sloppyQuorum: Bool
    private let hints: HintService
    private let membership: MembershipService
    private let antiEntropy: AntiEntropyService
    private let changes: RingChangeService
    let counters = NodeCounters()
    private let startedMilliseconds = WallClock.nowMilliseconds()

    init(
        nodeID: String, rings: RingView, router: ReplicaRouter, local: LocalReplica, registry: BucketRegistry,
        peers: PeerDirectory, limits: Limits, eventLoop: any EventLoop, logger: Logger,
        readRepairProbability: Double, sloppyQuorum: Bool, hints: HintService, membership: MembershipService,
        antiEntropy: AntiEntropyService, changes: RingChangeService,
        storageStatus: @escaping @Sendable () -> StorageStatus
    ) {
        self.sloppyQuorum = sloppyQuorum
        self.membership = membership
        self.antiEntropy = antiEntropy
        self.changes = changes
        self.hints = hints
        self.storageStatus = storageStatus
        self.readRepairProbability = readRepairProbability
        self.nodeID = nodeID
        self.rings = rings
        self.router = router
        self.local = local
        self.registry = registry
        self.peers = peers
        self.limits = limits
        self.eventLoop = eventLoop
        self.logger = logger
    }

    // MARK: reads

    func get(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> ReadResult {
        try await awaitCompletion { get(bucket: bucket, key: key, options: options, completion: $0) }
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions, completion: @escaping KVCompletion<ReadResult>) {
        let props: BucketProps, resolved: ResolvedOptions
        do throws(KVError) {
            (props, resolved) = try prepare(bucket: bucket, key: key, options: options, for: .read)
        } catch {
            return completion(.failure(error))
        }
        let coordinator = GetCoordinator(plan: replicaPlan(bucket: bucket, key: key, n: resolved.n), options: resolved, mode: props.conflict)
        let run = RequestRun<GetCoordinator, GetCoordinator.Outcome>(coordinator: coordinator) { [self] outcome in
            inFlight.subtract(1, ordering: .relaxed)
            switch outcome {
            case .succeeded(let state, let replies):
                let context = state.map { $0.clock.isEmpty ? "" : $0.context.contextToken } ?? ""
                completion(.success(ReadResult(siblings: state?.liveSiblings ?? [], context: context, replies: replies)))
            case .failed(let error):
                completion(.failure(error))
            case .pending:
                completion(.failure(.internalError(message: "read finished without an outcome")))
            }
        }
        for node in coordinator.initialNodes {
            fetch(from: node, bucket: bucket, key: key, mode: props.conflict, run: run, timeoutMilliseconds: resolved.timeoutMilliseconds)
        }
        // A read answered by local replicas alone is done already and needs no timer.
        armDeadline(run, milliseconds: resolved.timeoutMilliseconds) { coordinator in
            let outcome = coordinator.deadlinePassed()
            return outcome == .pending ? nil : outcome
        }
    }

    /// Asks one replica slot's node; a failure may hand the slot to a stand-in, asked in turn.
    private func fetch(
        from node: String, bucket: String, key: [UInt8], mode: ConflictMode,
        run: RequestRun<GetCoordinator, GetCoordinator.Outcome>, timeoutMilliseconds: Int
    ) {
        router.call(node, .fetch(bucket: bucket, key: key), timeoutMilliseconds: Self.replicaTimeout(timeoutMilliseconds)) { [self] result in
            let (step, repair) = run.step { coordinator -> (GetCoordinator.Step, (state: KeyState, nodes: [String])?) in
                let step: GetCoordinator.Step
                if case .success(.state(let state)) = result {
                    step = .outcome(coordinator.receive(state: state, from: node))
                } else {
                    step = coordinator.receiveFailure(from: node)
                }
                return (step, coordinator.takeReadRepair())
            }
            switch step {
            case .outcome(let outcome):
                if outcome != .pending { run.finish(outcome) }
            case .ask(let standIn, let outcome):
                if outcome != .pending { run.finish(outcome) }
                fetch(from: standIn, bucket: bucket, key: key, mode: mode, run: run, timeoutMilliseconds: timeoutMilliseconds)
            }
            if let repair { readRepair(bucket: bucket, key: key, mode: mode, state: repair.state, nodes: repair.nodes) }
        }
    }

    /// Sends the merged version to replicas that answered with older ones. Runs after
    /// the client has its answer; a failed repair is left to the next read or anti-entropy.
    private func readRepair(bucket: String, key: [UInt8], mode: ConflictMode, state: KeyState, nodes: [String]) {
        guard readRepairProbability >= 1 || Double.random(in: 0..<1) < readRepairProbability else { return }
        counters.readRepairs.add(1, ordering: .relaxed)
        counters.readRepairReplicas.add(nodes.count, ordering: .relaxed)
        for node in nodes {
            router.call(node, .merge(bucket: bucket, key: key, state: state, mode: mode), timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { _ in }
        }
    }

    /// The key's replica slots: its preference list, with stand-ins past it when sloppy.
    private func replicaPlan(bucket: String, key: [UInt8], n: Int) -> ReplicaPlan {
        let ring = ring
        let partition = ring.partition(bucket: bucket, key: key)
        return ReplicaPlan(
            primaries: ring.preferenceList(partition: partition, n: n), fallbacks: ring.fallbacks(partition: partition, n: n),
            down: unreachablePeers(), sloppy: sloppyQuorum)
    }

    /// Peers believed down: the failure detector's view, plus peers the transport could
    /// not connect to lately (a refused connection is known before heartbeats stop).
    /// Their slots start on stand-ins.
    private func unreachablePeers() -> Set<String> {
        membership.unreachable().union(peers.snapshot().filter { !$0.reachable }.map(\.nodeID))
    }

    /// How long one replica may take before its slot moves to a stand-in: half the
    /// request's time, so the stand-in still has the other half.
    private static func replicaTimeout(_ requestTimeoutMilliseconds: Int) -> Int {
        max(1, requestTimeoutMilliseconds / 2)
    }

    // MARK: writes

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions
    ) async throws(KVError) -> WriteResult {
        try await awaitCompletion {
            put(bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
                conditions: conditions, completion: $0)
        }
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions, completion: @escaping KVCompletion<WriteResult>
    ) {
        guard value.count <= limits.valueBytesMax else {
            return completion(.failure(.tooLarge(what: "value", bytes: value.count, limit: limits.valueBytesMax)))
        }
        do throws(KVError) {
            let intent = WriteIntent(
                value: value, contentType: contentType, isTombstone: false, context: try Self.parseContext(context))
            write(bucket: bucket, key: key, intent: intent, options: options, conditions: conditions, completion: completion)
        } catch {
            completion(.failure(error))
        }
    }

    func delete(bucket: String, key: [UInt8], context: String?, options: RequestOptions) async throws(KVError) -> WriteResult {
        try await awaitCompletion { delete(bucket: bucket, key: key, context: context, options: options, completion: $0) }
    }

    func delete(
        bucket: String, key: [UInt8], context: String?, options: RequestOptions, completion: @escaping KVCompletion<WriteResult>
    ) {
        do throws(KVError) {
            write(
                bucket: bucket, key: key, intent: .delete(context: try Self.parseContext(context)), options: options,
                conditions: WriteConditions(), completion: completion)
        } catch {
            completion(.failure(error))
        }
    }

    private func write(
        bucket: String, key: [UInt8], intent: WriteIntent, options: RequestOptions, conditions: WriteConditions,
        completion: @escaping KVCompletion<WriteResult>
    ) {
        let props: BucketProps, resolved: ResolvedOptions
        do throws(KVError) {
            (props, resolved) = try prepare(bucket: bucket, key: key, options: options, for: .write)
        } catch {
            return completion(.failure(error))
        }
        let timestamp = local.tick()
        var lwwVersion: Sibling?
        if props.conflict == .lww {
            lwwVersion = Sibling(
                dot: Dot(actor: local.actorID, counter: 0), value: intent.value, contentType: intent.contentType,
                isTombstone: intent.isTombstone, timestamp: timestamp)
        }
        let coordinator = PutCoordinator(
            plan: replicaPlan(bucket: bucket, key: key, n: resolved.n), options: resolved, mode: props.conflict, localNode: nodeID, lwwVersion: lwwVersion,
            leadRequired: conditions.ifNoneMatch)
        let request = WriteRequest(
            bucket: bucket, key: key, intent: intent, mode: props.conflict, timestamp: timestamp,
            ifAbsent: conditions.ifNoneMatch, timeoutMilliseconds: resolved.timeoutMilliseconds)
        let run = RequestRun<PutCoordinator, PutCoordinator.Outcome>(coordinator: coordinator) { [self] outcome in
            inFlight.subtract(1, ordering: .relaxed)
            switch outcome {
            case .succeeded(let state, let acks):
                let context = props.conflict == .vclock ? state.context.contextToken : ""
                completion(.success(WriteResult(context: context, acks: acks, siblings: conditions.returnBody ? state.liveSiblings : [])))
            case .failed(let error):
                completion(.failure(error))
            }
        }
        perform(run.step { $0.start() }, run: run, request: request)
        armDeadline(run, milliseconds: resolved.timeoutMilliseconds) { coordinator in
            Self.finishing(coordinator.deadlinePassed())
        }
    }

    private struct WriteRequest: Sendable {
        var bucket: String
        var key: [UInt8]
        var intent: WriteIntent
        var mode: ConflictMode
        var timestamp: HLCTimestamp
        var ifAbsent: Bool
        var timeoutMilliseconds: Int
    }

    /// Carries out a write coordinator's actions in order and feeds the answers back.
    private func perform(
        _ actions: [PutCoordinator.Action], run: RequestRun<PutCoordinator, PutCoordinator.Outcome>, request: WriteRequest
    ) {
        let limits = limits
        for action in actions {
            switch action {
            case .askLead(let node):
                let message = PeerRequest.coordinateWrite(
                    bucket: request.bucket, key: request.key, intent: request.intent, mode: request.mode,
                    timestamp: request.timestamp, ifAbsent: request.ifAbsent)
                router.call(node, message, timeoutMilliseconds: Self.replicaTimeout(request.timeoutMilliseconds)) { [self] result in
                    let next = run.step { coordinator -> [PutCoordinator.Action] in
                        switch result {
                        case .success(.state(let state?)):
                            return coordinator.leadSucceeded(node: node, newState: state)
                        case .success(.failure(let code, let message)):
                            return coordinator.leadFailed(node: node, error: ReplicaWrite.clientError(code: code, message: message, limits: limits))
                        default:
                            return coordinator.leadFailed(node: node, error: nil)
                        }
                    }
                    perform(next, run: run, request: request)
                }
            case .replicate(let state, let targets):
                for target in targets {
                    let node = target.node
                    let message = target.hintFor.map { primary in
                        PeerRequest.storeHint(target: primary, bucket: request.bucket, key: request.key, state: state, mode: request.mode)
                    } ?? .merge(bucket: request.bucket, key: request.key, state: state, mode: request.mode)
                    router.call(node, message, timeoutMilliseconds: Self.replicaTimeout(request.timeoutMilliseconds)) { [self] result in
                        let next = run.step { coordinator -> [PutCoordinator.Action] in
                            if case .success(.ack) = result { return coordinator.replicaAcked(node: node) }
                            return coordinator.replicaFailed(node: node)
                        }
                        perform(next, run: run, request: request)
                    }
                }
            case .finish(let outcome):
                run.finish(outcome)
            }
        }
    }

    private static func finishing(_ actions: [PutCoordinator.Action]) -> PutCoordinator.Outcome? {
        for case .finish(let outcome) in actions { return outcome }
        return nil
    }

    // MARK: bucket props

    func bucketProps(bucket: String) async throws(KVError) -> BucketProps {
        try validateBucketName(bucket, limits: limits)
        return registry.props(for: bucket)
    }

    func setBucketProps(bucket: String, update: BucketPropsUpdate) async throws(KVError) -> BucketProps {
        try validateBucketName(bucket, limits: limits)
        var props = registry.props(for: bucket)
        if let n = update.n { props.n = n }
        if let r = update.r { props.r = r }
        if let w = update.w { props.w = w }
        if let conflict = update.conflict { props.conflict = conflict }
        guard props.n >= 1, props.n <= min(limits.replicasMax, ring.members.count) else {
            throw .badParameter(
                name: "n", message: "n must be 1...\(min(limits.replicasMax, ring.members.count)) (the cluster has \(ring.members.count) node(s)), got \(props.n)")
        }
        _ = try RequestOptions().resolve(props: props, clusterSize: ring.members.count, limits: limits)
        props.version = local.tick()
        try registry.store(bucket: bucket, props: props)
        broadcast(bucket: bucket, props: props)
        membership.publish(bucket: bucket, props: props)
        logger.info("bucket props changed", metadata: ["bucket": "\(bucket)", "n": "\(props.n)", "conflict": "\(props.conflict.rawValue)"])
        return props
    }

    /// Pushes props to every peer at once; peers that miss it catch up through gossip.
    func broadcast(bucket: String, props: BucketProps) {
        for member in ring.members where member != nodeID {
            router.call(member, .setBucketProps(bucket: bucket, props: props), timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { _ in }
        }
    }


    func ringReport() -> RingReport { RingReport(ring: ring) }

    // MARK: membership

    func joinCluster(seed: String) async throws(KVError) -> MembershipChange { try await changes.join(seed: seed) }

    func leaveCluster() async throws(KVError) -> MembershipChange { try changes.leave() }

    func status() async -> NodeStatus {
        let storage = storageStatus()
        return NodeStatus(
            node: nodeID, version: QuorumKVVersion.current,
            uptimeSeconds: Int((WallClock.nowMilliseconds() - startedMilliseconds) / 1000), ring: RingReport(ring: ring),
            peers: health().peers, hintsPending: hints.status.pending, antiEntropy: antiEntropy.status,
            storage: storage, requestsInFlight: inFlight.load(ordering: .relaxed), repair: counters.snapshot(),
            hints: hints.status, members: membership.view())
    }

    // MARK: key listing

    func listKeys(bucket: String, cursor: String?, limit: Int) async throws(KVError) -> KeyPage {
        try validateBucketName(bucket, limits: limits)
        guard (1...limits.keyPageMax).contains(limit) else {
            throw .badParameter(name: "limit", message: "limit must be 1...\(limits.keyPageMax), got \(limit)")
        }
        var position = try cursor.map { token throws(KVError) in try KeyCursor(token: token, partitionCount: ring.partitionCount) } ?? .start
        let props = registry.props(for: bucket)
        let n = min(props.n, ring.members.count)
        var keys: [[UInt8]] = []
        while keys.count < limit, position.partition < ring.partitionCount {
            let page = try await keysPage(bucket: bucket, at: position, limit: limit - keys.count, n: n)
            keys += page.keys
            if let resume = page.resumeAfter {
                position.after = resume
            } else {
                position = KeyCursor(partition: position.partition + 1, after: nil)
            }
        }
        return KeyPage(keys: keys, next: position.partition < ring.partitionCount ? position.token : nil)
    }

    /// Asks the partition's replicas in preference order until one answers.
    private func keysPage(bucket: String, at position: KeyCursor, limit: Int, n: Int) async throws(KVError) -> (keys: [[UInt8]], resumeAfter: [UInt8]?) {
        let request = PeerRequest.listKeys(bucket: bucket, partition: position.partition, after: position.after, limit: limit)
        for node in ring.preferenceList(partition: position.partition, n: n) {
            let response: Result<PeerResponse, any Error> = await withCheckedContinuation { continuation in
                router.call(node, request, timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { continuation.resume(returning: $0) }
            }
            if case .success(.keys(let keys, let resumeAfter)) = response { return (keys, resumeAfter) }
        }
        throw .quorumNotMet(operation: .read, needed: 1, answered: 0, primariesNeeded: 0, primariesAnswered: 0)
    }

    func health() -> HealthReport {
        let peerHealth = peers.snapshot().map { PeerHealth(node: $0.nodeID, address: $0.address, reachable: $0.reachable) }
        return HealthReport(node: nodeID, status: "ok", peers: peerHealth)
    }

    // MARK: helpers

    /// Checks the request and claims an in-flight slot (released by the caller).
    private func prepare(
        bucket: String, key: [UInt8], options: RequestOptions, for operation: QuorumOperation
    ) throws(KVError) -> (BucketProps, ResolvedOptions) {
        try validateBucketName(bucket, limits: limits)
        guard !key.isEmpty else { throw .badParameter(name: "key", message: "the key is empty; keys are 1 to \(limits.keyBytesMax) bytes") }
        guard key.count <= limits.keyBytesMax else { throw .tooLarge(what: "key", bytes: key.count, limit: limits.keyBytesMax) }
        let props = registry.props(for: bucket)
        let resolved = try options.resolve(props: props, clusterSize: ring.members.count, limits: limits, for: operation)
        let current = inFlight.add(1, ordering: .relaxed).newValue
        guard current <= limits.coordinatedRequestsMax else {
            inFlight.subtract(1, ordering: .relaxed)
            throw .overloaded(message: "this node is coordinating \(limits.coordinatedRequestsMax) requests already; retry shortly or spread requests over more nodes")
        }
        return (props, resolved)
    }

    /// Bounds a request that is still waiting for answers. The timer goes on the caller's
    /// event loop when there is one (a client connection's), so arming and cancelling it
    /// wake no other thread.
    private func armDeadline<C: Sendable, O: Sendable>(
        _ run: RequestRun<C, O>, milliseconds: Int, onDeadline: @escaping @Sendable (inout C) -> O?
    ) {
        guard !run.isFinished else { return }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? eventLoop
        let task = loop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
            if let outcome = run.step(onDeadline) { run.finish(outcome) }
        }
        run.setDeadline(task)
    }

    private static func parseContext(_ token: String?) throws(KVError) -> VersionVector {
        guard let token, !token.isEmpty else { return .empty }
        return try VersionVector(contextToken: token)
    }
}
