import CSQLite

/// Tells SQLite to copy a bound value before the call returns; the C macro doesn't import into Swift.
let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
/// SQLite's "the caller keeps the bytes alive while they are bound" destructor.
let SQLITE_STATIC: sqlite3_destructor_type? = nil

/// One `sqlite3*` and the statements prepared on it.
///
/// Not thread-safe, on purpose: connections are opened with `SQLITE_OPEN_NOMUTEX`, so SQLite
/// takes no lock of its own, and each owner confines its connection to one thread at a time
/// (the writer thread, or a `ReaderPool` checkout). That confinement is what makes skipping
/// SQLite's mutex safe.
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    let path: String
    private var statements: [Statement] = []

    /// Opens `path`, read-write (created if missing) or read-only, through the VFS named
    /// `vfs` (nil: SQLite's default; tests name one that injects disk faults).
    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int, vfs: String? = nil) throws {
        self.path = path
        let flags = readOnly
            ? (SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)
            : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX)
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, vfs)
        guard rc == SQLITE_OK, let db else {
            // SQLite hands back a handle even on failure (except out of memory); it must be closed.
            let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(db)
            throw StoreError.fromSQLite(extendedCode: code, operation: "opening database \(path)", detail: detail)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeoutMilliseconds))
    }

    deinit { close() }

    /// The error for the last failure on this connection, described as `operation`.
    func error(_ rc: Int32, _ operation: String) -> StoreError {
        guard let handle else { return .closed }
        let extended = sqlite3_extended_errcode(handle)
        // sqlite3_step returns the code directly; errcode agrees unless another call intervened.
        let code = (extended & 0xFF) == (rc & 0xFF) ? extended : rc
        return .fromSQLite(extendedCode: code, operation: operation, detail: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs SQL that returns no rows (DDL, one-off pragmas). Not for hot paths: it parses every time.
    func exec(_ sql: String) throws {
        guard let handle else { throw StoreError.closed }
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw StoreError.fromSQLite(extendedCode: sqlite3_extended_errcode(handle), operation: "running \(sql)", detail: detail)
        }
    }

    /// Runs a one-off query and returns the first column of its first row as text.
    func queryText(_ sql: String) throws -> String? {
        let statement = try Statement(connection: self, sql: sql, persistent: false)
        defer { statement.finalize() }
        return try statement.step() ? statement.text(at: 0) : nil
    }

    /// Prepares a statement kept for the life of the connection, reused via `reset()`.
    func prepare(_ sql: String) throws -> Statement {
        let statement = try Statement(connection: self, sql: sql, persistent: true)
        statements.append(statement)
        return statement
    }

    /// True while a transaction is open (after a failed statement SQLite may or may not have rolled it back).
    var inTransaction: Bool {
        guard let handle else { return false }
        return sqlite3_get_autocommit(handle) == 0
    }

    /// Keeps `close` from checkpointing the WAL into the database file, which SQLite does when
    /// the last connection to a database closes: after an I/O error the store trusts nothing
    /// more to the files, and SQLite recovers from the WAL when the node restarts.
    /// Rows the last INSERT, UPDATE or DELETE on this connection changed.
    var changedRows: Int { handle.map { Int(sqlite3_changes64($0)) } ?? 0 }

    func skipCheckpointOnClose() {
        guard let handle else { return }
        _ = quorumkv_sqlite3_db_config_flag(handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1)
    }

    /// Finalizes every statement and closes the connection. Idempotent.
    func close() {
        for statement in statements { statement.finalize() }
        statements.removeAll()
        if let handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }
}

/// A prepared statement with typed bind/column helpers. Parameter indexes start at 1, columns at 0, as in SQLite.
final class Statement {
    private(set) var handle: OpaquePointer?
    unowned let connection: SQLiteConnection
    let sql: String

    fileprivate init(connection: SQLiteConnection, sql: String, persistent: Bool) throws {
        guard let db = connection.handle else { throw StoreError.closed }
        self.connection = connection
        self.sql = sql
        var statement: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sqlite3_prepare_v3(db, sql, -1, flags, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw connection.error(rc, "preparing \(sql)")
        }
        handle = statement
    }

    func finalize() {
        if let handle {
            sqlite3_finalize(handle)
            self.handle = nil
        }
    }

    private func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
        if rc != SQLITE_OK { throw connection.error(rc, what()) }
    }

    func bind(_ value: Int, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index, Int64(value)), "binding parameter \(index) of \(sql)")
    }

    func bind(_ value: String, at index: Int32) throws {
        let rc = value.withCString { text in
            sqlite3_bind_text64(handle, index, text, UInt64(value.utf8.count), SQLITE_TRANSIENT, UInt8(SQLITE_UTF8))
        }
        try check(rc, "binding parameter \(index) of \(sql)")
    }

    func bind(_ bytes: [UInt8], at index: Int32) throws {
        let rc = bytes.withUnsafeBytes { buffer in
            // A NULL pointer would bind SQL NULL, not an empty blob; empty keys are legal.
            guard let base = buffer.baseAddress, !buffer.isEmpty else {
                return sqlite3_bind_zeroblob(handle, index, 0)
            }
            return sqlite3_bind_blob64(handle, index, base, UInt64(buffer.count), SQLITE_TRANSIENT)
        }
        try check(rc, "binding parameter \(index) of \(sql)")
    }

    /// Binds a `kv` row's primary key as parameters 1–3 (and `state` as 4 when given)
    /// without copying them, runs `body` (which steps the statement) and resets it.
    /// SQLite reads the bound bytes in place (`SQLITE_STATIC`), so they are bound only for
    /// the duration of `body`; the reset clears the bindings before the buffers go away.
    func withRow<T>(
        partition: Int, bucket: String, key: [UInt8], state: [UInt8]? = nil, _ body: () throws -> T
    ) throws -> T {
        defer { reset() }
        try bind(partition, at: 1)
        return try withStaticText(bucket, at: 2) {
            try withStaticBlob(key, at: 3) {
                guard let state else { return try body() }
                return try withStaticBlob(state, at: 4, body)
            }
        }
    }

    private func withStaticText<T>(_ text: String, at index: Int32, _ body: () throws -> T) throws -> T {
        // The bytes may be a temporary copy (small strings live inline), valid only inside
        // the closure, so `body` runs inside it too.
        let done: T? = try text.utf8.withContiguousStorageIfAvailable { buffer -> T? in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return nil }
            let rc = base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { chars in
                sqlite3_bind_text64(handle, index, chars, UInt64(buffer.count), SQLITE_STATIC, UInt8(SQLITE_UTF8))
            }
            try check(rc, "binding parameter \(index) of \(sql)")
            return try body()
        } ?? nil
        if let done { return done }
        try bind(text, at: index)  // empty, or not contiguous UTF-8: bound as a copy
        return try body()
    }

    private func withStaticBlob<T>(_ bytes: [UInt8], at index: Int32, _ body: () throws -> T) throws -> T {
        try bytes.withUnsafeBytes { buffer in
            // A NULL pointer would bind SQL NULL, not an empty blob; empty keys are legal.
            let rc = if let base = buffer.baseAddress, !buffer.isEmpty {
                sqlite3_bind_blob64(handle, index, base, UInt64(buffer.count), SQLITE_STATIC)
            } else {
                sqlite3_bind_zeroblob(handle, index, 0)
            }
            try check(rc, "binding parameter \(index) of \(sql)")
            return try body()
        }
    }

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(rc, "running \(sql)")
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        defer { reset() }
        _ = try step()
    }

    func int(at column: Int32) -> Int {
        Int(sqlite3_column_int64(handle, column))
    }

    func text(at column: Int32) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Lends the column's bytes without copying; valid only inside `body` (until the next step or reset).
    func withBlob<T>(at column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let base = sqlite3_column_blob(handle, column)  // before column_bytes, as SQLite documents
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count))
    }

    func bytes(at column: Int32) -> [UInt8] {
        withBlob(at: column) { Array($0) }
    }

    /// Makes the statement reusable and drops bound copies (so big blobs aren't kept alive).
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }
}

/// The checkpoint modes the store runs (`sqlite3_wal_checkpoint_v2`).
enum CheckpointMode {
    /// Copies back every frame no reader still needs, waiting for no one: safe off the commit path.
    case passive
    /// Copies back every frame, then makes sure no reader is left using the WAL, so the next
    /// commit writes from its start. Fails with SQLITE_BUSY while a reader or another
    /// checkpoint is in the way; how long it waits first is the connection's busy timeout.
    case restart
    /// `restart` that also starts the WAL over itself, inside the checkpoint's locks, and
    /// cuts the file to nothing: the next commit writes from the WAL's start whatever a
    /// reader does in between (after a plain RESTART a reader that begins before the next
    /// commit can still take a WAL read mark, and that commit then appends).
    case truncate

    var sqliteValue: Int32 {
        switch self {
        case .passive: SQLITE_CHECKPOINT_PASSIVE
        case .restart: SQLITE_CHECKPOINT_RESTART
        case .truncate: SQLITE_CHECKPOINT_TRUNCATE
        }
    }
}

/// What one checkpoint call did.
struct CheckpointResult {
    var code: Int32
    /// Frames in the WAL, and how many of them the database file now holds.
    var walFrames: Int
    var copiedFrames: Int

    var succeeded: Bool { code == SQLITE_OK }
    /// SQLITE_BUSY: a reader, the writer or another checkpoint was in the way; worth retrying.
    var wasBusy: Bool { code & 0xFF == SQLITE_BUSY }
    /// Every frame is in the database file: once no reader uses the WAL, the next commit
    /// writes from its start.
    var copiedAll: Bool { succeeded && copiedFrames == walFrames }
}

extension SQLiteConnection {
    func checkpoint(_ mode: CheckpointMode) -> CheckpointResult {
        guard let handle else { return CheckpointResult(code: SQLITE_MISUSE, walFrames: 0, copiedFrames: 0) }
        var walFrames: Int32 = 0
        var copiedFrames: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, mode.sqliteValue, &walFrames, &copiedFrames)
        return CheckpointResult(code: rc, walFrames: Int(walFrames), copiedFrames: Int(copiedFrames))
    }

    /// How long calls on this connection retry a lock another connection holds.
    func setBusyTimeout(milliseconds: Int) {
        guard let handle else { return }
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
    }
}
