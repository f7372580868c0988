import QuorumCore
import QuorumServices

/// What a simulated node's anti-entropy driver reads from and hands to its node: the
/// world's ring (settled: the simulator runs no joins or leaves yet, so no transfers and no
/// stray copies), its props, the node's failure detector, the run's tombstone grace, and
/// repair batches sent as they are (the node's LZ4 is out of the simulator's reach;
/// `SimulatedReplicaContext.decompress` takes them back as they are).
final class SimulatedAntiEntropyContext: AntiEntropyContext {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    var serving: Ring { node.world.ring }

    var target: Ring { node.world.ring }

    func props(for bucket: String) -> BucketProps { node.world.props(for: bucket) }

    var replicasMax: Int { SimulatedBuckets.replicasMax }

    var replicasMin: Int { min(SimulatedBuckets.props.values.map(\.n).min() ?? BucketProps.defaults.n, BucketProps.defaults.n) }

    func unreachable() -> Set<String> { node.gossip.unreachable(nowMilliseconds: node.wallNow) }

    var tombstoneGraceMilliseconds: UInt64 { node.world.config.antiEntropyLimits.tombstoneGraceMilliseconds }

    func transfersDone() {}

    func compress(_ bytes: [UInt8]) -> [UInt8]? { bytes }

    /// Failed exchanges are routine under the run's faults; the checks judge a run, not its log.
    func log(_ level: ServiceLogLevel, _ message: String, metadata: [String: String]) {}
}

/// The wall clock as a simulated node's services read it: skewed and jumping as the run's
/// faults make its clock.
final class SimulatedServiceClock: ServiceClock {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func nowMilliseconds() -> UInt64 { node.wallNow }
}
