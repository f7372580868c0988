import NIOCore
import QuorumCore
import QuorumServices

/// Reaches a seed that is not a member yet, over a connection of its own, closed after
/// the answer; the answer comes back on the calling driver's loop.
final class PeerSeedCaller: SeedCaller {
    private let peers: PeerDirectory
    private let loop: any EventLoop

    init(peers: PeerDirectory, loop: any EventLoop) {
        self.peers = peers
        self.loop = loop
    }

    func call(address: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void) {
        let answer = LoopHop.back(to: loop, completion)
        guard let hostPort = try? HostPort(parsing: address, what: "seed") else { return answer(nil) }
        let client = peers.temporaryClient(host: hostPort.host, port: hostPort.port)
        client.request(request.encoded(), timeout: .milliseconds(Int64(timeoutMilliseconds))).whenComplete { result in
            Task { await client.close() }
            answer(try? result.flatMap { bytes in Result { try PeerResponse(decoding: bytes) } }.get())
        }
    }
}
