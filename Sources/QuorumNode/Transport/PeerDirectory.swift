import Logging
import NIOCore
import QuorumCore

/// One `PeerClient` per configured peer, so every part of the node shares one connection
/// to each peer. The set is fixed at init; a membership change builds a new directory.
public final class PeerDirectory: Sendable {
    private let clients: [String: PeerClient]
    /// Configuration order, so health reports are stable.
    public let nodeIDs: [String]

    /// - Parameter peers: the other nodes; ids must be unique. Clients are spread over the
    ///   group's loops.
    public init(
        peers: [(nodeID: String, host: String, port: Int)],
        group: any EventLoopGroup,
        hello: PeerHello,
        limits: PeerTransportLimits = .defaults,
        logger: Logger
    ) {
        var clients: [String: PeerClient] = [:]
        for peer in peers {
            precondition(clients[peer.nodeID] == nil, "peer \(peer.nodeID) configured twice")
            clients[peer.nodeID] = PeerClient(
                nodeID: peer.nodeID, host: peer.host, port: peer.port, group: group, hello: hello, limits: limits, logger: logger
            )
        }
        self.clients = clients
        self.nodeIDs = peers.map(\.nodeID)
    }

    public func client(for nodeID: String) -> PeerClient? { clients[nodeID] }

    /// Each peer's reachability as last observed, in configuration order, for health reports.
    public func snapshot() -> [(nodeID: String, address: String, reachable: Bool)] {
        nodeIDs.map { nodeID in
            let client = clients[nodeID]!
            return (nodeID, client.address, client.isReachable)
        }
    }

    public func closeAll() async {
        await withTaskGroup(of: Void.self) { tasks in
            for client in clients.values {
                tasks.addTask { await client.close() }
            }
        }
    }
}
