import Logging
import NIOCore
import NIOPosix
import QuorumCore
import Synchronization

/// Sends requests to one remote node over a single reused connection.
///
/// Request ids multiplex any number of requests (up to `inFlightMax`) on the connection.
/// It is opened on first use and reopened on the first use after it closes; after a failed
/// connect the client backs off and fails requests at once, so a dead peer costs callers
/// nothing but the error. All state lives on one event loop chosen at init.
///
/// Call `close()` before shutting down the event loop group: an open connection keeps the
/// client alive, and a request made after the loop has shut down never completes.
public final class PeerClient: Sendable {
    /// The remote node's id.
    public let nodeID: String
    public let host: String
    public let port: Int
    /// The loop that owns this client's state and connection; futures complete on it.
    public let eventLoop: any EventLoop
    let logger: Logger
    private let hello: PeerHello
    private let limits: PeerTransportLimits
    private let state: NIOLoopBoundBox<PeerClientState>
    private let reachable = Atomic<Bool>(true)
    /// Called (on the client's loop) each time `isReachable` flips.
    private let reachabilityChanged: @Sendable () -> Void
    private let tls: PeerTLS
    /// The node id the reached node's certificate must name; nil for a seed known only by
    /// address, whose certificate must still chain to the CA bundle.
    private let expectedNodeID: String?

    public init(
        nodeID: String,
        host: String,
        port: Int,
        group: any EventLoopGroup,
        hello: PeerHello,
        limits: PeerTransportLimits = .defaults,
        logger: Logger,
        reachabilityChanged: @escaping @Sendable () -> Void = {},
        tls: PeerTLS = .off,
        checksNodeID: Bool = true
    ) {
        self.reachabilityChanged = reachabilityChanged
        self.tls = tls
        self.expectedNodeID = checksNodeID ? nodeID : nil
        self.nodeID = nodeID
        self.host = host
        self.port = port
        self.eventLoop = group.next()
        self.hello = hello
        self.limits = limits
        var logger = logger
        logger[metadataKey: "peer"] = "\(nodeID)"
        logger[metadataKey: "address"] = "\(host):\(port)"
        self.logger = logger
        let initial = PeerClientState()
        initial.dialsTLS = tls.mode != .off
        self.state = NIOLoopBoundBox.makeBoxSendingValue(initial, eventLoop: eventLoop)
    }

    public var address: String { "\(host):\(port)" }

    /// False after a failed connect or a rejected hello, true again once the peer answers a
    /// request; true before the first attempt. A timeout alone doesn't change it.
    public var isReachable: Bool { reachable.load(ordering: .relaxed) }

    /// Sends `payload` and completes with the peer's response payload, or fails with a `PeerError`.
    ///
    /// `timeout` covers everything, connecting included. A response arriving after it is ignored.
    public func request(_ payload: [UInt8], timeout: TimeAmount) -> EventLoopFuture<[UInt8]> {
        let promise = eventLoop.makePromise(of: [UInt8].self)
        if eventLoop.inEventLoop {
            startRequest(payload, timeout: timeout, promise: promise)
        } else {
            eventLoop.execute { self.startRequest(payload, timeout: timeout, promise: promise) }
        }
        return promise.futureResult
    }

    /// Fails whatever is outstanding with `.connectionClosed`, closes the connection and
    /// refuses later requests the same way.
    public func close() async {
        let closing = eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            let state = self.state.value
            let channel: (any Channel)?
            if case .connected(let connected, _) = state.connection { channel = connected } else { channel = nil }
            state.connection = .closed
            for promise in state.takeAllPending() { promise.fail(PeerError.connectionClosed) }
            guard let channel else { return self.eventLoop.makeSucceededVoidFuture() }
            return channel.close().recover { _ in }
        }
        try? await closing.get()
    }

    // MARK: - On the event loop

    private func startRequest(_ payload: [UInt8], timeout: TimeAmount, promise: EventLoopPromise<[UInt8]>) {
        let state = state.value
        guard payload.count <= limits.payloadBytesMax else {
            promise.fail(PeerError.payloadTooLarge(bytes: payload.count, limit: limits.payloadBytesMax))
            return
        }
        switch state.connection {
        case .closed:
            promise.fail(PeerError.connectionClosed)
            return
        case .backingOff(let until, let error):
            if NIODeadline.now() < until {
                promise.fail(error)
                return
            }
            state.connection = .idle
        case .idle, .connecting, .connected:
            break
        }
        guard state.pending.count < limits.inFlightMax else {
            promise.fail(PeerError.overloaded)
            return
        }
        let requestID = state.nextRequestID
        state.nextRequestID &+= 1
        let timeoutTask = eventLoop.scheduleTask(in: timeout) { self.timeOut(requestID: requestID) }
        state.pending[requestID] = .init(promise: promise, timeout: timeoutTask)

        switch state.connection {
        case .connected(let channel, _):
            channel.write(Frame(kind: .request, requestID: requestID, payload: payload), promise: nil)
            scheduleFlush(state)
        case .connecting:
            state.queued.append((requestID, payload))
        case .idle:
            state.queued.append((requestID, payload))
            connect(state)
        case .backingOff, .closed:
            preconditionFailure("request \(requestID) to \(nodeID) reached sending in state \(state.connection)")
        }
    }

    private func timeOut(requestID: UInt64) {
        let state = state.value
        guard let entry = state.pending.removeValue(forKey: requestID) else { return }
        if case .connecting = state.connection {
            state.queued.removeAll { $0.requestID == requestID }
        }
        entry.promise.fail(PeerError.timeout)
    }

    /// Requests are often issued in bursts of loop tasks; one flush after the burst costs
    /// one syscall instead of one per request.
    private func scheduleFlush(_ state: PeerClientState) {
        guard !state.isFlushScheduled else { return }
        state.isFlushScheduled = true
        eventLoop.execute {
            let state = self.state.value
            state.isFlushScheduled = false
            if case .connected(let channel, _) = state.connection { channel.flush() }
        }
    }

    private func connect(_ state: PeerClientState) {
        let generation = state.nextGeneration
        state.nextGeneration += 1
        state.connection = .connecting(generation: generation)
        let limits = limits
        let logger = logger
        let tls = tls
        let dialsTLS = state.dialsTLS
        let expectedNodeID = expectedNodeID
        ClientBootstrap(group: eventLoop)
            .connectTimeout(limits.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if dialsTLS { try tls.configureClient(sync, expectedNodeID: expectedNodeID, logger: logger) }
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(frameBytesMax: limits.frameBytesMax, logger: logger)))
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(PeerClientHandler(client: self, generation: generation))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in self.connectFinished(generation: generation, result: result) }
    }

    private func connectFinished(generation: UInt64, result: Result<any Channel, any Error>) {
        let state = state.value
        guard case .connecting(generation) = state.connection else {
            // Closed, or the channel already went inactive, while connecting.
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        switch result {
        case .success(let channel):
            state.connection = .connected(channel, generation: generation)
            state.isConnectionConfirmed = false
            channel.write(Frame(kind: .hello, requestID: 0, payload: hello.encoded()), promise: nil)
            for (requestID, payload) in state.queued where state.pending[requestID] != nil {
                channel.write(Frame(kind: .request, requestID: requestID, payload: payload), promise: nil)
            }
            state.queued.removeAll()
            channel.flush()
        case .failure(let error):
            backOff(state, because: .unreachable("connecting to \(address) failed: \(Self.describe(connectError: error))"))
        }
    }

    /// Fails everything outstanding with `error` and refuses requests the same way for a
    /// pause that doubles with each consecutive failure.
    private func backOff(_ state: PeerClientState, because error: PeerError) {
        let pause = state.backoff.map { min($0 * 2, limits.backoffMax) } ?? limits.backoffMin
        state.backoff = pause
        state.connection = .backingOff(until: .now() + pause, error: error)
        if reachable.exchange(false, ordering: .relaxed) {
            reachabilityChanged()
            logger.warning("peer unreachable", metadata: ["error": "\(error.message)"])
        } else {
            logger.debug("peer still unreachable", metadata: ["error": "\(error.message)", "backoff": "\(pause)"])
        }
        for promise in state.takeAllPending() { promise.fail(error) }
    }

    func frameReceived(_ frame: Frame, generation: UInt64) {
        let state = state.value
        guard case .connected(let channel, generation) = state.connection else { return }
        switch frame.kind {
        case .response:
            if !state.isConnectionConfirmed { confirmConnection(state) }
            guard let entry = state.pending.removeValue(forKey: frame.requestID) else { return }
            entry.timeout.cancel()
            entry.promise.succeed(frame.payload)
        case .error where frame.requestID == 0:
            let reason = String(decoding: frame.payload, as: UTF8.self)
            backOff(state, because: .helloRejected(reason))
            channel.close(promise: nil)
        case .error:
            if !state.isConnectionConfirmed { confirmConnection(state) }
            guard let entry = state.pending.removeValue(forKey: frame.requestID) else { return }
            entry.timeout.cancel()
            entry.promise.fail(PeerError.remote(String(decoding: frame.payload, as: UTF8.self)))
        case .hello, .request:
            logger.warning("closing peer connection: protocol violation", metadata: ["reason": "peer sent a \(frame.kind) frame"])
            channel.close(promise: nil)
        }
    }

    /// The peer accepted our hello and answers: it is reachable, and the next failure
    /// starts its backoff from the minimum again.
    private func confirmConnection(_ state: PeerClientState) {
        state.isConnectionConfirmed = true
        state.backoff = nil
        if !reachable.exchange(true, ordering: .relaxed) {
            reachabilityChanged()
            logger.info("peer reachable")
        }
    }

    /// The one cause worth reading, instead of the happy-eyeballs wrapper around it.
    private static func describe(connectError error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return "\(first.error)"
        }
        if case ChannelError.connectTimeout(let timeout) = error {
            return "no connection within \(timeout)"
        }
        return "\(error)"
    }

    func connectionLost(generation: UInt64) {
        let state = state.value
        switch state.connection {
        case .connected(_, generation), .connecting(generation):
            state.connection = .idle
            if tls.mode == .accept && !state.isConnectionConfirmed {
                state.dialsTLS.toggle()
                logger.debug("peer connection closed before any answer; next connect tries \(state.dialsTLS ? "TLS" : "plaintext") (--peer-tls accept)")
            }
            let promises = state.takeAllPending()
            if !promises.isEmpty {
                logger.debug("peer connection closed with requests outstanding", metadata: ["requests": "\(promises.count)"])
            }
            for promise in promises { promise.fail(PeerError.connectionClosed) }
        default:
            return
        }
    }
}
