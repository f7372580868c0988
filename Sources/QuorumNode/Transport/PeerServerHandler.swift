import Logging
import NIOCore
import QuorumCore

/// What a `PeerServer` does with one request: `respond` must be called exactly once, from
/// any thread. Called on the connection's event loop, so it must hand slow work elsewhere.
public typealias PeerRequestHandler = @Sendable (
    _ payload: [UInt8], _ from: String, _ respond: @escaping @Sendable ([UInt8]) -> Void
) -> Void

/// Decides whether a connecting node may talk to us: nil accepts, a message refuses.
public typealias PeerHelloValidator = @Sendable (PeerHello) -> String?

/// One inbound peer connection: the hello handshake, then requests handed to the node
/// with a responder bound to this connection. Every answer is written in the protocol
/// version the hello came in, so a node older than this one can read them (`Frame`).
///
/// Lives on its channel's event loop. Outstanding request ids are kept here so the
/// in-flight bound is exact, a duplicate `respond` is dropped, and responses for a
/// connection that has gone away are discarded instead of written.
final class PeerServerHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private enum State {
        /// Nothing received yet; becomes `ready` on an accepted hello, `closing` otherwise.
        case awaitingHello
        /// Hello accepted from `peerNodeID`; becomes `closing` on a protocol violation or close.
        case ready(peerNodeID: String)
        /// Closing or closed; everything inbound is ignored. Final.
        case closing
    }

    private let limits: PeerTransportLimits
    private var logger: Logger
    private let helloValidator: PeerHelloValidator
    private let handler: PeerRequestHandler
    private var state = State.awaitingHello
    /// The version of the connecting node's hello, which answers are written in.
    private var version = Frame.protocolVersion
    private var outstanding = Set<UInt64>()
    private var context: ChannelHandlerContext?
    private var isFlushScheduled = false

    init(limits: PeerTransportLimits, logger: Logger, helloValidator: @escaping PeerHelloValidator, handler: @escaping PeerRequestHandler) {
        self.limits = limits
        self.logger = logger
        self.helloValidator = helloValidator
        self.handler = handler
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        logger[metadataKey: "remote"] = "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")"
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress { logger[metadataKey: "remote"] = "\(remote)" }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closing
        outstanding.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .closing:
            return
        case .awaitingHello:
            receiveHello(frame, context: context)
        case .ready(let peerNodeID):
            switch frame.kind {
            case .request:
                receiveRequest(frame, from: peerNodeID, context: context)
            case .hello, .response, .error:
                closeForViolation("unexpected \(frame.kind) frame from a connecting peer", context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .all? = event as? IdleStateHandler.IdleStateEvent {
            // A request the node is still working on is not idleness.
            if outstanding.isEmpty {
                logger.debug("closing idle peer connection")
                state = .closing
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("peer connection failed", metadata: ["error": "\(error)"])
        state = .closing
        context.close(promise: nil)
    }

    private func receiveHello(_ frame: Frame, context: ChannelHandlerContext) {
        guard frame.kind == .hello else {
            closeForViolation("first frame was \(frame.kind), not hello", context: context)
            return
        }
        version = frame.version
        let hello: PeerHello
        do {
            hello = try PeerHello(decoding: frame.payload)
        } catch {
            closeForViolation("undecodable hello: \(error.message)", context: context)
            return
        }
        let identityRefusal = PeerTLS.identityRefusal(claimedNodeID: hello.nodeID, pipeline: context.pipeline.syncOperations)
        if identityRefusal != nil { TLSMetrics.refused(port: "peer", reason: .nodeIDMismatch) }
        if let refusal = identityRefusal ?? helloValidator(hello) {
            logger.warning(
                "rejecting peer hello", metadata: ["peer": "\(hello.nodeID)", "reason": "\(refusal)"]
            )
            state = .closing
            // Close only once the refusal is on the wire, so the peer learns why.
            let channel = context.channel
            let refusalFrame = Frame(version: version, kind: .error, requestID: frame.requestID, payload: Array(refusal.utf8))
            context.writeAndFlush(wrapOutboundOut(refusalFrame))
                .whenComplete { _ in channel.close(promise: nil) }
            return
        }
        logger[metadataKey: "peer"] = "\(hello.nodeID)"
        logger.debug("peer connected")
        state = .ready(peerNodeID: hello.nodeID)
    }

    private func receiveRequest(_ frame: Frame, from peerNodeID: String, context: ChannelHandlerContext) {
        let requestID = frame.requestID
        guard !outstanding.contains(requestID) else {
            sendError("duplicate request id \(requestID)", requestID: requestID, context: context)
            return
        }
        guard outstanding.count < limits.inFlightMax else {
            sendError("overloaded: \(limits.inFlightMax) requests already outstanding on this connection", requestID: requestID, context: context)
            return
        }
        outstanding.insert(requestID)
        let eventLoop = context.eventLoop
        let boundSelf = NIOLoopBound(self, eventLoop: eventLoop)
        handler(frame.payload, peerNodeID) { payload in
            if eventLoop.inEventLoop {
                boundSelf.value.respond(requestID: requestID, payload: payload)
            } else {
                eventLoop.execute { boundSelf.value.respond(requestID: requestID, payload: payload) }
            }
        }
    }

    /// Writes the answer to `requestID` unless it was answered already or its connection is gone.
    private func respond(requestID: UInt64, payload: [UInt8]) {
        guard outstanding.remove(requestID) != nil, let context else { return }
        if payload.count > limits.payloadBytesMax {
            logger.warning(
                "response too large for one frame",
                metadata: ["bytes": "\(payload.count)", "limit": "\(limits.payloadBytesMax)"]
            )
            sendError(PeerError.payloadTooLarge(bytes: payload.count, limit: limits.payloadBytesMax).message, requestID: requestID, context: context)
            return
        }
        let response = Frame(version: version, kind: .response, requestID: requestID, payload: payload)
        context.write(wrapOutboundOut(response), promise: nil)
        scheduleFlush(context: context)
    }

    private func sendError(_ message: String, requestID: UInt64, context: ChannelHandlerContext) {
        let refusal = Frame(version: version, kind: .error, requestID: requestID, payload: Array(message.utf8))
        context.write(wrapOutboundOut(refusal), promise: nil)
        scheduleFlush(context: context)
    }

    /// Responses usually arrive in bursts of tasks on the loop; one flush after the burst
    /// costs one syscall instead of one per response.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !isFlushScheduled else { return }
        isFlushScheduled = true
        let boundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = boundSelf.value
            handler.isFlushScheduled = false
            handler.context?.flush()
        }
    }

    private func closeForViolation(_ reason: String, context: ChannelHandlerContext) {
        logger.warning("closing peer connection: protocol violation", metadata: ["reason": "\(reason)"])
        state = .closing
        context.close(promise: nil)
    }
}
