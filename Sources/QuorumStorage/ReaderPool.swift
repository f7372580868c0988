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
    let memberReads: MemberReads
    let selectPaxos: Statement
    let paxosWithRecords: Statement
    private let begin: Statement
    private let end: Statement
    /// The writer's commit count when this connection's open read transaction began; nil
    /// when none is open. While no commit has happened since, the snapshot is still the
    /// latest state, so reads keep using it instead of taking SQLite's WAL locks (two
    /// `fcntl` calls and a shared-memory scan) for every read.
    private var snapshotCommit: Int?

    init(path: String, options: StoreOptions) throws {
        connection = try SQLiteConnection(
            path: path, readOnly: true, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds, vfs: options.vfsName)
        do {
            selectState = try connection.prepare(Schema.selectState)
            selectAllBucketProps = try connection.prepare(Schema.selectAllBucketProps)
            selectMeta = try connection.prepare(Schema.selectMeta)
            countKeys = try connection.prepare(Schema.countKeys)
            scanFromStart = try connection.prepare(Schema.scanFromStart)
            scanAfter = try connection.prepare(Schema.scanAfter)
            selectAllHints = try connection.prepare(Schema.selectAllHints)
            memberReads = MemberReads(
                one: try connection.prepare(Schema.selectMember), all: try connection.prepare(Schema.selectMembers))
            selectPaxos = try connection.prepare(Schema.selectPaxos)
            paxosWithRecords = try connection.prepare(Schema.paxosWithRecords)
            begin = try connection.prepare("BEGIN")
            end = try connection.prepare("COMMIT")
        } catch {
            connection.close()
            throw error
        }
    }
}

extension ReaderConnection {
    /// Makes sure the open read transaction sees every commit up to `committed` (the
    /// writer's count, read before this call): keeps it when nothing was committed since it
    /// began, else ends it and begins another. SQLite takes the snapshot at the first read
    /// after BEGIN, which comes after `committed` was read, so it holds all of those commits.
    func useSnapshot(committed: Int) throws {
        if snapshotCommit == committed { return }
        do {
            if snapshotCommit != nil {
                snapshotCommit = nil
                try end.run()
            }
            try begin.run()
            snapshotCommit = committed
        } catch {
            closeSnapshot()
            throw error
        }
    }

    /// Runs `body`'s reads in one read transaction, so they see one snapshot (a typed
    /// key's header and its members): the kept snapshot when the pool lent the connection
    /// with one, else a transaction of its own, ended before returning.
    func withReadTransaction<T>(_ body: () throws -> T) throws -> T {
        if connection.inTransaction { return try body() }
        try begin.run()
        defer { try? end.run() }
        return try body()
    }

    /// Ends the read transaction if one is open and older than `committed`, so it no longer
    /// pins WAL frames that a checkpoint could copy back. True when it ended one.
    @discardableResult
    func closeSnapshot(olderThan committed: Int) -> Bool {
        guard let snapshotCommit, snapshotCommit != committed else { return false }
        return closeSnapshot()
    }

    /// Ends the read transaction if one is open: the next read runs in a transaction of its
    /// own. True when it ended one.
    @discardableResult
    func closeSnapshot() -> Bool {
        snapshotCommit = nil
        guard connection.inTransaction else { return false }
        try? end.run()
        return true
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
    /// The writer's commit count: each lent connection's snapshot is at least this recent.
    private let committed: @Sendable () -> Int
    /// Whether the writer has no write queued or in progress: only then do readers keep a
    /// snapshot between reads. While writes flow, each would be overtaken at once anyway,
    /// and a snapshot held between reads keeps a WAL read mark, which stops the writer from
    /// restarting the WAL from its start: under steady reads and writes the file would grow
    /// without end.
    private let writerIdle: @Sendable () -> Bool
    /// Checkpoints that must complete now (the writer's backstop): while any runs, no
    /// connection keeps a snapshot, and one kept from before is ended when its connection
    /// is next lent or given back (or by `endIdleSnapshots` while it sits idle).
    private let drains = Atomic<Int>(0)
    private let snapshotsEnded = Atomic<Int>(0)

    init(
        path: String, options: StoreOptions, committed: @escaping @Sendable () -> Int,
        writerIdle: @escaping @Sendable () -> Bool
    ) throws {
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
        self.committed = committed
        self.writerIdle = writerIdle
    }

    /// Lends a connection to `body`, waiting (bounded) when all are busy.
    func withReader<T>(_ body: (ReaderConnection) throws -> T) throws -> T {
        guard available.wait(timeout: .now() + .milliseconds(checkoutTimeoutMilliseconds)) == .success else {
            throw StoreError.overloaded(
                "all \(size) storage reader connections stayed busy for \(checkoutTimeoutMilliseconds) ms; "
                    + "retry later, or raise readerConnections")
        }
        return try lend(body)
    }

    /// Lends a connection to `body` only if one is idle now; nil when all are busy. For
    /// threads that must not wait, such as a network event loop.
    func withIdleReader<T>(_ body: (ReaderConnection) throws -> T) throws -> T? {
        guard available.wait(timeout: .now()) == .success else { return nil }
        return try lend(body)
    }

    /// Takes an idle connection (a permit is already held) and gives it back after `body`.
    private func lend<T>(_ body: (ReaderConnection) throws -> T) throws -> T {
        let reader: ReaderConnection? = state.withLock { state in
            state.closed ? nil : state.idle.popLast()
        }
        guard let reader else {
            available.signal()
            throw StoreError.closed
        }
        defer { giveBack(reader) }
        if isDraining {
            endKept(reader.closeSnapshot())
        } else if writerIdle() {
            try reader.useSnapshot(committed: committed())
        } else {
            reader.closeSnapshot()
        }
        return try body(reader)
    }

    /// Returns a lent connection to the idle ones, without its snapshot during a drain.
    private func giveBack(_ reader: ReaderConnection) {
        if isDraining { endKept(reader.closeSnapshot()) }
        state.withLock { $0.idle.append(reader) }
        available.signal()
    }

    private var isDraining: Bool { drains.load(ordering: .sequentiallyConsistent) > 0 }

    private func endKept(_ ended: Bool) {
        if ended { snapshotsEnded.add(1, ordering: .relaxed) }
    }

    /// Kept snapshots ended so that a checkpoint could finish.
    var keptSnapshotsEnded: Int { snapshotsEnded.load(ordering: .relaxed) }

    /// Runs `body` (a checkpoint that must complete) while no connection keeps a snapshot.
    /// `body` calls `endIdleSnapshots` for the connections that sit idle with one: a
    /// connection given back just as the drain began can slip past one call, not the next.
    func withoutKeptSnapshots<T>(_ body: () throws -> T) rethrows -> T {
        drains.add(1, ordering: .sequentiallyConsistent)
        defer { drains.subtract(1, ordering: .sequentiallyConsistent) }
        return try body()
    }

    /// Ends the snapshots of idle connections that commits have overtaken. A connection
    /// left idle would otherwise keep its old snapshot, and with it every WAL frame since,
    /// until its next use. Busy connections are skipped: they refresh when next lent.
    func closeStaleSnapshots() {
        let current = committed()
        forEachIdle { $0.closeSnapshot(olderThan: current) }
    }

    /// Ends the snapshots of all idle connections, current ones too: even a snapshot of the
    /// latest commit holds a WAL read mark, which keeps the WAL from restarting.
    func endIdleSnapshots() {
        forEachIdle { $0.closeSnapshot() }
    }

    /// Visits the connections idle right now (never waiting for busy ones) one at a time,
    /// ending snapshots with `end` and counting those it ended. One at a time, so a network
    /// thread's `withIdleReader` still finds the others idle: taking them all at once would
    /// send its point reads to the slower queue every time the checkpointer runs.
    private func forEachIdle(_ end: (ReaderConnection) -> Bool) {
        for _ in 0..<size {
            guard available.wait(timeout: .now()) == .success else { return }
            // The least recently used first; it goes back at the end, so each is visited once.
            guard let reader = state.withLock({ $0.closed || $0.idle.isEmpty ? nil : $0.idle.removeFirst() }) else {
                available.signal()
                return
            }
            endKept(end(reader))
            state.withLock { $0.idle.append(reader) }
            available.signal()
        }
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
