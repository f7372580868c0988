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

    var serving: Ring { node.serving }

    var target: Ring { node.target }

    func props(for bucket: String) -> BucketProps { node.world.props(for: bucket) }

    func truncationPoint(for bucket: String) -> HLCTimestamp? { node.membership.state.truncations.point(for: bucket) }

    var replicasMax: Int { SimulatedBuckets.replicasMax }

    var replicasMin: Int { min(SimulatedBuckets.props.values.map(\.n).min() ?? BucketProps.defaults.n, BucketProps.defaults.n) }

    func unreachable() -> Set<String> { node.down }

    var tombstoneGraceMilliseconds: UInt64 { node.world.config.antiEntropyLimits.tombstoneGraceMilliseconds }

    func transfersDone() { node.ringChanges.transfersDone() }

    func compress(_ bytes: [UInt8]) -> [UInt8]? { bytes }

    /// Failed exchanges are routine under the run's faults; the checks judge a run, not its log.
    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {}
}
