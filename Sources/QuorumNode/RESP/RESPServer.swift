import Logging
import NIOCore
import QuorumCore

/// The RESP2 line protocol of one node (SPEC "Interfaces" 2): what `redis-cli`,
/// `redis-benchmark`, Redis client libraries and `nc` speak.
///
/// Pipeline per connection: a read-idle timer, then `RESPServerHandler`, which parses,
/// runs commands against the `KVService` on tasks and writes replies back in order on the
/// connection's event loop. See docs/resp.md for the commands.
public final class RESPServer: Sendable {
    public let host: String
    public let port: Int
    public let stats = RESPServerStats()
    private let listener: ClientListener
    private let commands: RESPCommandHandler
    private let protocolLimits: RESPLimits
    private let logger: Logger
    private let access: AccessControl

    /// - Parameters:
    ///   - limits: the node's limits (keys, values, bucket names).
    ///   - protocolLimits: the protocol's own bounds; by default derived from `limits`.
    ///   - tls: RESP over TLS only (what `redis-cli --tls` speaks) when set.
    public init(
        host: String, port: Int, group: any EventLoopGroup, service: any KVService, limits: Limits, logger: Logger,
        protocolLimits: RESPLimits? = nil, access: AccessControl = .open(),
        tls: ClientPortTLS? = nil
    ) {
        self.access = access
        self.host = host
        self.port = port
        listener = ClientListener(
            host: host, port: port, group: group, name: tls == nil ? "RESP" : "RESP over TLS", logger: logger, tls: tls,
            metricsPort: "resp")
        self.logger = logger
        let protocolLimits = protocolLimits ?? RESPLimits(limits: limits)
        self.protocolLimits = protocolLimits
        commands = RESPCommandHandler(service: service, limits: limits, protocolLimits: protocolLimits, stats: stats)
    }

    /// Binds and starts accepting. Returns the bound port (useful with port 0).
    @discardableResult
    public func start() async throws -> Int {
        let commands = self.commands
        let limits = self.protocolLimits
        let logger = self.logger
        // Decided once, from the address this listener binds: see `ListenerAddress`.
        let gate = access.enforcing
            ? RESPAccessGate(access: access, loopbackListener: ListenerAddress.isLoopback(host: host)) : nil
        return try await listener.start { pipeline in
            try pipeline.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
            try pipeline.addHandler(RESPServerHandler(commands: commands, limits: limits, logger: logger, gate: gate))
        }
    }

    /// Stops accepting, then closes every open connection. Commands in flight lose their reply.
    public func close() async {
        await listener.close()
    }
}

/// What a RESP listener needs to check users: the node's `AccessControl` and whether
/// this listener is bound to a loopback address (where `default` may act unauthenticated).
struct RESPAccessGate: Sendable {
    let access: AccessControl
    let loopbackListener: Bool
}
