/// The bounds of a node's background work over its data (anti-entropy repair, tombstone
/// purges, clearing stray copies), in one place. Each trades how soon a pass is done
/// against how much it takes from client requests; the tree shape and message sizes of an
/// exchange are `AntiEntropyLimits`. The node and the simulator both run with `defaults`.
public struct AntiEntropyBounds: Sendable, Equatable {
    /// Rows a tombstone purge or stray-copy pass scans on one anti-entropy tick: one page
    /// of one partition, the next tick resuming where it stopped. A full sweep is slow by
    /// design; a tombstone or stray copy kept longer costs only disk.
    public var rowsPerPage = 500
    /// Keys whose two states (this replica's and the peer's) a repair fetches at once:
    /// enough to hide round trips, few enough not to crowd out client requests.
    public var fetchConcurrency = 32
    /// Most encoded bytes of states in one repair batch, besides the exchange's
    /// `AntiEntropyLimits.batchKeysMax` keys: 256 large states must not come near
    /// `Limits.frameBytesMax`.
    public var batchBytesMax = 4 * 1024 * 1024
    /// How long any one request of this work (a tree query, a fetch, a repair batch, a
    /// purge, a hand-off) may take before it counts as failed.
    public var requestTimeoutMilliseconds = 5000

    public init() {}

    public static let defaults = AntiEntropyBounds()
}
