import QuorumCore
import QuorumServices
import Synchronization

/// What every request driver of this node reads from the node's shared state: the serving
/// ring, bucket props, the peers believed down (the failure detector's view plus peers the
/// transport could not connect to lately), the replica's clock, and the admission bound,
/// one for the whole node however many event loops coordinate.
final class NodeRequestContext: RequestContext, Sendable {
    private let rings: RingView
    private let registry: BucketRegistry
    private let membership: MembershipService
    private let peers: PeerDirectory
    private let clock: NodeClock
    let actorID: String
    private let coordinatedMax: Int
    private let inFlight = Atomic<Int>(0)
    let counters = NodeCounters()

    init(
        rings: RingView, registry: BucketRegistry, membership: MembershipService, peers: PeerDirectory, clock: NodeClock, actorID: String,
        coordinatedMax: Int
    ) {
        self.rings = rings
        self.registry = registry
        self.membership = membership
        self.peers = peers
        self.clock = clock
        self.actorID = actorID
        self.coordinatedMax = coordinatedMax
    }

    var serving: Ring { rings.serving }

    func props(for bucket: String) -> BucketProps { registry.props(for: bucket) }

    func unreachable() -> Set<String> {
        membership.unreachable().union(peers.snapshot().filter { !$0.reachable }.map(\.nodeID))
    }

    func tick() -> HLCTimestamp { clock.tick() }

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
