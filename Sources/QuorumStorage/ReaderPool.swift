import Dispatch
import Synchronization

/// One read-only connection and its prepared read statements.
///
/// `@unchecked Sendable` because it wraps raw SQLite pointers opened with
/// `SQLITE_OPEN_NOMUTEX`. That is safe because `ReaderPool` lends each instance to one thread
/// at a time, and the pool's `Mutex` orders the hand-off between threads.
final class ReaderConnection: @unchecked Sendable {
    let connection: SQLiteConnection
    let selectState: Statement
    let selectAllBucketProps: Statement
    let selectMeta: Statement
    let countKeys: Statement
    let scanFromStart: Statement
    let scanAfter: Statement
    let selectAllHints: Statement

    init(path: String, options: StoreOptions) throws {
        connection = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
        do {
            selectState = try connection.prepare(Schema.selectState)
            selectAllBucketProps = try connection.prepare(Schema.selectAllBucketProps)
            selectMeta = try connection.prepare(Schema.selectMeta)
            countKeys = try connection.prepare(Schema.countKeys)
            scanFromStart = try connection.prepare(Schema.scanFromStart)
            scanAfter = try connection.prepare(Schema.scanAfter)
            selectAllHints = try connection.prepare(Schema.selectAllHints)
        } catch {
            connection.close()
            throw error
        }
    }
}

/// A fixed set of reader connections, each used by one thread at a time.
///
/// In WAL mode a reader sees the last committed state and never waits for the writer's open
/// transaction, so reads stay fast while a group commit is in progress. A fixed pool (rather
/// than a connection per call) keeps prepared statements warm and bounds file descriptors.
final class ReaderPool: Sendable {
    private struct State {
        var idle: [ReaderConnection]
        var closed = false
    }

    /// Counts idle connections, so a caller can wait for one with a timeout.
    private let available: DispatchSemaphore
    private let state: Mutex<State>
    private let size: Int
    private let checkoutTimeoutMilliseconds: Int

    init(path: String, options: StoreOptions) throws {
        var connections: [ReaderConnection] = []
        do {
            for _ in 0..<options.readerConnections {
                connections.append(try ReaderConnection(path: path, options: options))
            }
        } catch {
            for reader in connections { reader.connection.close() }
            throw error
        }
        size = connections.count
        available = DispatchSemaphore(value: connections.count)
        state = Mutex(State(idle: connections))
        checkoutTimeoutMilliseconds = options.readerCheckoutTimeoutMilliseconds
    }

    /// Lends a connection to `body`, waiting (bounded) when all are busy.
    func withReader<T>(_ body: (ReaderConnection) throws -> T) throws -> T {
        guard available.wait(timeout: .now() + .milliseconds(checkoutTimeoutMilliseconds)) == .success else {
            throw StoreError.overloaded(
                "all \(size) storage reader connections stayed busy for \(checkoutTimeoutMilliseconds) ms; "
                    + "retry later, or raise readerConnections")
        }
        let reader: ReaderConnection? = state.withLock { state in
            state.closed ? nil : state.idle.popLast()
        }
        guard let reader else {
            available.signal()
            throw StoreError.closed
        }
        defer {
            state.withLock { $0.idle.append(reader) }
            available.signal()
        }
        return try body(reader)
    }

    /// Waits for every lent connection to come back, then closes them all. Idempotent.
    func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        for _ in 0..<size { available.wait() }
        let connections = state.withLock { state in
            defer { state.idle = [] }
            return state.idle
        }
        for reader in connections { reader.connection.close() }
        // Give the permits back: later callers then see `closed` instead of timing out, and
        // libdispatch traps when a semaphore is freed below its initial value.
        for _ in 0..<size { available.signal() }
    }
}
