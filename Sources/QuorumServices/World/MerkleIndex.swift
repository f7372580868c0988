import QuorumCore

/// The live Merkle trees a node keeps of its partitions (kept in step by `ReplicaStorage`),
/// as anti-entropy peers ask for them. Nil answers mean the partition has no ready tree.
public protocol MerkleIndex: AnyObject {
    var shape: MerkleShape { get }
    func root(partition: Int) -> UInt64?
    func hashes(partition: Int, level: Int, indices: [Int]) -> [Int: UInt64]?
    /// The (bucket, key, digest) entries of some segments of a partition, from a scan.
    func segmentKeys(partition: Int, segments: [Int], completion: @escaping (Result<[SegmentKey], StorageFailure>) -> Void)
}
