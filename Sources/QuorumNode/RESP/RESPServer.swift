import Logging
import NIOCore
import NIOPosix
import QuorumCore
import Synchronization

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
    private let group: any EventLoopGroup
    private let commands: RESPCommandHandler
    private let protocolLimits: RESPLimits
    private let logger: Logger
    private let state = Mutex(ServerState())

    private struct ServerState {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var closed = false
    }

    /// - Parameters:
    ///   - limits: the node's limits (keys, values, bucket names).
    ///   - protocolLimits: the protocol's own bounds; by default derived from `limits`.
    public init(
        host: String, port: Int, group: any EventLoopGroup, service: any KVService, limits: Limits, logger: Logger,
        protocolLimits: RESPLimits? = nil
    ) {
        self.host = host
        self.port = port
        self.group = group
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
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
                    try pipeline.addHandler(RESPServerHandler(commands: commands, limits: limits, logger: logger))
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
        logger.info("RESP listening", metadata: ["host": "\(host)", "port": "\(boundPort)"])
        return boundPort
    }

    /// Stops accepting, then closes every open connection. Commands in flight lose their reply.
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
