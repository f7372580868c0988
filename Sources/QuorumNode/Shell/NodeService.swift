import Logging
import QuorumCore
import QuorumServices
import Synchronization

/// The `KVService` this node offers its client servers. Key reads and writes go to the
/// request driver of the caller's event loop (`RequestDrivers`: the data path the
/// simulator runs too); bucket props, status, key listing, join and leave are answered here.
final class NodeService: KVService {
    private let nodeID: String
    private let rings: RingView
    /// The serving ring now; a request reads it once where it needs several answers from one ring.
    private var ring: Ring { rings.serving }
    private let drivers: LoopLocal<RequestDriver>
    private let requests: NodeRequestContext
    private let router: ReplicaRouter
    private let clock: NodeClock
    private let registry: BucketRegistry
    private let peers: PeerDirectory
    private let limits: Limits
    private let logger: Logger
    private let storageStatus: @Sendable () -> StorageStatus
    private let sloppyQuorum: Bool
    private let hints: OnLoop<HintDriver>
    private let cluster: OnLoop<ClusterServices>
    /// `/status`'s anti-entropy section, asked of the driver on its loop.
    private let antiEntropy: @Sendable () async -> AntiEntropyStatus
    private let startedMilliseconds = WallClock.nowMilliseconds()
    /// Versions the node's replicas found expired and stored stripped.
    private let expiryCounter: ExpiryCounter
    private let consensus: ConsensusStanding

    init(
        nodeID: String, rings: RingView, drivers: LoopLocal<RequestDriver>, requests: NodeRequestContext, router: ReplicaRouter,
        clock: NodeClock, registry: BucketRegistry, peers: PeerDirectory, limits: Limits, logger: Logger,
        sloppyQuorum: Bool, hints: OnLoop<HintDriver>, cluster: OnLoop<ClusterServices>,
        antiEntropy: @escaping @Sendable () async -> AntiEntropyStatus,
        storageStatus: @escaping @Sendable () -> StorageStatus, expiryCounter: ExpiryCounter, consensus: ConsensusStanding
    ) {
        self.expiryCounter = expiryCounter
        self.consensus = consensus
        self.nodeID = nodeID
        self.rings = rings
        self.drivers = drivers
        self.requests = requests
        self.router = router
        self.clock = clock
        self.registry = registry
        self.peers = peers
        self.limits = limits
        self.logger = logger
        self.sloppyQuorum = sloppyQuorum
        self.hints = hints
        self.cluster = cluster
        self.antiEntropy = antiEntropy
        self.storageStatus = storageStatus
    }

    // MARK: reads and writes

    func get(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> ReadResult {
        try await awaitCompletion { get(bucket: bucket, key: key, options: options, completion: $0) }
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions, completion: @escaping KVCompletion<ReadResult>) {
        let (sloppy, expiryCounter) = (sloppyQuorum, expiryCounter)
        drivers.run { driver in
            driver.get(bucket: bucket, key: key, options: options, sloppy: sloppy) { result in
                completion(result.map { outcome in
                    let context = outcome.state.map { $0.clock.isEmpty ? "" : $0.context.contextToken } ?? ""
                    let now = WallClock.nowMilliseconds()
                    if let hidden = outcome.state?.expiredCount(atMilliseconds: now), hidden > 0 { expiryCounter.addHidden(hidden) }
                    let visible = outcome.visibleState(atMilliseconds: now)
                    return ReadResult(siblings: visible?.liveSiblings ?? [], context: context, replies: outcome.replies)
                })
            }
        }
    }

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
        do throws(KVError) {
            let parsedContext = try Self.parseContext(context)
            let sloppy = sloppyQuorum
            let start: @Sendable (UInt64?) -> Void = { [self] deadline in
                let intent = WriteIntent(
                    value: value, contentType: contentType, isTombstone: false, context: parsedContext,
                    expiresAtMilliseconds: deadline)
                let command = WriteCommand(
                    bucket: bucket, key: key, intent: intent, options: options, ifAbsent: conditions.ifNoneMatch, sloppy: sloppy)
                write(command, returnBody: conditions.returnBody, completion: completion)
            }
            switch conditions.expiry {
            case .at(let deadline):
                start(deadline)
            case .none:
                try validateBucketName(bucket, limits: limits)
                let ttl = registry.props(for: bucket).ttlSeconds
                start(ttl.map { WallClock.nowMilliseconds() + $0 * 1000 })
            case .keep:
                // KEEPTTL: the deadline of the live versions now, read at r, then a write with
                // that deadline. An EXPIRE between the two touched the versions this write
                // supersedes, so the outcome is that of the EXPIRE ordered first.
                get(bucket: bucket, key: key, options: options) { result in
                    switch result {
                    case .success(let read): start(read.deadlineMilliseconds)
                    case .failure(let error): completion(.failure(error))
                    }
                }
            }
        } catch {
            completion(.failure(error))
        }
    }

    func expire(
        bucket: String, key: [UInt8], change: ExpiryChange, conditions: [ExpiryCondition], options: RequestOptions
    ) async throws(KVError) -> Bool {
        let command = TouchCommand(
            bucket: bucket, key: key, change: change, conditions: conditions, options: options, sloppy: sloppyQuorum)
        return try await awaitCompletion { completion in
            drivers.run { driver in
                driver.touch(command, nowMilliseconds: WallClock.nowMilliseconds()) { completion($0) }
            }
        }
    }

    func updateType(
        bucket: String, key: [UInt8], operation: TypedOperation, options: RequestOptions
    ) async throws(KVError) -> TypedUpdateResult {
        let command = TypedUpdateCommand(bucket: bucket, key: key, operation: operation, options: options, sloppy: sloppyQuorum)
        return try await awaitCompletion { completion in
            drivers.run { driver in
                driver.updateTyped(command) { result in
                    completion(result.map { TypedUpdateResult(reply: $0.reply, acks: $0.acks) })
                }
            }
        }
    }

    func readType(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions
    ) async throws(KVError) -> TypedReadResult {
        let sloppy = sloppyQuorum
        return try await awaitCompletion { completion in
            drivers.run { driver in
                driver.readTyped(bucket: bucket, key: key, members: members, options: options, sloppy: sloppy) { result in
                    completion(result.map { TypedReadResult(state: $0.state, replies: $0.replies) })
                }
            }
        }
    }

    func strong(
        bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions
    ) async throws(KVError) -> StrongAnswer {
        let command = StrongCommand(bucket: bucket, key: key, operation: operation, options: options)
        return try await awaitCompletion { completion in
            drivers.run { driver in driver.strong(command, completion: completion) }
        }
    }

    func consistency(of bucket: String) -> BucketConsistency { registry.props(for: bucket).consistency }

    func delete(bucket: String, key: [UInt8], context: String?, options: RequestOptions) async throws(KVError) -> WriteResult {
        try await awaitCompletion { delete(bucket: bucket, key: key, context: context, options: options, completion: $0) }
    }

    func delete(
        bucket: String, key: [UInt8], context: String?, options: RequestOptions, completion: @escaping KVCompletion<WriteResult>
    ) {
        do throws(KVError) {
            let command = WriteCommand(
                bucket: bucket, key: key, intent: .delete(context: try Self.parseContext(context)), options: options,
                sloppy: sloppyQuorum)
            write(command, returnBody: false, completion: completion)
        } catch {
            completion(.failure(error))
        }
    }

    private func write(_ command: WriteCommand, returnBody: Bool, completion: @escaping KVCompletion<WriteResult>) {
        drivers.run { driver in
            driver.write(command) { result in
                completion(result.map { outcome in
                    // lww versions carry no context a client could send back.
                    let context = outcome.lwwVersion == nil ? outcome.state.context.contextToken : ""
                    let live = returnBody ? outcome.state.liveSiblings(atMilliseconds: WallClock.nowMilliseconds()) : []
                    return WriteResult(context: context, acks: outcome.acks, siblings: live)
                })
            }
        }
    }

    // MARK: bucket props

    func bucketProps(bucket: String) async throws(KVError) -> BucketProps {
        try validateBucketName(bucket, limits: limits)
        return registry.props(for: bucket)
    }

    func setBucketProps(bucket: String, update: BucketPropsUpdate) async throws(KVError) -> BucketProps {
        try validateBucketName(bucket, limits: limits)
        var props = registry.props(for: bucket)
        try StrongBucketRules.check(update, bucket: bucket, current: props, configured: registry.isConfigured(bucket))
        if let consistency = update.consistency { props.consistency = consistency }
        if let n = update.n { props.n = n }
        if let r = update.r { props.r = r }
        if let w = update.w { props.w = w }
        if let conflict = update.conflict { props.conflict = conflict }
        if let ttl = update.ttlSeconds { props.ttlSeconds = ttl == 0 ? nil : ttl }
        if let datatype = update.datatype { props.datatype = try creating(datatype, bucket: bucket, current: props) }
        guard props.n >= 1, props.n <= min(limits.replicasMax, ring.members.count) else {
            throw .badParameter(
                name: "n", message: "n must be 1...\(min(limits.replicasMax, ring.members.count)) (the cluster has \(ring.members.count) node(s)), got \(props.n)")
        }
        _ = try RequestOptions().resolve(props: props, clusterSize: ring.members.count, limits: limits)
        props.version = clock.tick()
        try registry.store(bucket: bucket, props: props)
        let published = props
        cluster.run { $0.membership.publish(bucket: bucket, props: published) }
        logger.info(
            "bucket props changed",
            metadata: [
                "bucket": "\(bucket)", "n": "\(props.n)", "conflict": "\(props.conflict.rawValue)",
                "consistency": "\(props.consistency.rawValue)",
            ])
        let kind: String
        if props.consistency == .strong {
            kind = "strong bucket"
        } else if let datatype = props.datatype {
            kind = "\(datatype.rawValue) bucket"
        } else {
            broadcast(bucket: bucket, props: props)
            return props
        }
        // A typed or strong bucket answers once every member holds its props: until then a
        // member's replicas refuse its requests (a typed update, a Paxos message), and
        // gossip brings it to the ones that missed it.
        let missing = await broadcastToAll(bucket: bucket, props: props)
        guard missing.isEmpty else {
            throw .unavailable(
                message: "bucket \(bucket) is a \(kind) here, but \(missing.joined(separator: ", ")) did not "
                    + "confirm it; their replicas refuse its requests until gossip brings it (seconds); retry to confirm")
        }
        return props
    }

    /// The datatype a props change may set: a bucket's type is fixed when it is created,
    /// because its keys' stored form depends on it.
    private func creating(_ datatype: DataType, bucket: String, current: BucketProps) throws(KVError) -> DataType {
        if let held = current.datatype, held != datatype {
            throw .badParameter(
                name: "datatype",
                message: "bucket \(bucket) holds \(held.rawValue)s, and a bucket's datatype is fixed when it is created; "
                    + "use another bucket for \(datatype.rawValue)s")
        }
        if current.datatype == nil, registry.isConfigured(bucket) {
            throw .badParameter(
                name: "datatype",
                message: "bucket \(bucket) already exists for plain values, and a bucket's datatype is fixed when it is "
                    + "created; use a new bucket name for \(datatype.rawValue)s")
        }
        return datatype
    }

    /// Sends props to every member of the serving and target rings and waits for each
    /// answer (each within the default request timeout); answers the members that did
    /// not confirm.
    private func broadcastToAll(bucket: String, props: BucketProps) async -> [String] {
        let members = Set(rings.serving.members).union(rings.target.members).subtracting([nodeID]).sorted()
        guard !members.isEmpty else { return [] }
        let tally = Mutex((remaining: members.count, missing: [String]()))
        return await withCheckedContinuation { continuation in
            for member in members {
                router.call(member, .setBucketProps(bucket: bucket, props: props), timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { response in
                    let finished: [String]? = tally.withLock { tally in
                        if (try? response.get()) != .ack { tally.missing.append(member) }
                        tally.remaining -= 1
                        return tally.remaining == 0 ? tally.missing.sorted() : nil
                    }
                    if let finished { continuation.resume(returning: finished) }
                }
            }
        }
    }

    /// Pushes props to every peer at once; peers that miss it catch up through gossip.
    func broadcast(bucket: String, props: BucketProps) {
        for member in ring.members where member != nodeID {
            router.call(member, .setBucketProps(bucket: bucket, props: props), timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { _ in }
        }
    }


    // MARK: truncation

    /// Runs on the caller's request driver (`RequestDriver.truncate`), as the simulator runs it.
    func truncate(bucket: String?) async throws(KVError) -> TruncationReport {
        if let bucket { try validateBucketName(bucket, limits: limits) }
        if bucket == nil {
            // FLUSHALL would leave typed and strong buckets' data (see `BucketTruncation`): refused while one exists.
            let kept = registry.all().filter { !BucketTruncation.isTruncatable($0.props) }
            if !kept.isEmpty {
                throw BucketTruncation.refusal(
                    buckets: Dictionary(kept.map { ($0.bucket, $0.props) }, uniquingKeysWith: { first, _ in first }), everyBucket: true)
            }
        }
        let timeout = limits.requestTimeoutMillisecondsDefault
        let outcome = try await awaitCompletion { (completion: @escaping KVCompletion<TruncationOutcome>) in
            drivers.run { $0.truncate(bucket: bucket, timeoutMilliseconds: timeout, completion: completion) }
        }
        logger.info("truncated", metadata: ["bucket": "\(bucket ?? "*")", "members": "\(outcome.members)"])
        return TruncationReport(bucket: bucket, pointMilliseconds: outcome.point.physicalMilliseconds, members: outcome.members)
    }

    func ringReport() -> RingReport { RingReport(ring: ring) }

    // MARK: membership

    func joinCluster(seed: String) async throws(KVError) -> MembershipChange {
        do {
            _ = try HostPort(parsing: seed, what: "seed")
        } catch {
            throw .badParameter(name: "seed", message: error.message)
        }
        let nodeID = nodeID
        // Counted here, not on the background loop: a count scans the store.
        let keys = storageStatus().keys
        let result = try? await cluster.ask { (services: ClusterServices, answer: @escaping @Sendable (Result<MembershipChange, KVError>) -> Void) in
            services.ringChanges.join(address: seed, keyCount: keys) { result in
                answer(result.map { MembershipChange(node: nodeID, status: $0.status?.rawValue ?? "none", transfersPending: $0.transfersPending) })
            }
        }
        guard let result else { throw .internalError(message: "the node is shutting down") }
        return try result.get()
    }

    func leaveCluster() async throws(KVError) -> MembershipChange {
        let nodeID = nodeID
        let result = try? await cluster.ask { services in
            Result { () throws(KVError) in
                let report = try services.ringChanges.leave()
                return MembershipChange(node: nodeID, status: report.status?.rawValue ?? "none", transfersPending: report.transfersPending)
            }
        }
        guard let result else { throw .internalError(message: "the node is shutting down") }
        return try result.get()
    }

    func status() async -> NodeStatus {
        let storage = storageStatus()
        let members = (try? await cluster.ask { [nodeID] in Self.memberReports($0.membership.view(), local: nodeID) }) ?? []
        let hintStatus = (try? await hints.ask { HintStatus(queue: $0.queue) }) ?? HintStatus(queue: HintQueue(limits: .defaults))
        return NodeStatus(
            node: nodeID, version: QuorumKVVersion.current,
            uptimeSeconds: Int((WallClock.nowMilliseconds() - startedMilliseconds) / 1000), ring: RingReport(ring: ring),
            peers: health().peers, hintsPending: hintStatus.pending, antiEntropy: await antiEntropy(),
            storage: storage, requestsInFlight: requests.requestsInFlight, repair: requests.counters.snapshot(),
            hints: hintStatus, members: members, expiry: ExpiryStatus(versionsExpired: expiryCounter.value, versionsHidden: expiryCounter.hiddenValue),
            consensus: consensus.current.statusName)
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

    private static func memberReports(_ views: [MemberView], local: String) -> [MemberReport] {
        views.map { view in
            MemberReport(
                node: view.member.id, address: view.member.peerAddress, status: view.member.status.rawValue,
                reachable: view.member.id == local || view.isReachable,
                phi: view.member.id == local ? 0 : (view.phi.isFinite ? min(view.phi, 1000) : 1000),
                partitions: view.partitionsOwned)
        }
    }

    private static func parseContext(_ token: String?) throws(KVError) -> VersionVector {
        guard let token, !token.isEmpty else { return .empty }
        return try VersionVector(contextToken: token)
    }
}
