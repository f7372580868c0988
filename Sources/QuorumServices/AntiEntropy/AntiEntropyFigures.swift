/// What a node's anti-entropy driver has done since it started, for `/status`: exchanges
/// it started, ring-change transfers, tombstone purges and stray copies cleared.
public struct AntiEntropyFigures: Sendable, Equatable {
    /// Exchanges that ran to the end.
    public var partitionsExchanged = 0
    public var failedExchanges = 0
    /// Keys written to one side or both because the replicas differed.
    public var keysRepaired = 0
    /// Tree hashes and key digests received from peers.
    public var hashesMoved = 0
    /// Compressed bytes of repair batches sent to peers.
    public var bytesShipped = 0
    public var lastExchangeMilliseconds = 0
    /// Ring-change transfers still to do for the change in progress, and finished since start.
    public var transfersPending = 0
    public var transfersDone = 0
    /// Tombstones removed from every replica (by the node that checked them), and those
    /// past their grace kept because a replica was unreachable or held another version.
    public var tombstonesPurged = 0
    public var tombstonesDeferred = 0
    /// Of `tombstonesPurged`, states of expired versions.
    public var expiredPurged = 0
    /// Stray copies deleted, and merged into replicas that lacked them first.
    public var strayCopiesRemoved = 0
    public var strayCopiesHandedOff = 0

    public init() {}
}
