import Logging
import NIOCore
import QuorumCore

/// Passes one outbound connection's frames and its closing to the `PeerClient` that
/// opened it, tagged with the connection's generation so a stale channel can't touch
/// its successor's requests.
final class PeerClientHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    private let client: PeerClient
    private let generation: UInt64

    init(client: PeerClient, generation: UInt64) {
        self.client = client
        self.generation = generation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.frameReceived(unwrapInboundIn(data), generation: generation)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.connectionLost(generation: generation)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.logger.debug("peer connection failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
