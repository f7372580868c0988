import NIOCore
import QuorumCore
import QuorumServices
import QuorumStorage
import QuorumTLS

/// Everything one node needs to start. Built from flags or a JSON config file by the
/// `serve` command; every field has a default except the node's identity.
public struct NodeConfig: Sendable, Codable, Equatable {
    /// A cluster member as every node must list it: id and node-to-node address.
    public struct Member: Sendable, Codable, Equatable {
        public var id: String
        public var host: String
        public var port: Int

        public init(id: String, host: String, port: Int) {
            self.id = id
            self.host = host
            self.port = port
        }

        /// Parses `id=host:port`.
        public init(parsing text: String) throws(ConfigError) {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigError("member \"\(text)\" must look like id=host:port, e.g. node2=127.0.0.1:9082")
            }
            let address = try HostPort(parsing: parts[1], what: "member \(parts[0])")
            self.init(id: parts[0], host: address.host, port: address.port)
        }
    }

    public var nodeID: String
    public var httpHost: String = "127.0.0.1"
    public var httpPort: Int = 8081
    public var peerHost: String = "127.0.0.1"
    public var peerPort: Int = 9081
    /// RESP line-protocol listen address (docs/resp.md); no listener when `respPort` is nil.
    public var respHost: String = "127.0.0.1"
    public var respPort: Int?
    public var dataDirectory: String = "./data/node1"
    /// Every member including this node, in join order; it determines the ring, so every
    /// node must be given the same list.
    public var members: [Member] = []
    /// A running member's peer address to join through (`--join`); `members` is then
    /// empty and the membership comes from the cluster.
    public var joinSeed: String?
    public var partitionCount: Int = 64
    public var syncMode: SyncMode = .full
    /// Network threads. Each answers reads of local replicas itself (the SQLite read runs
    /// on it), so reads scale with them up to the cores; past 4 the single storage writer
    /// and the peers are the limit, not the network.
    public var eventLoopThreads: Int = NodeConfig.defaultEventLoopThreads
    public static let defaultEventLoopThreads = max(1, min(System.coreCount, 4))
    /// Share of reads that repair stale replicas afterwards: 1 always, 0 never.
    public var readRepairProbability: Double = ServiceDefaults.readRepairProbability
    /// How often this node gossips heartbeats (and, when a peer's differs, the membership
    /// state with bucket props) to a few peers. The failure detector is tuned for 500 ms.
    public var gossipIntervalMilliseconds: Int = ServiceDefaults.gossipIntervalMilliseconds
    public var limits: Limits = .defaults
    /// Hint bounds; a failed delivery backs off at most 5 s so a returning node drains soon.
    public var hintLimits: HintLimits = ServiceDefaults.hintLimits
    /// Let stand-ins take writes for unreachable primaries (requests may still refuse
    /// them with pr/pw).
    public var sloppyQuorum: Bool = true
    /// How often this node starts one anti-entropy exchange (one partition with one
    /// peer); 0 turns anti-entropy off. The interval is its rate limit.
    public var antiEntropyIntervalMilliseconds: Int = ServiceDefaults.antiEntropyIntervalMilliseconds
    /// How long every replica must have held a tombstone before it is purged; longer than
    /// hints live (6 h) and replicas stay down, so no older write is still in flight.
    public var tombstoneGraceMilliseconds: UInt64 = AntiEntropyLimits.defaults.tombstoneGraceMilliseconds
    /// How often this node tries to deliver the hints it holds.
    public var hintDeliveryIntervalMilliseconds: Int = ServiceDefaults.hintDeliveryIntervalMilliseconds

    /// The node's certificate, key and CA bundle; no TLS on any port when nil. With it, the
    /// HTTP and RESP ports speak only TLS; the peer port follows `peerTLS`.
    public var tls: TLSFiles?
    /// TLS on the peer port (mutual, against `tls.caPath`); `accept` is the transitional
    /// setting for moving a running cluster to TLS one node at a time.
    public var peerTLS: PeerTLSMode = .off
    /// A TLS handshake not finished this long after the connection opened is closed
    /// (`TLSLimits.handshakeTimeout`, whose default this is).
    public var tlsHandshakeTimeoutMilliseconds: Int = Int(TLSLimits.defaults.handshakeTimeout.nanoseconds / 1_000_000)

    /// The TLS bounds this config sets.
    public var tlsLimits: TLSLimits { TLSLimits(handshakeTimeout: .milliseconds(Int64(tlsHandshakeTimeoutMilliseconds))) }

    public init(nodeID: String) {
        self.nodeID = nodeID
    }

    /// Checks the config as a whole; the message says which field to fix.
    public func validate() throws(ConfigError) {
        guard !nodeID.isEmpty, nodeID.utf8.count <= 64, !nodeID.contains(where: { $0 == "=" || $0 == "," || $0 == " " }) else {
            throw ConfigError("node id must be 1-64 characters without '=', ',' or spaces, got \"\(nodeID)\"")
        }
        guard partitionCount >= 1, partitionCount <= 65536, partitionCount & (partitionCount - 1) == 0 else {
            throw ConfigError("partition count must be a power of two between 1 and 65536, got \(partitionCount)")
        }
        if let joinSeed {
            guard members.isEmpty else {
                throw ConfigError("--join and --member exclude each other: a joining node learns the members from the cluster")
            }
            _ = try HostPort(parsing: joinSeed, what: "--join")
        } else if !members.contains(where: { $0.id == nodeID }) {
            throw ConfigError("the member list must include this node (\(nodeID)); add --member \(nodeID)=\(peerHost):\(peerPort)")
        }
        guard Set(members.map(\.id)).count == members.count else {
            throw ConfigError("member ids must be distinct: \(members.map(\.id).joined(separator: ", "))")
        }
        guard (0...1).contains(readRepairProbability) else {
            throw ConfigError("read repair must be always, off, or a probability between 0 and 1, got \(readRepairProbability)")
        }
        guard (1...256).contains(eventLoopThreads) else {
            throw ConfigError("event loop threads must be 1...256, got \(eventLoopThreads)")
        }
        guard (1...600_000).contains(tlsHandshakeTimeoutMilliseconds) else {
            throw ConfigError("--tls-handshake-timeout must be 1...600000 ms, got \(tlsHandshakeTimeoutMilliseconds)")
        }
        if peerTLS != .off {
            guard let tls, tls.caPath != nil else {
                throw ConfigError("--peer-tls \(peerTLS.rawValue) needs --tls-cert, --tls-key and --tls-ca (the CA bundle peers must chain to)")
            }
        }
        for port in [httpPort, peerPort] + (respPort.map { [$0] } ?? []) where !(0...65535).contains(port) {
            throw ConfigError("port \(port) is out of range 0...65535")
        }
    }
}

/// `host:port`, as written on the command line.
public struct HostPort: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String, what: String) throws(ConfigError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon != text.startIndex
        else {
            throw ConfigError("\(what): \"\(text)\" is not host:port, e.g. 127.0.0.1:8081")
        }
        self.init(host: String(text[..<colon]), port: port)
    }
}

public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
