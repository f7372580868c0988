import Dispatch
import Logging
import NIOCore
import QuorumCore
import QuorumServices
import QuorumStorage

/// What the replica driver of one event loop reads from and hands to the rest of the
/// node: the node's clock, the hint service, the bucket registry (stored off
/// the loop: it commits), the membership (where truncation points are kept), the
/// node's Paxos standing, LZ4 for repair batches, and the log.
final class NodeReplicaContext: ReplicaContext {
    private let clock: NodeClock
    let actorID: String
    private let hints: OnLoop<HintDriver>
    private let registry: BucketRegistry
    private let cluster: OnLoop<ClusterServices>
    private let serviceLog: LoggerServiceLog
    private let loop: any EventLoop
    private let blockingQueue: DispatchQueue
    private let expiryCounter: ExpiryCounter
    private let consensus: ConsensusStanding

    init(
        clock: NodeClock, actorID: String, hints: OnLoop<HintDriver>, registry: BucketRegistry,
        cluster: OnLoop<ClusterServices>, logger: Logger, loop: any EventLoop, blockingQueue: DispatchQueue,
        expiryCounter: ExpiryCounter, consensus: ConsensusStanding
    ) {
        self.consensus = consensus
        self.cluster = cluster
        self.expiryCounter = expiryCounter
        self.clock = clock
        self.actorID = actorID
        self.hints = hints
        self.registry = registry
        serviceLog = LoggerServiceLog(logger: logger)
        self.loop = loop
        self.blockingQueue = blockingQueue
    }


    func observe(_ timestamp: HLCTimestamp) { clock.observe(timestamp) }

    func versionsExpired(_ count: Int) { expiryCounter.add(count) }

    func takeHint(
        target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode,
        respond: @escaping (PeerResponse) -> Void
    ) {
        let answer = LoopHop.back(to: loop, respond)
        hints.run { $0.take(target: target, bucket: bucket, key: key, state: state, mode: mode, respond: answer) }
    }

    func takeTypedHint(
        target: String, bucket: String, key: [UInt8], state: TypedState, respond: @escaping (PeerResponse) -> Void
    ) {
        let answer = LoopHop.back(to: loop, respond)
        hints.run { $0.takeTyped(target: target, bucket: bucket, key: key, delta: state, respond: answer) }
    }

    func datatype(of bucket: String) -> DataType? { registry.props(for: bucket).datatype }

    func consistency(of bucket: String) -> BucketConsistency { registry.props(for: bucket).consistency }

    func clockReading() -> HLCTimestamp { clock.tick() }

    /// The node's standing, shared by every loop's context (`ConsensusStanding`).
    var consensusFloor: ConsensusFloor { consensus.current }

    /// Moves the clock past the floor (the node's own ballots then start above it), saves
    /// it durably, and answers on this context's loop.
    func adoptConsensusFloor(_ floor: PaxosBallot, relearning: Bool, completion: @escaping (Result<Void, KVError>) -> Void) {
        clock.observe(floor.timestamp)
        consensus.adopt(floor, relearning: relearning, completion: LoopHop.back(to: loop, completion))
    }

    func raiseConsensusFloor(_ floor: PaxosBallot, completion: @escaping (Result<Void, KVError>) -> Void) {
        clock.observe(floor.timestamp)
        consensus.raise(to: floor, completion: LoopHop.back(to: loop, completion))
    }

    func storeProps(bucket: String, props: BucketProps, completion: @escaping (Result<Void, KVError>) -> Void) {
        let answer = LoopHop.back(to: loop, completion)
        blockingQueue.async { [registry] in
            answer(Result { () throws(KVError) in try registry.store(bucket: bucket, props: props) })
        }
    }

    func truncationPoint(for bucket: String) -> HLCTimestamp? { registry.truncationPoint(for: bucket) }

    func adoptTruncation(bucket: String?, point: HLCTimestamp, completion: @escaping (Result<Void, KVError>) -> Void) {
        guard registry.admitsTruncation(of: bucket) else {
            return completion(.failure(TruncationPoints.full(bucketsMax: GossipLimits.defaults.bucketsMax)))
        }
        clock.observe(point)
        let answer = LoopHop.back(to: loop, completion)
        cluster.run { $0.membership.truncate(bucket, at: point) { answer(.success(())) } }
    }

    func decompress(_ bytes: [UInt8], originalLength: Int) throws -> [UInt8] {
        try LZ4Codec.decompress(bytes, originalLength: originalLength)
    }

    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {
        serviceLog.log(level, message, metadata)
    }
}
