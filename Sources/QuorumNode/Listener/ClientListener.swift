import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A TCP listener for clients (HTTP, RESP): accepts connections, lets the protocol set up
/// each pipeline, and on `close` stops accepting and closes every open connection, so a
/// stopping node leaves no client hanging.
final class ClientListener: Sendable {
    let host: String
    let port: Int
    private let group: any EventLoopGroup
    private let name: String
    private let logger: Logger
    private let state = Mutex(State())
    /// Open client connections at most; past it new ones are closed at once and counted,
    /// so a flood of idle sockets can't exhaust file descriptors.
    private let connectionsMax: Int
    /// TLS for every connection when set: a sniffer and handshake guard go in front of the
    /// protocol's handlers (`ClientPortTLS`).
    private let tls: ClientPortTLS?
    /// The `port` label of TLS metrics ("http", "resp").
    private let metricsPort: String

    private struct State {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var closed = false
        var refused = 0
    }

    /// - Parameter name: what the log calls it ("HTTP API", "RESP").
    init(
        host: String, port: Int, group: any EventLoopGroup, name: String, logger: Logger, connectionsMax: Int = 10_000,
        tls: ClientPortTLS? = nil, metricsPort: String = ""
    ) {
        self.connectionsMax = connectionsMax
        self.tls = tls
        self.metricsPort = metricsPort
        self.host = host
        self.port = port
        self.group = group
        self.name = name
        self.logger = logger
    }

    /// Binds and starts accepting; `configure` adds the protocol's handlers to each new
    /// connection on its event loop. Returns the bound port (useful with port 0).
    func start(configure: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void) async throws -> Int {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let accepted = self.state.withLock { state -> Bool in
                    guard !state.closed else { return false }
                    guard state.connections.count < self.connectionsMax else {
                        state.refused += 1
                        return false
                    }
                    state.connections[ObjectIdentifier(channel)] = channel
                    return true
                }
                guard accepted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in
                    _ = self.state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls = self.tls {
                        try tls.configure(channel.pipeline.syncOperations, port: self.metricsPort, logger: self.logger)
                    }
                    try configure(channel.pipeline.syncOperations)
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
        logger.info("\(name) listening", metadata: ["host": "\(host)", "port": "\(boundPort)", "tls": "\(tls != nil)"])
        return boundPort
    }

    /// Connections closed at accept because `connectionsMax` were open.
    var refusedConnections: Int { state.withLock { $0.refused } }

    /// Stops accepting, then closes every open connection; work in flight loses its answer.
    func close() async {
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
