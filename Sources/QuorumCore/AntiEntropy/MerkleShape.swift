/// The fixed layout of a partition's Merkle tree: how many leaves, how wide each node.
///
/// Every replica of a partition must build the same shape, so that node (level, index)
/// covers the same keys everywhere and two trees can be compared node by node without
/// sending keys. Level 0 is the root; the last level (`leafLevel`) holds one hash per
/// segment. Node `i` of level `l` has children `i·fanOut ..< (i+1)·fanOut` of level
/// `l+1` (the last node of a level may have fewer when `segmentCount` is not a power of
/// `fanOut`).
public struct MerkleShape: Sendable, Equatable, Hashable {
    /// Leaves: a power of two, at least 1.
    public let segmentCount: Int
    /// Children per inner node, at least 2.
    public let fanOut: Int
    /// Nodes per level, root first: `[1, …, segmentCount]`.
    public let levelSizes: [Int]

    /// A shape this process chose; traps on a count that is not a power of two or a
    /// fan-out below 2, which are configuration mistakes caught at startup.
    public init(segmentCount: Int = 1024, fanOut: Int = 32) {
        precondition(Self.isValid(segmentCount: segmentCount, fanOut: fanOut),
                     "Merkle segment count must be a power of two (up to 2^24) and fan-out at least 2, got \(segmentCount) and \(fanOut)")
        self.segmentCount = segmentCount
        self.fanOut = fanOut
        var sizes = [segmentCount]
        while sizes[0] > 1 { sizes.insert((sizes[0] + fanOut - 1) / fanOut, at: 0) }
        self.levelSizes = sizes
    }

    /// A shape a peer sent: nil when it is not one this node could build, so a damaged
    /// message is an error value rather than a trap.
    public init?(validatingSegmentCount segmentCount: Int, fanOut: Int) {
        guard Self.isValid(segmentCount: segmentCount, fanOut: fanOut) else { return nil }
        self.init(segmentCount: segmentCount, fanOut: fanOut)
    }

    static func isValid(segmentCount: Int, fanOut: Int) -> Bool {
        segmentCount > 0 && segmentCount & (segmentCount - 1) == 0 && segmentCount <= 1 << 24
            && fanOut >= 2 && fanOut <= 1 << 16
    }

    /// The level of the segments; 0 when the root is the only segment.
    public var leafLevel: Int { levelSizes.count - 1 }

    /// Nodes on `level`, or 0 for a level the tree doesn't have.
    public func nodeCount(level: Int) -> Int {
        levelSizes.indices.contains(level) ? levelSizes[level] : 0
    }

    /// Indices on `level + 1` of the children of node `index` on `level`; empty for a leaf.
    public func childrenIndices(of index: Int, level: Int) -> Range<Int> {
        guard index >= 0, index < nodeCount(level: level) else { return 0..<0 }
        let childCount = nodeCount(level: level + 1)
        let lower = min(index * fanOut, childCount)
        return lower..<min(lower + fanOut, childCount)
    }

    /// The segment a key's hash falls in.
    ///
    /// The low bits, not the top bits: the ring takes a key's partition from the top bits
    /// of the same hash, so within one partition's tree every key shares them, and segments
    /// chosen by them would leave all but `segmentCount / partitionCount` leaves empty.
    /// `StableHash` ends with a full-avalanche finalizer, so the low bits are as evenly
    /// spread as the high ones.
    public func segment(forKeyHash keyHash: UInt64) -> Int {
        Int(truncatingIfNeeded: keyHash & UInt64(segmentCount - 1))
    }

    public func segment(bucket: String, key: [UInt8]) -> Int {
        segment(forKeyHash: StableHash.keyHash(bucket: bucket, key: key))
    }
}
