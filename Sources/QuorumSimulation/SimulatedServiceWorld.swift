import QuorumCore
import QuorumServices

public typealias InjectedBug = QuorumServices.InjectedBug

/// A node service's executor in the simulator: the world's agenda. Work and timers from an
/// earlier incarnation of the node (before a crash) never run, as a killed process's
/// would not.
final class SimulatedExecutor: ServiceExecutor {
    private unowned let node: SimulatedNode
    private let incarnation: Int

    init(node: SimulatedNode) {
        self.node = node
        incarnation = node.incarnation
    }

    func execute(_ work: @escaping () -> Void) {
        _ = schedule(afterMilliseconds: 0, work)
    }

    func schedule(afterMilliseconds milliseconds: Int, _ work: @escaping () -> Void) -> any ScheduledWork {
        let timer = SimulatedTimer()
        node.world.schedule(after: UInt64(max(0, milliseconds))) { [node, incarnation] in
            guard node.incarnation == incarnation, !timer.isCancelled else { return }
            work()
        }
        return timer
    }

    /// Virtual time: what the agenda counts in, unskewed (a node's skew and jumps are its
    /// wall clock's).
    func uptimeMilliseconds() -> UInt64 { node.world.now }
}

final class SimulatedTimer: ScheduledWork {
    private(set) var isCancelled = false

    func cancel() { isCancelled = true }
}

/// The seed's generator, as the node's services draw from it.
final class SimulatedRandom: RandomSource {
    private unowned let world: SimulatedWorld

    init(world: SimulatedWorld) {
        self.world = world
    }

    func next() -> UInt64 { world.random.next() }
}

/// What a simulated node's request driver reads from its node: the world's ring and
/// props, its own failure detector, its HLC, and the node's admission bound.
final class SimulatedRequestContext: RequestContext {
    private unowned let node: SimulatedNode
    private var inFlight = 0

    init(node: SimulatedNode) {
        self.node = node
    }

    var serving: Ring { node.serving }

    var target: Ring { node.target }

    func props(for bucket: String) -> BucketProps { node.world.props(for: bucket) }

    func unreachable() -> Set<String> { node.down }

    var unreachableGeneration: UInt64 { node.downGeneration }

    func tick() -> HLCTimestamp { node.hlc.tick(nowMilliseconds: node.wallNow) }

    func observe(_ timestamp: HLCTimestamp) { node.hlc.observe(timestamp, nowMilliseconds: node.wallNow) }

    var actorID: String { node.actorID }

    func admit() -> Bool {
        guard inFlight < node.limits.coordinatedRequestsMax else { return false }
        inFlight += 1
        return true
    }

    func release() { inFlight -= 1 }

    /// Read repairs show in the replicas' states; a run counts nothing else of them.
    func readRepairSent(replicas: Int) {}
}

/// Calls from a simulated node's services to replicas: its own directly (as the node's
/// `ReplicaRouter` does), a peer's as encoded frames over the simulated network, decoded
/// by the real codec on arrival, so codec faults are in reach.
final class SimulatedReplicaCaller: ReplicaCaller {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func call(
        _ target: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void
    ) {
        node.call(target, request, timeoutMilliseconds: UInt64(max(1, timeoutMilliseconds)), completion: completion)
    }
}

/// A simulated node's wall clock: virtual time plus its skew.
final class SimulatedNodeClock: ServiceClock {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func nowMilliseconds() -> UInt64 { node.wallNow }
}

/// The services' log in the simulator: a run's history and checks say what happened.
final class SimulatedLog: ServiceLog {
    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {}
}
