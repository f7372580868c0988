import Logging
import QuorumCore
import QuorumServices
import QuorumStorage

/// What the node's anti-entropy driver (on the background loop) reads from and hands to
/// the rest of the node: the rings, the bucket registry, the peers believed down (the
/// failure detector's view plus peers the transport could not reach lately), the
/// tombstone grace, the ring-change service waiting on transfers, LZ4 for repair batches,
/// and the log.
final class NodeAntiEntropyContext: AntiEntropyContext {
    private let rings: RingView
    private let registry: BucketRegistry
    private let unreachablePeers: UnreachablePeers
    let tombstoneGraceMilliseconds: UInt64
    private let onTransfersDone: @Sendable () -> Void
    private let serviceLog: LoggerServiceLog

    init(
        rings: RingView, registry: BucketRegistry, unreachable: UnreachablePeers,
        tombstoneGraceMilliseconds: UInt64, onTransfersDone: @escaping @Sendable () -> Void, logger: Logger
    ) {
        self.rings = rings
        self.registry = registry
        unreachablePeers = unreachable
        self.tombstoneGraceMilliseconds = tombstoneGraceMilliseconds
        self.onTransfersDone = onTransfersDone
        serviceLog = LoggerServiceLog(logger: logger)
    }

    var serving: Ring { rings.serving }

    var target: Ring { rings.target }

    func props(for bucket: String) -> BucketProps { registry.props(for: bucket) }

    func truncationPoint(for bucket: String) -> HLCTimestamp? { registry.truncationPoint(for: bucket) }

    var replicasMax: Int { registry.replicasMax }

    var replicasMin: Int {
        min(registry.all().map(\.props.n).min() ?? BucketProps.defaults.n, BucketProps.defaults.n)
    }

    func unreachable() -> Set<String> { unreachablePeers.snapshot }

    func transfersDone() { onTransfersDone() }

    func compress(_ bytes: [UInt8]) -> [UInt8]? { try? LZ4Codec.compress(bytes) }

    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {
        serviceLog.log(level, message, metadata)
    }
}

extension AntiEntropyStatus {
    /// `/status`'s anti-entropy section: the driver's figures and the partition trees'.
    init(enabled: Bool, figures: AntiEntropyFigures, trees: PartitionTrees) {
        self.init(
            enabled: enabled, partitionsExchanged: figures.partitionsExchanged, failedExchanges: figures.failedExchanges,
            keysRepaired: figures.keysRepaired, hashesMoved: figures.hashesMoved, bytesShipped: figures.bytesShipped,
            lastExchangeMilliseconds: figures.lastExchangeMilliseconds, treeRebuilds: trees.rebuildCount,
            treesReady: trees.readyCount, roots: trees.roots())
        transfersPending = figures.transfersPending
        transfersDone = figures.transfersDone
        tombstonesPurged = figures.tombstonesPurged
        tombstonesDeferred = figures.tombstonesDeferred
        expiredPurged = figures.expiredPurged
        strayCopiesRemoved = figures.strayCopiesRemoved
        strayCopiesHandedOff = figures.strayCopiesHandedOff
    }
}
