import Logging
import NIOCore
import NIOPosix
import QuorumCore
import Synchronization

/// Accepts connections from other nodes and hands their requests to the node.
///
/// Payloads are opaque here; the handler decodes them. Closing the server also closes
/// every accepted connection, so peers notice at once instead of at their next timeout.
public actor PeerServer {
    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    private let limits: PeerTransportLimits
    private let logger: Logger
    private let helloValidator: PeerHelloValidator
    private let handler: PeerRequestHandler
    private let tls: PeerTLS
    private let connections = PeerConnectionRegistry()
    private var serverChannel: (any Channel)?
    private var hasStarted = false

    public init(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        limits: PeerTransportLimits = .defaults,
        logger: Logger,
        helloValidator: @escaping @Sendable (PeerHello) -> String?,
        handler: @escaping @Sendable (_ payload: [UInt8], _ from: String, _ respond: @escaping @Sendable ([UInt8]) -> Void) -> Void,
        tls: PeerTLS = .off
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.group = group
        self.limits = limits
        self.logger = logger
        self.helloValidator = helloValidator
        self.handler = handler
    }

    /// Binds and starts accepting.
    ///
    /// - Returns: the bound port, which differs from the configured one when that was 0.
    public func start() async throws -> Int {
        // Single use: close() shuts the connection registry for good.
        precondition(!hasStarted, "PeerServer.start() called twice; make a new server to restart")
        hasStarted = true
        let limits = limits
        let logger = logger
        let helloValidator = helloValidator
        let handler = handler
        let connections = connections
        let tls = tls
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.add(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try tls.configureServer(sync, logger: logger)
                    // Ahead of the decoder, so bytes of a large frame still arriving count as traffic.
                    try sync.addHandler(IdleStateHandler(allTimeout: limits.idleTimeout))
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(frameBytesMax: limits.frameBytesMax, logger: logger)))
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(
                        PeerServerHandler(limits: limits, logger: logger, helloValidator: helloValidator, handler: handler)
                    )
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        serverChannel = channel
        let boundPort = channel.localAddress?.port ?? port
        logger.info("peer server listening", metadata: ["host": "\(host)", "port": "\(boundPort)", "tls": "\(tls.mode)"])
        return boundPort
    }

    /// Stops accepting and closes every accepted connection; returns once all are closed.
    public func close() async {
        let channel = serverChannel
        serverChannel = nil
        try? await channel?.close().get()
        await withTaskGroup(of: Void.self) { tasks in
            for connection in connections.closeAll() {
                tasks.addTask { try? await connection.close().get() }
            }
        }
    }
}

/// The server's open connections, shared with channel initializers on every loop.
final class PeerConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var isClosed = false
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes; false once the registry is closed, so a
    /// connection accepted during shutdown isn't left open.
    func add(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let added = state.withLock { state in
            guard !state.isClosed else { return false }
            state.channels[key] = channel
            return true
        }
        if added {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.channels.removeValue(forKey: key) }
            }
        }
        return added
    }

    /// Closes the registry and returns what was open.
    func closeAll() -> [any Channel] {
        state.withLock { state in
            state.isClosed = true
            return Array(state.channels.values)
        }
    }
}
