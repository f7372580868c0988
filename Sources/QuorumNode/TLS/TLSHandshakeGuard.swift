import Logging
import NIOCore
import NIOSSL
import NIOTLS
import QuorumTLS

/// Sits right behind a TLS handler until its handshake completes: closes the connection
/// when the handshake takes longer than `TLSLimits.handshakeTimeout` (a client that opens a
/// socket and stalls must not hold it), and counts and logs a failed handshake with its
/// reason. Removes itself once the handshake is done, so it costs nothing afterwards.
final class TLSHandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let port: String
    private let timeout: TimeAmount
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var finished = false

    init(port: String, limits: TLSLimits, logger: Logger) {
        self.port = port
        timeout = limits.handshakeTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    private func arm(context: ChannelHandlerContext) {
        guard deadline == nil, !finished else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            guard !handler.finished else { return }
            handler.finished = true
            handler.refuse(.handshakeTimeout, detail: "no TLS handshake within \(handler.timeout)", context: context)
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent, !finished {
            finished = true
            deadline?.cancel()
            deadline = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished {
            finished = true
            deadline?.cancel()
            refuse(TLSRefusal.classify(error), detail: "\(error)", context: context)
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    /// BoringSSL's error text names the failed check, never key material.
    private func refuse(_ reason: TLSRefusal, detail: String, context: ChannelHandlerContext) {
        TLSMetrics.refused(port: port, reason: reason)
        logger.warning(
            "TLS handshake refused",
            metadata: [
                "port": "\(port)", "reason": "\(reason.rawValue)", "detail": "\(detail)",
                "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
            ])
    }

    func refuseNotTLS(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        refuse(.notTLS, detail: "first byte is not a TLS handshake", context: context)
    }
}
