import QuorumCore

/// The live Merkle trees a node keeps of its partitions (kept in step by `ReplicaStorage`),
/// as anti-entropy peers ask for them and as this node's own exchanges compare against
/// them. Nil answers mean the partition has no ready tree.
public protocol MerkleIndex: AnyObject {
    var shape: MerkleShape { get }
    func root(partition: Int) -> UInt64?
    func hashes(partition: Int, level: Int, indices: [Int]) -> [Int: UInt64]?
    /// The (bucket, key, digest) entries of some segments of a partition, from a scan.
    func segmentKeys(partition: Int, segments: [Int], completion: @escaping (Result<[SegmentKey], StorageFailure>) -> Void)
    /// A refreshed copy of the partition's tree, for an exchange to compare against while
    /// writes go on; nil while it has none ready.
    func snapshot(partition: Int) -> MerkleTree?
    /// Starts building every partition tree that is missing (all at start, later those
    /// whose build failed). The node builds them in the background from a scan; a store
    /// whose trees are always at hand does nothing.
    func buildMissing()
}
