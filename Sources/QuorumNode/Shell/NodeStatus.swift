import QuorumCore
import QuorumStorage

/// `GET /status`: one node's view of the cluster, for people and scripts.
public struct NodeStatus: Sendable, Equatable, Codable {
    public var node: String
    public var version: String
    public var uptimeSeconds: Int
    public var ring: RingReport
    public var peers: [PeerHealth]
    /// Hints this node holds for unreachable replicas (the same as `hints.pending`).
    public var hintsPending: Int
    public var antiEntropy: AntiEntropyStatus
    public var storage: StorageStatus
    public var requestsInFlight: Int
    public var repair: RepairStatus
    public var hints: HintStatus
    public var members: [MemberReport]
    /// Expiry figures; nil from a node that predates expiry.
    public var expiry: ExpiryStatus?
    /// Where this node's store stands in strong buckets' consensus (`catching_up`,
    /// `relearning`, `voting`; docs/operations.md, "Replace a node"); nil from a node that
    /// predates strong buckets.
    public var consensus: String?

    public init(
        node: String, version: String, uptimeSeconds: Int, ring: RingReport, peers: [PeerHealth], hintsPending: Int,
        antiEntropy: AntiEntropyStatus, storage: StorageStatus, requestsInFlight: Int,
        repair: RepairStatus = RepairStatus(readRepairs: 0, readRepairReplicas: 0),
        hints: HintStatus = HintStatus(pending: 0, pendingBytes: 0, delivered: 0, refused: 0, expired: 0),
        members: [MemberReport] = [], expiry: ExpiryStatus? = nil, consensus: String? = nil
    ) {
        self.consensus = consensus
        self.expiry = expiry
        self.members = members
        self.repair = repair
        self.hints = hints
        self.node = node
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.ring = ring
        self.peers = peers
        self.hintsPending = hintsPending
        self.antiEntropy = antiEntropy
        self.storage = storage
        self.requestsInFlight = requestsInFlight
    }

    enum CodingKeys: String, CodingKey {
        case node, version, ring, peers, storage, repair, hints, members, expiry, consensus
        case uptimeSeconds = "uptime_seconds"
        case hintsPending = "hints_pending"
        case antiEntropy = "anti_entropy"
        case requestsInFlight = "requests_in_flight"
    }
}

/// One member as this node's failure detector sees it.
public struct MemberReport: Sendable, Equatable, Codable {
    public var node: String
    public var address: String
    /// `up`, `leaving` or `left`: the member's own say, gossiped.
    public var status: String
    /// This node's opinion, from heartbeats.
    public var reachable: Bool
    /// Suspicion level (phi accrual); down at 8, capped at 1000.
    public var phi: Double
    public var partitions: Int

    public init(node: String, address: String, status: String, reachable: Bool, phi: Double, partitions: Int) {
        self.node = node
        self.address = address
        self.status = status
        self.reachable = reachable
        self.phi = phi
        self.partitions = partitions
    }
}

/// Hinted handoff on this node: hints held for unreachable primaries, and what became of them.
public struct HintStatus: Sendable, Equatable, Codable {
    public var pending: Int
    public var pendingBytes: Int
    public var delivered: Int
    public var refused: Int
    public var expired: Int

    init(queue: HintQueue) {
        self.init(
            pending: queue.pendingCount, pendingBytes: queue.pendingBytes, delivered: Int(queue.deliveredCount),
            refused: Int(queue.refusedCount), expired: Int(queue.expiredCount))
    }

    public init(pending: Int, pendingBytes: Int, delivered: Int, refused: Int, expired: Int) {
        self.pending = pending
        self.pendingBytes = pendingBytes
        self.delivered = delivered
        self.refused = refused
        self.expired = expired
    }

    enum CodingKeys: String, CodingKey {
        case pending, delivered, refused, expired
        case pendingBytes = "pending_bytes"
    }
}

/// What read repair has done since the node started.
public struct RepairStatus: Sendable, Equatable, Codable {
    public var readRepairs: Int
    public var readRepairReplicas: Int

    public init(readRepairs: Int, readRepairReplicas: Int) {
        self.readRepairs = readRepairs
        self.readRepairReplicas = readRepairReplicas
    }

    enum CodingKeys: String, CodingKey {
        case readRepairs = "read_repairs"
        case readRepairReplicas = "read_repair_replicas"
    }
}

/// What anti-entropy has done since the node started (exchanges this node started).
public struct AntiEntropyStatus: Sendable, Equatable, Codable {
    public var enabled: Bool
    /// Exchanges that ran to the end.
    public var partitionsExchanged: Int
    public var failedExchanges: Int
    /// Keys written to one side or both because the replicas differed.
    public var keysRepaired: Int
    /// Tree hashes and key digests received from peers.
    public var hashesMoved: Int
    /// LZ4-compressed bytes of repair batches sent to peers.
    public var bytesShipped: Int
    public var lastExchangeMilliseconds: Int
    /// Partition trees built from storage since start (the first build of each included).
    public var treeRebuilds: Int
    /// Held partitions whose tree is built and kept up to date on every write.
    public var treesReady: Int
    /// Merkle root (16 hex digits) of each held partition with a ready tree, keyed by
    /// partition number: replicas that agree report the same root for a partition.
    public var roots: [String: String]
    /// Ring-change transfers (one partition exchanged with one peer) still to do for the
    /// change in progress (0 when the ring is settled), and finished since start.
    public var transfersPending: Int = 0
    public var transfersDone: Int = 0
    /// Tombstones this node removed from every replica (it checks the partitions it owns),
    /// and those past their grace kept because a replica was unreachable or differed.
    public var tombstonesPurged: Int = 0
    public var tombstonesDeferred: Int = 0
    /// Of `tombstonesPurged`, states of expired versions (rather than deletes).
    public var expiredPurged: Int?
    /// Copies of keys this node no longer replicates (left by a ring change) that it
    /// deleted, and that it first merged into replicas lacking them, since start.
    public var strayCopiesRemoved: Int = 0
    public var strayCopiesHandedOff: Int = 0

    public init(
        enabled: Bool, partitionsExchanged: Int, failedExchanges: Int = 0, keysRepaired: Int = 0, hashesMoved: Int = 0,
        bytesShipped: Int = 0, lastExchangeMilliseconds: Int = 0, treeRebuilds: Int = 0, treesReady: Int = 0,
        roots: [String: String] = [:]
    ) {
        self.treeRebuilds = treeRebuilds
        self.treesReady = treesReady
        self.roots = roots
        self.bytesShipped = bytesShipped
        self.enabled = enabled
        self.partitionsExchanged = partitionsExchanged
        self.failedExchanges = failedExchanges
        self.keysRepaired = keysRepaired
        self.hashesMoved = hashesMoved
        self.lastExchangeMilliseconds = lastExchangeMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case enabled
        case partitionsExchanged = "partitions_exchanged"
        case failedExchanges = "failed_exchanges"
        case keysRepaired = "keys_repaired"
        case hashesMoved = "hashes_moved"
        case bytesShipped = "bytes_shipped"
        case lastExchangeMilliseconds = "last_exchange_ms"
        case treeRebuilds = "tree_rebuilds"
        case treesReady = "trees_ready"
        case roots
        case transfersPending = "transfers_pending"
        case transfersDone = "transfers_done"
        case tombstonesPurged = "tombstones_purged"
        case tombstonesDeferred = "tombstones_deferred"
        case expiredPurged = "expired_purged"
        case strayCopiesRemoved = "stray_copies_removed"
        case strayCopiesHandedOff = "stray_copies_handed_off"
    }
}

public struct StorageStatus: Sendable, Equatable, Codable {
    /// Rows in the store, tombstones included.
    public var keys: Int
    public var queuedWrites: Int
    public var committedTransactions: Int
    public var rowCache: RowCacheStatistics

    public init(keys: Int, queuedWrites: Int, committedTransactions: Int, rowCache: RowCacheStatistics = RowCacheStatistics()) {
        self.keys = keys
        self.queuedWrites = queuedWrites
        self.committedTransactions = committedTransactions
        self.rowCache = rowCache
    }

    enum CodingKeys: String, CodingKey {
        case keys
        case queuedWrites = "queued_writes"
        case committedTransactions = "committed_transactions"
        case rowCache = "row_cache"
    }

    /// Reads the status of nodes from before the row cache too (a CLI during an upgrade).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        keys = try container.decode(Int.self, forKey: .keys)
        queuedWrites = try container.decode(Int.self, forKey: .queuedWrites)
        committedTransactions = try container.decode(Int.self, forKey: .committedTransactions)
        rowCache = try container.decodeIfPresent(RowCacheStatistics.self, forKey: .rowCache) ?? RowCacheStatistics()
    }
}

/// `GET /ring`: who owns each partition.
public struct RingReport: Sendable, Equatable, Codable {
    public var partitionCount: Int
    public var members: [String]
    /// Owner of each partition, by partition number.
    public var owners: [String]
    /// Partitions each member owns.
    public var ownership: [String: Int]

    public init(ring: Ring) {
        partitionCount = ring.partitionCount
        members = ring.members
        owners = (0..<ring.partitionCount).map { ring.owner(of: $0) }
        ownership = Dictionary(uniqueKeysWithValues: zip(ring.members, ring.ownedCounts()))
    }

    enum CodingKeys: String, CodingKey {
        case members, owners, ownership
        case partitionCount = "partition_count"
    }
}

/// Expiry on this node since it started.
public struct ExpiryStatus: Sendable, Equatable, Codable {
    /// Versions this node's replicas found expired (by this node's clock) and stored in
    /// their stripped form: on a read (lazily), a write, a repair or a hint.
    public var versionsExpired: Int
    /// Versions reads this node coordinated hid because its clock had passed their
    /// deadline while the answering replicas' clocks had not (they judge by their own).
    public var versionsHidden: Int

    public init(versionsExpired: Int, versionsHidden: Int = 0) {
        self.versionsExpired = versionsExpired
        self.versionsHidden = versionsHidden
    }

    enum CodingKeys: String, CodingKey {
        case versionsExpired = "versions_expired"
        case versionsHidden = "versions_hidden"
    }
}
