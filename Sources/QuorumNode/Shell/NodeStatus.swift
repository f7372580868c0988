import QuorumCore

/// `GET /status`: one node's view of the cluster, for people and scripts.
public struct NodeStatus: Sendable, Equatable, Codable {
    public var node: String
    public var version: String
    public var uptimeSeconds: Int
    public var ring: RingReport
    public var peers: [PeerHealth]
    /// Hints this node holds for unreachable replicas (hinted handoff is not built yet: 0).
    public var hintsPending: Int
    public var antiEntropy: AntiEntropyStatus
    public var storage: StorageStatus
    public var requestsInFlight: Int

    public init(
        node: String, version: String, uptimeSeconds: Int, ring: RingReport, peers: [PeerHealth], hintsPending: Int,
        antiEntropy: AntiEntropyStatus, storage: StorageStatus, requestsInFlight: Int
    ) {
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
        case node, version, ring, peers, storage
        case uptimeSeconds = "uptime_seconds"
        case hintsPending = "hints_pending"
        case antiEntropy = "anti_entropy"
        case requestsInFlight = "requests_in_flight"
    }
}

/// Anti-entropy progress; the exchanges themselves come with the convergence work.
public struct AntiEntropyStatus: Sendable, Equatable, Codable {
    public var enabled: Bool
    public var partitionsExchanged: Int

    public init(enabled: Bool, partitionsExchanged: Int) {
        self.enabled = enabled
        self.partitionsExchanged = partitionsExchanged
    }

    enum CodingKeys: String, CodingKey {
        case enabled
        case partitionsExchanged = "partitions_exchanged"
    }
}

public struct StorageStatus: Sendable, Equatable, Codable {
    /// Rows in the store, tombstones included.
    public var keys: Int
    public var queuedWrites: Int
    public var committedTransactions: Int

    public init(keys: Int, queuedWrites: Int, committedTransactions: Int) {
        self.keys = keys
        self.queuedWrites = queuedWrites
        self.committedTransactions = committedTransactions
    }

    enum CodingKeys: String, CodingKey {
        case keys
        case queuedWrites = "queued_writes"
        case committedTransactions = "committed_transactions"
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
