import Logging
import NIOCore
import NIOHTTP1
import QuorumCore

/// The HTTP/1.1 API of one node (SPEC "Interfaces" 1), on NIOHTTP1.
///
/// Pipeline per connection: response encoder, request decoder (head bounded by
/// `limits.httpHeaderBytesMax`), pipelining assistance (one request at a time, in order),
/// a read-idle timer, then `HTTPServerHandler`, which bounds the body, calls the
/// `KVService` on a task and writes the answer back on the connection's event loop.
public final class HTTPServer: Sendable {
    public let host: String
    public let port: Int
    private let listener: ClientListener
    private let service: any KVService
    private let limits: Limits
    private let logger: Logger
    private let idleTimeout: TimeAmount
    private let access: AccessControl
    /// Where this server counts its requests; `GET /metrics` renders it.
    public let metrics: NodeMetrics

    /// - Parameter idleTimeout: a connection that sends nothing for this long while no
    ///   request of its is being served is closed (slow or half-open clients).
    /// - Parameter metrics: the node's metrics; a server of its own by default.
    /// - Parameter tls: serve HTTPS only (no plaintext on the same port) when set.
    public init(
        host: String, port: Int, group: any EventLoopGroup, service: any KVService, limits: Limits, logger: Logger,
        idleTimeout: TimeAmount = .seconds(60), metrics: NodeMetrics = NodeMetrics(), access: AccessControl = .open(),
        tls: ClientPortTLS? = nil
    ) {
        self.access = access
        self.metrics = metrics
        self.host = host
        self.port = port
        listener = ClientListener(
            host: host, port: port, group: group, name: tls == nil ? "HTTP API" : "HTTPS API", logger: logger, tls: tls,
            metricsPort: "http")
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
        // Decided once, from the address this listener binds: see `ListenerAddress`.
        let gate = access.enforcing
            ? HTTPAccessGate(access: access, loopbackListener: ListenerAddress.isLoopback(host: host)) : nil
        return try await listener.start { pipeline in
            try Self.configurePipeline(
                pipeline, service: service, limits: limits, logger: logger, idleTimeout: idleTimeout, metrics: metrics,
                gate: gate)
        }
    }

    /// Adds the HTTP handlers to a connection's pipeline: the server's own, and the fuzz
    /// tests' (which drive it on a test channel). Call on the channel's event loop.
    public static func configurePipeline(
        _ pipeline: ChannelPipeline.SynchronousOperations, service: any KVService, limits: Limits, logger: Logger,
        idleTimeout: TimeAmount, metrics: NodeMetrics
    ) throws {
        try configurePipeline(
            pipeline, service: service, limits: limits, logger: logger, idleTimeout: idleTimeout, metrics: metrics, gate: nil)
    }

    static func configurePipeline(
        _ pipeline: ChannelPipeline.SynchronousOperations, service: any KVService, limits: Limits, logger: Logger,
        idleTimeout: TimeAmount, metrics: NodeMetrics, gate: HTTPAccessGate?
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
        try pipeline.addHandler(HTTPServerHandler(service: service, limits: limits, logger: logger, metrics: metrics, gate: gate))
    }

    /// Stops accepting, then closes every open connection. Requests in flight lose their answer.
    public func close() async {
        await listener.close()
    }
}
