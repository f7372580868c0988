import NIOCore
import QuorumCore
import QuorumServices
import Synchronization

/// Sends a `PeerRequest` to a replica: straight to this node's replica driver when it is
/// this node, over the peer transport otherwise. Callers see only responses.
final class ReplicaRouter: Sendable {
    let nodeID: String
    private let local: LoopLocal<ReplicaDriver>
    private let peers: PeerDirectory
    /// Set as the node stops: work still in flight on its loops (an exchange, a delivery
    /// pass) must not start requests on loops that are shutting down.
    private let stopped = Atomic<Bool>(false)

    init(nodeID: String, local: LoopLocal<ReplicaDriver>, peers: PeerDirectory) {
        self.nodeID = nodeID
        self.local = local
        self.peers = peers
    }

    /// Refuses every later call at once.
    func stop() { stopped.store(true, ordering: .releasing) }

    func call(
        _ node: String, _ request: PeerRequest, timeoutMilliseconds: Int,
        completion: @escaping @Sendable (Result<PeerResponse, any Error>) -> Void
    ) {
        guard !stopped.load(ordering: .acquiring) else { return completion(.failure(PeerError.connectionClosed)) }
        let completion = ReplicaCallMetrics.counting(request, from: nodeID, completion)  // failed calls, on /metrics
        if node == nodeID {
            local.run { replica in replica.handle(request) { completion(.success($0)) } }
            return
        }
        guard let client = peers.client(for: node) else {
            completion(.failure(PeerError.unreachable("\(node) is not a configured peer")))
            return
        }
        client.request(request.encoded(), timeout: .milliseconds(Int64(timeoutMilliseconds))).whenComplete { result in
            completion(result.flatMap { bytes in
                Result { try PeerResponse(decoding: bytes) }
            })
        }
    }
}
