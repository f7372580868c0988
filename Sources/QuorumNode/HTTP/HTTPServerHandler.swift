import Logging
import NIOCore
import NIOHTTP1
import QuorumCore

/// Gathers one request at a time (the pipelining handler in front of it holds back the
/// next), hands it to `HTTPAPI` on a task, and writes the answer back on the event loop.
///
/// Bounds: a body over `limits.httpBodyBytesMax` gets 413 and the connection closes; a
/// head over `limits.httpHeaderBytesMax` gets 431 (the decoder enforces it); anything
/// that isn't HTTP gets 400 `bad_request` and the connection closes. A connection idle
/// while no request is being served is closed.
final class HTTPServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Gathering a request's body.
        case receiving(HTTPRequestHead, ByteBuffer)
        /// A request is with the service; the response is not written yet.
        case processing
        /// Answered early (413); dropping the rest of the request until the peer goes away.
        case draining
        /// Closing; nothing more is read or written.
        case closed
    }

    private let service: any KVService
    private let limits: Limits
    private let logger: Logger
    private let metrics: NodeMetrics
    private var state = State.idle
    /// Nil on a node without an ACL: nothing is checked.
    private let gate: HTTPAccessGate?
    /// Failed logins on this connection; at `failuresPerConnectionMax` it closes.
    private var failedLogins = 0
    /// The peer half-closed while a request was in flight: close after answering it.
    private var closeAfterResponse = false

    /// How long a rejected request's remaining bytes are read (so the peer sees the 413
    /// instead of a reset) before the connection closes anyway.
    static let drainTime = TimeAmount.seconds(2)

    /// The `operation` label of answers given before a request reached the API (400 for
    /// bytes that are not HTTP, 413 for a body over the limit, 431 for a head over it).
    static let malformedOperation = "malformed"

    init(service: any KVService, limits: Limits, logger: Logger, metrics: NodeMetrics, gate: HTTPAccessGate? = nil) {
        self.gate = gate
        self.metrics = metrics
        self.service = service
        self.limits = limits
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            receiveHead(context: context, head: head)
        case (.receiving(let head, var buffer), .body(let chunk)):
            if buffer.readableBytes + chunk.readableBytes > limits.httpBodyBytesMax {
                reject(
                    context: context, head: head,
                    bytes: buffer.readableBytes + chunk.readableBytes)
                return
            }
            state = .processing  // avoid a copy-on-write of the buffer while we append
            buffer.writeImmutableBuffer(chunk)
            state = .receiving(head, buffer)
        case (.receiving(let head, let buffer), .end):
            state = .processing
            dispatch(context: context, head: head, body: buffer)
        case (.draining, _), (.closed, _):
            break
        case (.idle, .body), (.idle, .end), (.receiving, .head), (.processing, _):
            // The decoder and the pipelining handler never produce these.
            logger.debug("unexpected HTTP part; closing", metadata: ["state": "\(state)"])
            state = .closed
            context.close(promise: nil)
        }
    }

    private func receiveHead(context: ChannelHandlerContext, head: HTTPRequestHead) {
        if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > limits.httpBodyBytesMax {
            reject(context: context, head: head, bytes: length)
            return
        }
        if head.headers.first(name: "Expect")?.lowercased() == "100-continue" {
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        let expected = head.headers.first(name: "Content-Length").flatMap(Int.init) ?? 0
        state = .receiving(head, context.channel.allocator.buffer(capacity: min(max(expected, 0), limits.httpBodyBytesMax)))
    }

    /// Answers 413 before the body is read, then drains what the peer still sends.
    private func reject(context: ChannelHandlerContext, head: HTTPRequestHead, bytes: Int) {
        state = .draining
        let response = HTTPResponder.error(.tooLarge(what: "request body", bytes: bytes, limit: limits.httpBodyBytesMax))
        metrics.recordResponse(operation: Self.malformedOperation, status: response.status.code)
        write(context: context, response: response, version: head.version, keepAlive: false, closeMode: .output)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: Self.drainTime) { channel.close(promise: nil) }
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let request = HTTPAPIRequest(
            method: head.method.rawValue, uri: head.uri, headers: head.headers, body: Array(body.readableBytesView))
        let service = self.service
        let limits = self.limits
        let metrics = self.metrics
        let keepAlive = head.isKeepAlive
        let version = head.version
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let gate = self.gate
        let source = context.channel.remoteAddress?.ipAddress ?? "unknown"
        Task {
            // The login (a slow hash, unless cached) runs here, off the event loop.
            var failedLogin = false
            let response: HTTPResponse
            switch gate?.admit(request, source: source) ?? .proceed(user: nil) {
            case .refuse(let refusal, let failed):
                failedLogin = failed
                let operation = (try? HTTPRoute.endpoint(method: request.method, uri: request.uri))?.operationLabel
                metrics.recordResponse(operation: operation ?? HTTPAPI.unroutedOperation, status: refusal.status.code)
                response = refusal
            case .proceed(let user):
                let acting = user.flatMap { user in gate.map { AuthorizedKVService(base: service, user: user, access: $0.access) } }
                response = await HTTPAPI.respond(
                    to: request, service: acting ?? service, limits: limits, metrics: metrics, access: gate?.access)
            }
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.finish(context: context, response: response, version: version, keepAlive: keepAlive, failedLogin: failedLogin)
            }
        }
    }

    private func finish(
        context: ChannelHandlerContext, response: HTTPResponse, version: HTTPVersion, keepAlive: Bool, failedLogin: Bool = false
    ) {
        guard case .processing = state else { return }  // the connection went away meanwhile
        if failedLogin, let gate {
            failedLogins += 1
            if failedLogins >= gate.access.limits.failuresPerConnectionMax {
                gate.access.counters.connectionsClosed.add(1, ordering: .relaxed)
                closeAfterResponse = true
            }
        }
        let keepAlive = keepAlive && !closeAfterResponse
        state = keepAlive ? .idle : .closed
        write(context: context, response: response, version: version, keepAlive: keepAlive, closeMode: .all)
    }

    private func write(
        context: ChannelHandlerContext, response: HTTPResponse, version: HTTPVersion, keepAlive: Bool,
        closeMode: CloseMode
    ) {
        var headers = response.headers
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))),
            promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            guard !keepAlive else { return }
            channel.close(mode: closeMode).whenFailure { _ in channel.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            if case .processing = state { return }  // the service is working; not the peer's fault
            logger.debug("closing idle HTTP connection", metadata: ["peer": "\(context.remoteAddress?.description ?? "?")"])
            state = .closed
            context.close(promise: nil)
        case ChannelEvent.inputClosed:
            if case .processing = state {
                closeAfterResponse = true
            } else {
                state = .closed
                context.close(promise: nil)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .closed, .draining:
            return
        case .processing:
            // Not a parse error (those wait behind the response); the socket failed.
            closeAfterResponse = true
            context.close(promise: nil)
            return
        case .idle, .receiving:
            break
        }
        state = .closed
        guard let parserError = error as? HTTPParserError else {
            logger.debug("HTTP connection error; closing", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        let response: HTTPResponse
        if case .headerOverflow = parserError {
            response = HTTPResponder.headTooLarge(limit: limits.httpHeaderBytesMax)
        } else {
            response = HTTPResponder.malformedRequest(String(describing: parserError))
        }
        metrics.recordResponse(operation: Self.malformedOperation, status: response.status.code)
        write(context: context, response: response, version: .http1_1, keepAlive: false, closeMode: .all)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        context.fireChannelInactive()
    }
}
