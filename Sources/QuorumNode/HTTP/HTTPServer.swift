import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import QuorumCore
import Synchronization

/// The HTTP/1.1 API of one node (SPEC "Interfaces" 1), on NIOHTTP1.
///
/// Pipeline per connection: response encoder, request decoder (head bounded by
/// `limits.httpHeaderBytesMax`), pipelining assistance (one request at a time, in order),
/// a read-idle timer, then `HTTPServerHandler`, which bounds the body, calls the
/// `KVService` on a task and writes the answer back on the connection's event loop.
public final class HTTPServer: Sendable {
    public let host: String
    public let port: Int
    private let group: any EventLoopGroup
    private let service: any KVService
    private let limits: Limits
    private let logger: Logger
    private let idleTimeout: TimeAmount
    /// Where this server counts its requests; `GET /metrics` renders it.
    public let metrics: NodeMetrics
    private let state = Mutex(ServerState())

    private struct ServerState {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var closed = false
    }

    /// - Parameter idleTimeout: a connection that sends nothing for this long while no
    ///   request of its is being served is closed (slow or half-open clients).
    /// - Parameter metrics: the node's metrics; a server of its own by default.
    public init(
        host: String, port: Int, group: any EventLoopGroup, service: any KVService, limits: Limits, logger: Logger,
        idleTimeout: TimeAmount = .seconds(60), metrics: NodeMetrics = NodeMetrics()
    ) {
        self.metrics = metrics
        self.host = host
        self.port = port
        self.group = group
        self.service = service
        self.limits = limits
        self.logger = logger
        self.idleTimeout = idleTimeout
    }

    /// Binds and starts accepting. Returns the bound port (useful with port 0).
    @discardableResult
    public func start() async throws -> Int {
        let service = self.service
        let limits = self.limits
        let logger = self.logger
        let idleTimeout = self.idleTimeout
        let metrics = self.metrics
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let accepted = self.state.withLock { state -> Bool in
                    guard !state.closed else { return false }
                    state.connections[ObjectIdentifier(channel)] = channel
                    return true
                }
                guard accepted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in
                    _ = self.state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configurePipeline(
                        channel.pipeline.syncOperations, service: service, limits: limits, logger: logger,
                        idleTimeout: idleTimeout, metrics: metrics)
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        let boundPort = channel.localAddress?.port ?? port
        let stillOpen = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.channel = channel
            return true
        }
        guard stillOpen else {
            try? await channel.close().get()
            throw ChannelError.ioOnClosedChannel
        }
        logger.info("HTTP API listening", metadata: ["host": "\(host)", "port": "\(boundPort)"])
        return boundPort
    }

    /// Adds the HTTP handlers to a connection's pipeline: the server's own, and the fuzz
    /// tests' (which drive it on a test channel). Call on the channel's event loop.
    public static func configurePipeline(
        _ pipeline: ChannelPipeline.SynchronousOperations, service: any KVService, limits: Limits, logger: Logger,
        idleTimeout: TimeAmount, metrics: NodeMetrics
    ) throws {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = limits.httpHeaderBytesMax
        decoderLimits.maxHeaderListSize = limits.httpHeaderBytesMax
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withErrorHandling: false,
            withOutboundHeaderValidation: true,
            withEncoderConfiguration: HTTPResponseEncoder.Configuration(),
            withDecoderLimitConfiguration: decoderLimits)
        try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
        try pipeline.addHandler(HTTPServerHandler(service: service, limits: limits, logger: logger, metrics: metrics))
    }

    /// Stops accepting, then closes every open connection. Requests in flight lose their answer.
    public func close() async {
        let (channel, connections) = state.withLock { state in
            state.closed = true
            defer {
                state.channel = nil
                state.connections = [:]
            }
            return (state.channel, Array(state.connections.values))
        }
        try? await channel?.close().get()
        for connection in connections {
            try? await connection.close().get()
        }
    }
}
