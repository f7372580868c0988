import QuorumCore
import QuorumStorage

/// A partition's Merkle tree and per-segment key digests, built from one scan of the
/// store: both sides of an exchange answer from a snapshot, so the tree they compare
/// doesn't shift under concurrent writes (those are caught by the next exchange).
struct PartitionSnapshot: Sendable {
    var tree: MerkleTree
    let keysBySegment: [Int: [SegmentKey]]

    /// Scans the partition page by page (bounded pages), digesting each stored state.
    static func build(partition: Int, store: ReplicaStore, shape: MerkleShape, pageRows: Int = 1000) throws -> PartitionSnapshot {
        var entries: [(keyHash: UInt64, digest: UInt64)] = []
        var bySegment: [Int: [SegmentKey]] = [:]
        var after: (bucket: String, key: [UInt8])?
        while true {
            let rows = try store.scan(partition: partition, after: after, limit: pageRows)
            for row in rows {
                let keyHash = StableHash.keyHash(bucket: row.bucket, key: row.key)
                let digest = StableHash.hash(row.blob)
                entries.append((keyHash, digest))
                bySegment[shape.segment(forKeyHash: keyHash), default: []].append(
                    SegmentKey(bucket: row.bucket, key: row.key, digest: digest))
            }
            guard rows.count == pageRows, let last = rows.last else { break }
            after = (last.bucket, last.key)
        }
        return PartitionSnapshot(tree: MerkleTree(shape: shape, entries: entries), keysBySegment: bySegment)
    }

    func keys(in segments: [Int]) -> [SegmentKey] {
        segments.flatMap { keysBySegment[$0] ?? [] }
    }
}
