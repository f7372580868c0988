import Synchronization

/// Counters one RESP server shares across its connections, for `INFO`, `HELLO` and
/// `CLIENT ID`. Atomics: connections on different event loops update them.
public final class RESPServerStats: Sendable {
    private let connected = Atomic<Int>(0)
    private let clientIDs = Atomic<Int>(0)
    private let commands = Atomic<Int>(0)
    /// Open connections, for `CLIENT LIST`.
    let clients = RESPClientRegistry()
    /// Wall-clock milliseconds when the server was made.
    public let startedMilliseconds: UInt64

    public init() {
        startedMilliseconds = WallClock.nowMilliseconds()
    }

    public var connectedClients: Int { connected.load(ordering: .relaxed) }
    public var commandsProcessed: Int { commands.load(ordering: .relaxed) }

    /// Counts a new connection and gives it an id (1, 2, …, like Redis's client ids).
    func connectionOpened() -> Int {
        connected.add(1, ordering: .relaxed)
        return clientIDs.add(1, ordering: .relaxed).newValue
    }

    func connectionClosed() {
        connected.subtract(1, ordering: .relaxed)
    }

    func commandsRead(_ count: Int) {
        commands.add(count, ordering: .relaxed)
    }
}
