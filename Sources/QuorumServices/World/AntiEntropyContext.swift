import QuorumCore

/// What anti-entropy, tombstone purges and stray-copy clearing read from and hand to the
/// rest of their node: the rings, bucket props, who is believed down, the tombstone grace,
/// whom to tell that a ring change's transfers are done, how repair batches are
/// compressed; and it is where they log. The real node answers from its shared state; the
/// simulator from its simulated node.
public protocol AntiEntropyContext: ServiceLog {
    /// The ring keys are placed by now.
    var serving: Ring { get }
    /// The ring the cluster is heading to: `serving` once settled, another one while a
    /// member joins or leaves.
    var target: Ring { get }
    func props(for bucket: String) -> BucketProps
    /// The point below which `bucket`'s versions read as deleted, if it was truncated.
    func truncationPoint(for bucket: String) -> HLCTimestamp?
    /// The most replicas any bucket keeps (the default bucket's n included): how deep
    /// routine exchanges pair each partition's replicas.
    var replicasMax: Int { get }
    /// The fewest replicas any bucket keeps, at most the default bucket's n: a partition
    /// this node is none of that many replicas of may hold stray copies.
    var replicasMin: Int { get }
    /// Peers believed down: they count as silent without waiting for a timeout.
    func unreachable() -> Set<String>
    /// How old a tombstone must be before it may be purged (and how recent a stray copy's
    /// version must be to be handed off rather than dropped).
    var tombstoneGraceMilliseconds: UInt64 { get }
    /// Every planned ring-change transfer is done: the join or leave waiting on them can
    /// complete.
    func transfersDone()
    /// Compresses an encoded repair batch for the wire (`ReplicaContext.decompress` undoes
    /// it on the receiving replica); nil when it cannot.
    func compress(_ bytes: [UInt8]) -> [UInt8]?
}
