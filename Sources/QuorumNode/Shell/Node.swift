import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import QuorumCore
import QuorumServices
import QuorumStorage
import QuorumTLS

/// One running QuorumKV node: its store, its replica, the peer transport and the HTTP
/// server, started and stopped together.
public final class Node: Sendable {
    public let config: NodeConfig
    private let rings: RingView
    private let cluster: OnLoop<ClusterServices>
    private let departure: Departure
    private let down: DownPeers
    private let group: MultiThreadedEventLoopGroup
    private let store: ReplicaStore
    private let peers: PeerDirectory
    private let peerServer: PeerServer
    private let httpServer: HTTPServer
    private let respServer: RESPServer?
    private let coordinator: NodeService
    private let gossipTimer = RepeatingTimer(label: "quorumkv.gossip")
    /// Anti-entropy, tombstone purges and stray-copy clearing, on the background loop.
    private let antiEntropy: OnLoop<AntiEntropyDriver>
    private let antiEntropyTimer = RepeatingTimer(label: "quorumkv.anti-entropy")
    private let trees: PartitionTrees
    private let hints: OnLoop<HintDriver>
    private let hintTimer = RepeatingTimer(label: "quorumkv.hint-delivery")
    private let router: ReplicaRouter
    private let replicas: LoopLocal<ReplicaDriver>
    private let logger: Logger
    /// The node's TLS material, re-read by `reloadTLS()`; nil without `--tls-cert`.
    private let tlsMaterial: ReloadableTLS?

    /// Opens the store and binds nothing yet; `start` opens the sockets.
    /// - Parameter access: the node's users (`serve --acl`); without it nothing is checked.
    public init(config: NodeConfig, logger: Logger, access: AccessControl = .open()) throws {
        try config.validate()
        ProcessMetrics.bootstrap()  // swift-metrics → Prometheus, once per process; /metrics shows it
        self.config = config
        self.logger = logger
        // Read before anything else opens: bad TLS files stop the start with their reason.
        let tlsMaterial: ReloadableTLS? = try config.tls.map { try ReloadableTLS(files: $0) }
        self.tlsMaterial = tlsMaterial
        let tlsLimits = config.tlsLimits
        if tlsMaterial != nil { TLSMetrics.publish(limits: tlsLimits) }
        let peerTLS = PeerTLS(mode: config.peerTLS, material: tlsMaterial, limits: tlsLimits)
        let clientTLS = tlsMaterial.map { ClientPortTLS(material: $0, limits: tlsLimits) }
        group = MultiThreadedEventLoopGroup(numberOfThreads: config.eventLoopThreads)

        store = try ReplicaStore(
            directory: config.dataDirectory, options: Self.storeOptions(config: config, logger: logger), logger: logger)

        let actorID = try Self.actorID(store: store, nodeID: config.nodeID)
        let registry = try BucketRegistry(store: store)
        // Gossip, hints, anti-entropy and ring changes run on one loop of the group.
        let background = group.next()
        let hints = OnLoop<HintDriver>(loop: background)
        self.hints = hints
        let restoredHints = try SQLiteHintStorage.restore(from: store, logger: logger)
        // Until the membership is known (a node started with --join), the rings hold only
        // this node; it opens no client listener before it has joined.
        let placeholder = Ring(members: [config.nodeID], partitionCount: config.partitionCount)
        let rings = RingView(serving: placeholder, target: placeholder)
        self.rings = rings
        let hello = PeerHello(nodeID: config.nodeID, clusterDigest: PeerHello.clusterDigest(partitionCount: config.partitionCount))
        let transportLimits = PeerTransportLimits(limits: config.limits)
        let peers = PeerDirectory(peers: [], group: group, hello: hello, limits: transportLimits, logger: logger, tls: peerTLS)
        self.peers = peers
        let cluster = OnLoop<ClusterServices>(loop: background)
        self.cluster = cluster
        let down = DownPeers()
        self.down = down
        let departure = Departure()
        self.departure = departure
        let initialMembership = try MembershipBootstrap.initialState(config: config, store: store)
        let generation = try MembershipBootstrap.generation(store: store)
        let antiEntropyLimits = AntiEntropyLimits.defaults
        let trees = PartitionTrees(
            partitionCount: config.partitionCount,
            held: { [nodeID = config.nodeID] in rings.partitions(heldBy: nodeID, replicas: registry.replicasMax) },
            store: store, shape: antiEntropyLimits.shape, logger: logger)
        self.trees = trees
        let clock = try NodeClock(store: store, logger: logger)
        let consensus = try ConsensusStanding(store: store)
        if consensus.current.isCatchingUp {
            logger.notice("the store started empty: this node votes on strong keys only once Paxos catch-up has chosen its floor")
        }
        registry.adopt(initialMembership.truncations)
        // Reads that must wait for a reader connection, scans and props commits: never on a loop.
        let blockingQueue = DispatchQueue(label: "quorumkv.replica.blocking", attributes: .concurrent)
        let expiryCounter = ExpiryCounter()
        let replicas = try LoopLocal<ReplicaDriver>(group: group) { [config, store] loop in
            let storage = SQLiteReplicaStorage(store: store, trees: trees, loop: loop, blockingQueue: blockingQueue)
            return ReplicaDriver(
                nodeID: config.nodeID, partitionCount: config.partitionCount, limits: config.limits, storage: storage, trees: storage,
                context: NodeReplicaContext(
                    clock: clock, actorID: actorID, hints: hints, registry: registry, cluster: cluster, logger: logger,
                    loop: loop, blockingQueue: blockingQueue, expiryCounter: expiryCounter, consensus: consensus),
                clock: SystemServiceClock())
        }
        self.replicas = replicas
        let router = ReplicaRouter(nodeID: config.nodeID, local: replicas, peers: peers)
        self.router = router
        try hints.install { [config, store] in
            HintDriver(
                restored: restoredHints, limits: config.hintLimits, storage: SQLiteHintStorage(store: store, loop: background),
                replicas: LoopReplicaCaller(router: router, loop: background), clock: SystemServiceClock(),
                log: LoggerServiceLog(logger: logger), deliveryTimeoutMilliseconds: config.limits.requestTimeoutMillisecondsDefault)
        }
        // Peers believed down: the failure detector's view, plus peers the transport could
        // not connect to lately (a refused connection is known before heartbeats stop).
        let unreachable = UnreachablePeers(down: down, peers: peers)
        let antiEntropyEnabled = config.antiEntropyIntervalMilliseconds > 0
        let antiEntropy = OnLoop<AntiEntropyDriver>(loop: background)
        try antiEntropy.install { [config, store] in
            let storage = SQLiteReplicaStorage(store: store, trees: trees, loop: background, blockingQueue: blockingQueue)
            let context = NodeAntiEntropyContext(
                rings: rings, registry: registry, unreachable: unreachable,
                tombstoneGraceMilliseconds: config.tombstoneGraceMilliseconds, onTransfersDone: { cluster.run { $0.ringChanges.transfersDone() } },
                logger: logger)
            return AntiEntropyDriver(
                nodeID: config.nodeID, limits: antiEntropyLimits, routineExchanges: antiEntropyEnabled,
                executor: EventLoopExecutor(loop: background), replicas: LoopReplicaCaller(router: router, loop: background),
                storage: storage, trees: storage, context: context, clock: SystemServiceClock())
        }
        self.antiEntropy = antiEntropy
        try cluster.install { [config, store] in
            let log = LoggerServiceLog(logger: logger)
            let membershipContext = NodeMembershipContext(
                store: store, registry: registry, cluster: cluster, hints: hints, down: down, logger: logger,
                blockingQueue: blockingQueue)
            let ringChangeContext = NodeRingChangeContext(
                rings: rings, peers: peers, antiEntropy: antiEntropy, hints: hints, registry: registry,
                departure: departure, logger: logger)
            let membership = MembershipDriver(
                local: config.nodeID, peerAddress: "\(config.peerHost):\(config.peerPort)",
                httpAddress: "\(config.httpHost):\(config.httpPort)", state: initialMembership, generation: generation,
                replicas: LoopReplicaCaller(router: router, loop: background), clock: SystemServiceClock(),
                random: SystemRandomSource(), context: membershipContext, log: log)
            let ringChanges = RingChangeDriver(
                membership: membership, executor: EventLoopExecutor(loop: background),
                seeds: PeerSeedCaller(peers: peers, loop: background), context: ringChangeContext, log: log,
                gossipIntervalMilliseconds: config.gossipIntervalMilliseconds)
            let catchUp = PaxosCatchUpDriver(
                nodeID: config.nodeID, replicas: LoopReplicaCaller(router: router, loop: background),
                context: NodeReplicaContext(
                    clock: clock, actorID: actorID, hints: hints, registry: registry, cluster: cluster, logger: logger,
                    loop: background, blockingQueue: blockingQueue, expiryCounter: expiryCounter, consensus: consensus),
                members: { ClusterServices.members(of: membership.state) },
                timeoutMilliseconds: config.limits.requestTimeoutMillisecondsDefault)
            return ClusterServices(membership: membership, ringChanges: ringChanges, catchUp: catchUp)
        }
        // Installed, so what the first membership implies may call back into it.
        cluster.run { $0.ringChanges.membershipChanged($0.membership.state) }
        let requests = NodeRequestContext(
            rings: rings, registry: registry, unreachable: unreachable, clock: clock, actorID: actorID,
            coordinatedMax: config.limits.coordinatedRequestsMax)
        let drivers = try LoopLocal<RequestDriver>(group: group) { [config] loop in
            RequestDriver(
                nodeID: config.nodeID, limits: config.limits, readRepairProbability: config.readRepairProbability,
                executor: EventLoopExecutor(loop: loop), replicas: LoopReplicaCaller(router: router, loop: loop),
                context: requests, random: SystemRandomSource())
        }
        coordinator = NodeService(
            nodeID: config.nodeID, rings: rings, drivers: drivers, requests: requests, router: router, clock: clock,
            registry: registry, peers: peers, limits: config.limits, logger: logger, sloppyQuorum: config.sloppyQuorum,
            hints: hints, cluster: cluster,
            antiEntropy: { [antiEntropy] in
                let figures = (try? await antiEntropy.ask { $0.figures }) ?? AntiEntropyFigures()
                return AntiEntropyStatus(enabled: antiEntropyEnabled, figures: figures, trees: trees)
            },
            storageStatus: { [store] in
                StorageStatus(
                    keys: (try? store.keyCount()) ?? -1, queuedWrites: store.queuedWrites,
                    committedTransactions: store.committedTransactions, rowCache: store.rowCacheStatistics)
            }, expiryCounter: expiryCounter, consensus: consensus)

        let clusterDigest = hello.clusterDigest
        peerServer = PeerServer(
            host: config.peerHost, port: config.peerPort, group: group, limits: transportLimits, logger: logger,
            helloValidator: { hello in
                // Who may connect is the membership's business (a joiner connects before
                // anyone knows it); the hello only keeps apart clusters of another shape.
                guard hello.clusterDigest == clusterDigest else {
                    return "\(hello.nodeID) belongs to a cluster with another partition count; every node needs the same --partitions"
                }
                return nil
            },
            handler: { payload, from, respond in
                do {
                    let request = try PeerRequest(decoding: payload)
                    if case .gossip(let message) = request {
                        cluster.run { respond(PeerResponse.gossip(message: $0.membership.receive(message, from: from)).encoded()) }
                    } else {
                        replicas.run { replica in replica.handle(request) { respond($0.encoded()) } }
                    }
                } catch {
                    respond(PeerResponse.failure(code: "bad_parameter", message: "undecodable request from \(from): \(error)").encoded())
                }
            }, tls: peerTLS)
        // One set of request metrics for both client protocols: HTTP records its own (it
        // also sees routing errors), RESP through the metered service.
        let metrics = NodeMetrics()
        httpServer = HTTPServer(
            host: config.httpHost, port: config.httpPort, group: group, service: coordinator, limits: config.limits,
            logger: logger, metrics: metrics, access: access, tls: clientTLS)
        if let respPort = config.respPort {
            respServer = RESPServer(
                host: config.respHost, port: respPort, group: group,
                service: MeteredKVService(base: coordinator, metrics: metrics, limits: config.limits), limits: config.limits,
                logger: logger, access: access, tls: clientTLS)
        } else {
            respServer = nil
        }
    }

    /// Re-reads the certificate, key and CA bundle files. New connections (client and peer,
    /// both directions) use the new material; open ones keep theirs. On failure the old
    /// material stays in use and the error says which file and why. Does nothing without TLS.
    public func reloadTLS() throws(TLSMaterialError) {
        guard let tlsMaterial else {
            throw TLSMaterialError("this node runs without TLS (no --tls-cert); there is nothing to reload")
        }
        do {
            try tlsMaterial.reload()
            TLSMetrics.reloaded(succeeded: true)
            logger.notice("TLS material reloaded", metadata: ["certificate": "\(tlsMaterial.current.files.certificatePath)"])
        } catch {
            TLSMetrics.reloaded(succeeded: false)
            logger.error("TLS reload failed; still using the previous material", metadata: ["reason": "\(error.message)"])
            throw error
        }
    }

    /// The service the client servers call; tests may call it directly.
    public var service: any KVService { coordinator }

    /// Binds the peer, HTTP and RESP listeners; returns the bound ports (useful with port
    /// 0); `resp` is nil when the node has no RESP listener.
    @discardableResult
    public func start() async throws -> (http: Int, peer: Int, resp: Int?) {
        let peerPort = try await Self.bind("peer", config.peerHost, config.peerPort) { try await peerServer.start() }
        if let seed = config.joinSeed, try await cluster.ask({ $0.membership.localStatus }) == nil {
            do {
                let change = try await coordinator.joinCluster(seed: seed)
                logger.info("joined through \(seed); copying partitions", metadata: ["transfers": "\(change.transfersPending)"])
            } catch {
                throw ConfigError(error.message)
            }
        }
        let httpPort = try await Self.bind("HTTP", config.httpHost, config.httpPort) { try await httpServer.start() }
        let respPort = try await Self.bind("RESP", config.respHost, config.respPort ?? 0) { try await respServer?.start() }
        gossipTimer.start(everyMilliseconds: config.gossipIntervalMilliseconds) { [cluster] in
            cluster.run { services in
                services.membership.round()
                services.catchUp.tick()
            }
        }
        // Trees are built (on their own queue) even with anti-entropy off here: peers that
        // run it ask this node for them, and /status reports their roots.
        trees.buildMissing()
        // Runs even with anti-entropy off: ring-change transfers go through it.
        let antiEntropyInterval = config.antiEntropyIntervalMilliseconds > 0 ? config.antiEntropyIntervalMilliseconds : 1000
        antiEntropyTimer.start(everyMilliseconds: antiEntropyInterval) { [antiEntropy] in
            antiEntropy.run { $0.tick() }
        }
        hintTimer.start(everyMilliseconds: config.hintDeliveryIntervalMilliseconds) { [hints, down] in
            let unreachable = down.snapshot
            hints.run { $0.deliver(down: unreachable) }
        }
        logger.info(
            "node started",
            metadata: [
                "node": "\(config.nodeID)", "http": "\(config.httpHost):\(httpPort)", "peer": "\(config.peerHost):\(peerPort)",
                "resp": "\(respPort.map { "\(config.respHost):\($0)" } ?? "off")",
                "data": "\(config.dataDirectory)", "members": "\(rings.serving.members.joined(separator: ","))",
            ])
        return (httpPort, peerPort, respPort)
    }

    /// Runs a listener's start, naming the address in the error: "Address already in use"
    /// alone does not say which of the node's three listeners failed.
    private static func bind<Port>(
        _ what: String, _ host: String, _ port: Int, _ start: () async throws -> Port
    ) async throws -> Port {
        do {
            return try await start()
        } catch {
            throw ConfigError(
                "the \(what) listener could not bind \(host):\(port) (\(error)); is another process using it? Choose another with --\(what == "HTTP" ? "http" : what.lowercased())")
        }
    }

    /// Returns once this node has left its cluster (after `POST /cluster/leave` and the
    /// hand-off): the process should then stop.
    public func waitUntilLeft() async { await departure.wait() }

    /// Stops accepting requests, lets queued writes commit, and closes everything.
    public func stop() async {
        gossipTimer.stop()
        antiEntropyTimer.stop()
        hintTimer.stop()
        router.stop()
        await respServer?.close()
        await httpServer.close()
        await peerServer.close()
        await peers.closeAll()
        store.close()
        try? await group.shutdownGracefully()
        logger.info("node stopped", metadata: ["node": "\(config.nodeID)"])
    }

    /// The exit status of a node whose store hit an I/O error or corruption while making
    /// writes durable: 74, `EX_IOERR` of sysexits.h. Distinct from 1 (could not start) and
    /// 2 (usage), so a supervisor's restart and an operator's alert can tell it apart.
    public static let storageFailureExitStatus: Int32 = 74

    /// The store's settings for `config`; the store's fatal failures end the process
    /// through `terminate` (tests pass their own).
    static func storeOptions(
        config: NodeConfig, logger: Logger, terminate: @escaping @Sendable (Int32) -> Void = { exit($0) }
    ) -> StoreOptions {
        var options = StoreOptions()
        options.syncMode = config.syncMode
        options.compressionThresholdBytes = config.limits.compressionThresholdBytes
        options.groupCommitOperationsMax = config.limits.groupCommitOperationsMax
        options.writeQueueOperationsMax = config.limits.writeQueueOperationsMax
        options.onFatal = storageFailureHandler(logger: logger, terminate: terminate)
        options.metaAtCreation = ConsensusStanding.creationMeta
        return options
    }

    /// What the node does when its store stops taking writes after an I/O error or
    /// corruption (a failed fsync may have lost data the kernel reported written): log why at
    /// critical level and end the process at once with `storageFailureExitStatus`, so that a
    /// supervisor restarts it and SQLite recovers from what is durable; the other replicas
    /// repair the rest. No clean shutdown: it would only try to write to the same disk.
    static func storageFailureHandler(
        logger: Logger, terminate: @escaping @Sendable (Int32) -> Void
    ) -> @Sendable (String) -> Void {
        { reason in
            logger.critical(
                "the replica store hit an I/O error or corruption it cannot trust; exiting so that a restart recovers from what is durable",
                metadata: ["error": "\(reason)", "exitStatus": "\(storageFailureExitStatus)"])
            terminate(storageFailureExitStatus)
        }
    }

    /// The store's actor id, made once when the store is created: the node id plus the
    /// creation time, so a node restarted on an empty directory issues fresh dots.
    private static func actorID(store: ReplicaStore, nodeID: String) throws -> String {
        if let existing = try store.metaValue("actor") { return existing }
        let actor = "\(nodeID).\(String(WallClock.nowMilliseconds(), radix: 36))"
        try store.setMetaValue("actor", actor)
        return actor
    }
}
