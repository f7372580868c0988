/// The bounds of active anti-entropy: tree shape, message sizes and the tombstone grace.
///
/// Kept apart from `Limits` so anti-entropy can be tuned without touching the request
/// path's bounds; the shell copies these into its settings like the others. The tree
/// shape must be the same on every replica of a partition, or exchanges fail with
/// `shapeMismatch`: change it for the whole cluster at once (trees are rebuilt from storage).
public struct AntiEntropyLimits: Sendable, Equatable, Codable {
    /// Leaves per partition's tree (a power of two). More segments mean fewer keys listed
    /// per differing segment but a deeper or wider tree: with m keys in a partition, an
    /// exchange that finds k differing keys receives about fanOut + k·fanOut·(depth − 1)
    /// tree hashes plus k·m/segmentCount key digests from the peer. At m = 100 000 and
    /// k = 10 that is 353 + 970 = 1 323 (1.3% of m; see AntiEntropyExchangeTests).
    public var segmentCount: Int = 1024
    /// Children per inner node (at least 2). 32 makes 1024 segments a three-level tree
    /// (root, 32, 1024), so an exchange takes three hash round trips at most.
    public var fanOut: Int = 32
    /// Most tree-node indices one `requestHashes` asks for; a wider level goes in several requests.
    public var hashRequestIndicesMax: Int = 1024
    /// Most segments one `requestSegmentKeys` asks for, which bounds the key lists in one
    /// reply to about this many times m/segmentCount keys per side.
    public var segmentsPerRequestMax: Int = 16
    /// Most keys one `repair` action names: a batch the shell reads, merges and ships as one
    /// (LZ4-compressed) message.
    public var batchKeysMax: Int = 256
    /// How long every replica must have held a tombstone before it may be purged. Longer
    /// than a hint is kept and than a replica may stay down, so no stale version can arrive
    /// after the tombstone that would have superseded it is gone.
    public var tombstoneGraceMilliseconds: UInt64 = 24 * 60 * 60 * 1000

    public init() {}

    public static let defaults = AntiEntropyLimits()

    /// The tree shape these limits describe.
    public var shape: MerkleShape { MerkleShape(segmentCount: segmentCount, fanOut: fanOut) }
}
