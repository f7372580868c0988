import NIOCore
import QuorumCore
import QuorumServices

/// `ReplicaCaller` on the real node: calls through the `ReplicaRouter` (the local replica
/// directly, peers over TCP) and brings each answer back to the calling service's loop.
/// An answer already on that loop (a local read at hand) is handed over at once.
final class LoopReplicaCaller: ReplicaCaller {
    private let router: ReplicaRouter
    private let loop: any EventLoop

    init(router: ReplicaRouter, loop: any EventLoop) {
        self.router = router
        self.loop = loop
    }

    func call(
        _ node: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        router.call(node, request, timeoutMilliseconds: timeoutMilliseconds) { result in answer(try? result.get()) }
    }
}
