import Logging
import NIOCore
import QuorumCore
import Synchronization

/// One `PeerClient` per known peer, so every part of the node shares one connection to
/// each. Peers are added as the membership learns of them (a join) and replaced when a
/// peer's address changes; clients of peers that left are closed.
public final class PeerDirectory: Sendable {
    private let clients: Mutex<[String: PeerClient]>
    private let group: any EventLoopGroup
    private let hello: PeerHello
    private let limits: PeerTransportLimits
    private let logger: Logger
    private let tls: PeerTLS
    /// Raised whenever a peer's reachability may have changed: a client's flipped, or the
    /// set of clients changed.
    private let reachabilityChanges: Atomic<UInt64>

    /// - Parameter peers: the other nodes known at start; ids must be unique. Clients are
    ///   spread over the group's loops.
    public init(
        peers: [(nodeID: String, host: String, port: Int)],
        group: any EventLoopGroup,
        hello: PeerHello,
        limits: PeerTransportLimits = .defaults,
        logger: Logger,
        tls: PeerTLS = .off
    ) {
        self.tls = tls
        self.group = group
        self.hello = hello
        self.limits = limits
        self.logger = logger
        reachabilityChanges = Atomic(0)
        clients = Mutex([:])
        clients.withLock { clients in
            for peer in peers {
                precondition(clients[peer.nodeID] == nil, "peer \(peer.nodeID) configured twice")
                clients[peer.nodeID] = makeClient(nodeID: peer.nodeID, host: peer.host, port: peer.port)
            }
        }
    }

    private func makeClient(nodeID: String, host: String, port: Int) -> PeerClient {
        PeerClient(
            nodeID: nodeID, host: host, port: port, group: group, hello: hello, limits: limits, logger: logger,
            reachabilityChanged: { [weak self] in self?.reachabilityChanges.add(1, ordering: .releasing) }, tls: tls)
    }

    public func client(for nodeID: String) -> PeerClient? { clients.withLock { $0[nodeID] } }

    /// Makes the directory hold exactly `peers`: new ones get a client, ones whose address
    /// changed get a new client, and ones no longer listed are closed.
    public func reconcile(_ peers: [(nodeID: String, host: String, port: Int)]) {
        var added = false
        let retired: [PeerClient] = clients.withLock { clients in
            var retired: [PeerClient] = []
            var wanted = Set<String>()
            for peer in peers {
                wanted.insert(peer.nodeID)
                if let existing = clients[peer.nodeID], existing.host == peer.host, existing.port == peer.port { continue }
                if let existing = clients[peer.nodeID] { retired.append(existing) }
                clients[peer.nodeID] = makeClient(nodeID: peer.nodeID, host: peer.host, port: peer.port)
                added = true
            }
            for (nodeID, client) in clients where !wanted.contains(nodeID) {
                retired.append(client)
                clients[nodeID] = nil
            }
            return retired
        }
        if added || !retired.isEmpty { reachabilityChanges.add(1, ordering: .releasing) }
        guard !retired.isEmpty else { return }
        Task { for client in retired { await client.close() } }
    }

    /// A client for a node known only by address (a seed to join through); the caller
    /// closes it when done.
    public func temporaryClient(host: String, port: Int) -> PeerClient {
        PeerClient(
            nodeID: "seed \(host):\(port)", host: host, port: port, group: group, hello: hello, limits: limits, logger: logger,
            tls: tls, checksNodeID: false)
    }

    /// Changes whenever `unreachableNodeIDs` may answer otherwise; read it first.
    public var reachabilityGeneration: UInt64 { reachabilityChanges.load(ordering: .acquiring) }

    /// Peers the transport could not connect to lately (`PeerClient.isReachable` false).
    public func unreachableNodeIDs() -> Set<String> {
        clients.withLock { clients in
            var unreachable = Set<String>()
            for (nodeID, client) in clients where !client.isReachable { unreachable.insert(nodeID) }
            return unreachable
        }
    }

    /// Each peer's reachability as last observed, sorted by id, for health reports.
    public func snapshot() -> [(nodeID: String, address: String, reachable: Bool)] {
        let current = clients.withLock { $0 }
        return current.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { nodeID in
            let client = current[nodeID]!
            return (nodeID, client.address, client.isReachable)
        }
    }

    public func closeAll() async {
        let all = clients.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { tasks in
            for client in all {
                tasks.addTask { await client.close() }
            }
        }
    }
}
