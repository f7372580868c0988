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

    var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// This node's replica driver of `loop`, for a caller on that loop to call directly.
    func localReplica(on loop: any EventLoop) -> ReplicaDriver? { local.instance(on: loop) }

    func call(
        _ node: String, _ request: PeerRequest, timeoutMilliseconds: Int,
        completion: @escaping @Sendable (Result<PeerResponse, any Error>) -> Void
    ) {
        // Failed calls are counted on /metrics (`ReplicaCallMetrics`) where they fail: the
        // local replica answers every request, so only the transport's failures count.
        guard !isStopped else { return fail(request, PeerError.connectionClosed, completion) }
        if node == nodeID {
            local.run { replica in replica.handle(request) { completion(.success($0)) } }
            return
        }
        guard let client = peers.client(for: node) else {
            return fail(request, PeerError.unreachable("\(node) is not a configured peer"), completion)
        }
        let kind = ReplicaCallMetrics.requestLabel(request)
        client.request(request.encoded(), timeout: .milliseconds(Int64(timeoutMilliseconds))).whenComplete { [nodeID] result in
            let decoded = result.flatMap { bytes in Result { try PeerResponse(decoding: bytes) } }
            if case .failure(let error) = decoded { ReplicaCallMetrics.count(kind, from: nodeID, error) }
            completion(decoded)
        }
    }

    private func fail(
        _ request: PeerRequest, _ error: PeerError, _ completion: @Sendable (Result<PeerResponse, any Error>) -> Void
    ) {
        ReplicaCallMetrics.count(ReplicaCallMetrics.requestLabel(request), from: nodeID, error)
        completion(.failure(error))
    }
}
