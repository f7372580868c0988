import QuorumCore
import QuorumServices
import Synchronization

/// What every request driver of this node reads from the node's shared state: the serving
/// ring, bucket props, the peers believed down, the replica's clock, and the admission bound,
/// one for the whole node however many event loops coordinate.
final class NodeRequestContext: RequestContext, Sendable {
    private let rings: RingView
    private let registry: BucketRegistry
    private let unreachablePeers: UnreachablePeers
    private let clock: NodeClock
    let actorID: String
    private let coordinatedMax: Int
    private let inFlight = Atomic<Int>(0)
    let counters = NodeCounters()

    init(
        rings: RingView, registry: BucketRegistry, unreachable: UnreachablePeers, clock: NodeClock, actorID: String,
        coordinatedMax: Int
    ) {
        self.rings = rings
        self.registry = registry
        self.unreachablePeers = unreachable
        self.clock = clock
        self.actorID = actorID
        self.coordinatedMax = coordinatedMax
    }

    var serving: Ring { rings.serving }

    var target: Ring { rings.target }

    func props(for bucket: String) -> BucketProps { registry.props(for: bucket) }

    func unreachable() -> Set<String> { unreachablePeers.snapshot }

    var unreachableGeneration: UInt64 { unreachablePeers.generation }

    func tick() -> HLCTimestamp { clock.tick() }

    func observe(_ timestamp: HLCTimestamp) { clock.observe(timestamp) }

    func admit() -> Bool {
        guard inFlight.add(1, ordering: .relaxed).newValue <= coordinatedMax else {
            inFlight.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() { inFlight.subtract(1, ordering: .relaxed) }

    /// Requests being coordinated now, for `/status`.
    var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }

    func readRepairSent(replicas: Int) {
        counters.readRepairs.add(1, ordering: .relaxed)
        counters.readRepairReplicas.add(replicas, ordering: .relaxed)
    }
}
