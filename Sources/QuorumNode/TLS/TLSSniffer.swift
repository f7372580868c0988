import Logging
import NIOCore
import NIOSSL

/// First handler of a TLS-capable listening port: looks at the connection's first byte and
/// decides. 0x16 (a TLS handshake record) gets a server TLS handler inserted behind this one;
/// anything else is closed with nothing written back (and counted), unless the port also
/// takes plaintext (the peer port in `accept` mode), when the bytes pass on as they are.
/// Then it removes itself and passes on what it read.
final class TLSSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// The first byte of every TLS connection: a handshake record.
    static let handshakeRecordType: UInt8 = 0x16

    private let makeTLSHandler: () throws -> NIOSSLServerHandler
    private let handshakeGuard: TLSHandshakeGuard
    private let allowsPlaintext: Bool
    private var decided = false

    /// - Parameters:
    ///   - makeTLSHandler: builds the TLS handler from the material current at this moment.
    ///   - handshakeGuard: already in the pipeline right behind this handler.
    init(allowsPlaintext: Bool, handshakeGuard: TLSHandshakeGuard, makeTLSHandler: @escaping () throws -> NIOSSLServerHandler) {
        self.allowsPlaintext = allowsPlaintext
        self.handshakeGuard = handshakeGuard
        self.makeTLSHandler = makeTLSHandler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        decided = true
        let pipeline = context.pipeline.syncOperations
        do {
            if first == Self.handshakeRecordType {
                try pipeline.addHandler(try makeTLSHandler(), position: .after(self))
            } else if allowsPlaintext {
                pipeline.removeHandler(handshakeGuard, promise: nil)
            } else {
                handshakeGuard.refuseNotTLS(context: context)
                context.close(promise: nil)
                return
            }
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        pipeline.removeHandler(context: context, promise: nil)
    }
}
