/// A partition's Merkle tree over (bucket, key) → version digest, kept up to date on
/// every write so two replicas can find where they differ by swapping a few hashes.
///
/// Why this shape: a segment's hash is the wrapping sum of one mixed hash per key, so it
/// doesn't depend on the order keys were added and a write changes it in O(1) — subtract
/// the key's old entry, add the new one — without listing the segment's keys. Inner nodes
/// are recomputed lazily: a write marks its segment dirty, and the first read of an inner
/// hash recomputes only the dirty paths (O(dirty segments · fanOut · depth)). Two replicas
/// holding the same (key, digest) pairs therefore have the same root, however and in
/// whatever order they got them.
///
/// The tree stores no keys. The shell must pass the digest a key had before each write
/// (`old`), which it reads in the write's transaction; a tree that may have missed writes
/// (a crash between commit and update, a restore) is stale and must be rebuilt from storage
/// with `init(shape:entries:)`. Reads that may recompute are `mutating`.
public struct MerkleTree: Sendable {
    public let shape: MerkleShape
    /// Keys in the tree. Kept for status and sanity checks; not part of any hash.
    public private(set) var keyCount: Int
    /// Hashes per level, root first; `levels[shape.leafLevel]` are the segment hashes.
    private var levels: [[UInt64]]
    /// Segments changed since inner hashes were last recomputed, each listed once.
    private var dirtySegments: [Int]
    private var isSegmentDirty: [Bool]

    /// An empty tree: every segment hash is 0 and the root is `emptyRoot(shape:)`.
    public init(shape: MerkleShape = MerkleShape()) {
        self.shape = shape
        keyCount = 0
        levels = shape.levelSizes.map { Array(repeating: 0, count: $0) }
        dirtySegments = []
        isSegmentDirty = Array(repeating: false, count: shape.segmentCount)
        recomputeAllInnerLevels()
    }

    /// Builds the tree from storage: one (key hash, version digest) per key, any order.
    /// Each key must appear once; a key listed twice counts twice.
    public init<Entries: Sequence>(shape: MerkleShape = MerkleShape(), entries: Entries)
    where Entries.Element == (keyHash: UInt64, digest: UInt64) {
        self.init(shape: shape)
        let leafLevel = shape.leafLevel
        for entry in entries {
            levels[leafLevel][shape.segment(forKeyHash: entry.keyHash)] &+= Self.entryHash(keyHash: entry.keyHash, digest: entry.digest)
            keyCount += 1
        }
        recomputeAllInnerLevels()
    }

    /// The digest that stands for one version of a key: equal states give equal digests on
    /// every replica, because `KeyState.encoded()` is deterministic and `StableHash` is
    /// the same in every process.
    public static func versionDigest(of state: KeyState) -> UInt64 {
        StableHash.hash(state.encoded())
    }

    /// Records a write: the key's digest goes from `old` to `new` (nil: absent — a first
    /// write has no `old`, a purge has no `new`). O(1); inner hashes are recomputed on the
    /// next read.
    public mutating func update(keyHash: UInt64, old: UInt64?, new: UInt64?) {
        guard old != new else { return }
        let segment = shape.segment(forKeyHash: keyHash)
        let leafLevel = shape.leafLevel
        if let old {
            levels[leafLevel][segment] &-= Self.entryHash(keyHash: keyHash, digest: old)
            keyCount -= 1
        }
        if let new {
            levels[leafLevel][segment] &+= Self.entryHash(keyHash: keyHash, digest: new)
            keyCount += 1
        }
        if !isSegmentDirty[segment] {
            isSegmentDirty[segment] = true
            dirtySegments.append(segment)
        }
    }

    /// The root hash; equal roots mean equal (key, digest) sets, up to 64-bit collisions.
    public var root: UInt64 {
        mutating get {
            refresh()
            return levels[0][0]
        }
    }

    /// The hash of node `index` on `level`; nil for a node the shape doesn't have.
    public mutating func hash(level: Int, index: Int) -> UInt64? {
        guard level >= 0, level < levels.count, index >= 0, index < levels[level].count else { return nil }
        if level < shape.leafLevel { refresh() }
        return levels[level][index]
    }

    /// The hashes of the named nodes on `level`, answering a peer's `requestHashes`.
    /// Indices the level doesn't have are left out rather than trapping, since they come
    /// from the network; the asking side counts a missing answer as a difference.
    public mutating func hashes(level: Int, indices: some Sequence<Int>) -> [Int: UInt64] {
        var result: [Int: UInt64] = [:]
        for index in indices {
            if let value = hash(level: level, index: index) { result[index] = value }
        }
        return result
    }

    /// One segment's hash (a leaf); 0 for an empty segment.
    public func segmentHash(_ segment: Int) -> UInt64 {
        levels[shape.leafLevel][segment]
    }

    /// Whether some inner hash is out of date (the next read recomputes it).
    public var needsRefresh: Bool { !dirtySegments.isEmpty }

    /// Recomputes the inner hashes above the segments written since the last read.
    public mutating func refresh() {
        guard !dirtySegments.isEmpty else { return }
        var changed = dirtySegments
        for segment in dirtySegments { isSegmentDirty[segment] = false }
        dirtySegments.removeAll(keepingCapacity: true)
        var level = shape.leafLevel
        while level > 0 {
            // Parents of the changed nodes, once each, in ascending order.
            var parents: [Int] = []
            parents.reserveCapacity(changed.count)
            for index in changed.sorted() {
                let parent = index / shape.fanOut
                if parents.last != parent { parents.append(parent) }
            }
            for parent in parents { levels[level - 1][parent] = combinedChildren(of: parent, level: level - 1) }
            changed = parents
            level -= 1
        }
    }

    /// The root of a tree with no keys in `shape`: what an empty or wiped replica reports.
    public static func emptyRoot(shape: MerkleShape) -> UInt64 {
        var tree = MerkleTree(shape: shape)
        return tree.root
    }

    // MARK: - Hashing

    /// One key's contribution to its segment's sum. Mixed so that sums of different sets
    /// collide only by chance (about 2⁻⁶⁴), and bijective in the digest for a fixed key,
    /// so a changed digest always changes the segment.
    static func entryHash(keyHash: UInt64, digest: UInt64) -> UInt64 {
        StableHash.finalize(StableHash.finalize(keyHash ^ 0x6a09_e667_f3bc_c908) &+ digest)
    }

    /// An inner node's hash: a chain over its children in order. Each step is a bijection
    /// of the running value and of the child, so changing any one child always changes the
    /// parent; the position is part of the hash, so swapping two children changes it too.
    private func combinedChildren(of index: Int, level: Int) -> UInt64 {
        let children = levels[level + 1]
        var value: UInt64 = 0xbb67_ae85_84ca_a73b &+ UInt64(level)
        for child in shape.childrenIndices(of: index, level: level) {
            value = StableHash.finalize(value &+ children[child])
        }
        return value
    }

    private mutating func recomputeAllInnerLevels() {
        var level = shape.leafLevel
        while level > 0 {
            for parent in 0..<levels[level - 1].count {
                levels[level - 1][parent] = combinedChildren(of: parent, level: level - 1)
            }
            level -= 1
        }
        for segment in dirtySegments { isSegmentDirty[segment] = false }
        dirtySegments.removeAll()
    }
}
