import NIOCore
import NIOPosix
import NIOSSL

/// One RESP connection of the harness, used alike for QuorumKV nodes and redis-server.
/// Requests are not pipelined by the load generator (one in flight per connection), but the
/// client itself answers replies in order, so it would pipeline correctly.
///
/// Every method runs on the connection's event loop, as do the reply and close callbacks.
public final class RESPBenchClient: @unchecked Sendable {
    public let channel: Channel
    public let endpoint: BenchTarget.Endpoint

    init(channel: Channel, endpoint: BenchTarget.Endpoint) {
        self.channel = channel
        self.endpoint = endpoint
    }

    /// Connects, calling `onReply` for every reply and `onClose` once when the connection ends.
    public static func connect(
        to endpoint: BenchTarget.Endpoint, on eventLoop: EventLoop, connectTimeout: TimeAmount = .seconds(5),
        onReply: @escaping @Sendable (RESPReply) -> Void, onClose: @escaping @Sendable () -> Void
    ) -> EventLoopFuture<RESPBenchClient> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = endpoint.tls {
                        // Certificates name 127.0.0.1 as an IP SAN; no SNI name for an address.
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RESPReplyHandler(onReply: onReply, onClose: onClose))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .map { RESPBenchClient(channel: $0, endpoint: endpoint) }
    }

    /// Sends a whole command and flushes.
    public func send(_ command: ByteBuffer) {
        channel.writeAndFlush(command, promise: nil)
    }

    public func close() {
        channel.close(promise: nil)
    }

    public var allocator: ByteBufferAllocator { channel.allocator }
}

/// Splits the byte stream into replies. Bytes of an unfinished reply wait in `pending`, which
/// is bounded by the parser's own bounds (a bulk string of at most 512 MiB).
final class RESPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let onReply: (RESPReply) -> Void
    private let onClose: () -> Void
    private var pending: ByteBuffer?
    private var closed = false

    init(onReply: @escaping (RESPReply) -> Void, onClose: @escaping () -> Void) {
        self.onReply = onReply
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil || pending!.readableBytes == 0 {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        do {
            while let reply = try RESPReplyParser.decode(&pending!) {
                onReply(reply)
            }
        } catch {
            context.close(promise: nil)
            return
        }
        if pending!.readableBytes == 0 {
            pending = nil
        } else if pending!.readerIndex > 65_536 {
            pending!.discardReadBytes()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closed {
            closed = true
            onClose()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
