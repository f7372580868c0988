import NIOCore
import QuorumCore
import QuorumServices

/// `ReplicaCaller` on the real node: calls through the `ReplicaRouter` (the local replica
/// directly, peers over TCP) and brings each answer back to the calling service's loop.
///
/// A call to this node's own replica goes straight to the replica driver of the caller's
/// loop: that driver answers on its loop (its storage brings every completion back there),
/// so the answer needs no hop and no wrapping, and one at hand (a local read) is handed
/// over before `call` returns.
final class LoopReplicaCaller: ReplicaCaller {
    private let router: ReplicaRouter
    private let loop: any EventLoop
    /// The replica driver of `loop`, found on the first call (made on the loop).
    private lazy var localReplica: ReplicaDriver? = router.localReplica(on: loop)

    init(router: ReplicaRouter, loop: any EventLoop) {
        self.router = router
        self.loop = loop
    }

    func call(
        _ node: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void
    ) {
        if node == router.nodeID, !router.isStopped, loop.inEventLoop, let replica = localReplica {
            return replica.handle(request) { completion($0) }
        }
        let answer = LoopHop.back(to: loop, completion)
        router.call(node, request, timeoutMilliseconds: timeoutMilliseconds) { result in answer(try? result.get()) }
    }
}
