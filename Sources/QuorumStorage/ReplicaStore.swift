import CSQLite
import Dispatch
import Foundation
import Logging
import QuorumCore
import Synchronization

/// One node's replica data: a single SQLite database in WAL mode with one writer thread and a
/// small pool of reader connections.
///
/// Byte-oriented on purpose: rows are opaque state blobs, and callers pass the merge logic in
/// as a transform that runs inside the writer's transaction. That keeps read-merge-write
/// atomic per key without the store knowing anything about versions.
public final class ReplicaStore: Sendable {
    public let directory: String
    public let databasePath: String
    public let options: StoreOptions
    private let logger: Logger
    private let writer: StoreWriter
    private let readers: ReaderPool
    private let checkpointer: Checkpointer
    private let backstop: WALBackstop
    private let halt: StoreHalt
    private let cache: RowCache
    private let isClosed = Atomic<Bool>(false)

    /// Opens (creating if needed) `<directory>/quorumkv.sqlite` and starts the writer thread.
    public init(directory: String, options: StoreOptions = StoreOptions(), logger: Logger) throws {
        let options = options.normalized
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.sqlite(
                code: SQLITE_CANTOPEN,
                message: "could not create data directory \(directory): \(error.localizedDescription); "
                    + "check the path and its permissions")
        }
        let path = (directory as NSString).appendingPathComponent(Schema.databaseFileName)
        // The writer opens first: it creates the file and switches it to WAL, which the
        // read-only connections need in place.
        let database = try WriterConnection(path: path, options: options)
        let halt = StoreHalt(onFatal: options.onFatal, logger: logger)
        let cache = RowCache(options: options)
        let writer = StoreWriter(database: database, options: options, cache: cache, halt: halt, logger: logger)
        do {
            readers = try ReaderPool(
                path: path, options: options, committed: { writer.committedTransactions }, writerIdle: { writer.isIdle })
            do {
                checkpointer = try Checkpointer(
                    path: path, options: options, committed: { writer.committedTransactions },
                    beforeCheckpoint: { [readers] in readers.closeStaleSnapshots() }, halt: halt, logger: logger)
            } catch {
                readers.close()
                throw error
            }
        } catch {
            database.connection.close()
            throw error
        }
        self.directory = directory
        self.databasePath = path
        self.options = options
        self.logger = logger
        self.writer = writer
        self.halt = halt
        self.cache = cache
        backstop = WALBackstop(walPath: path + "-wal", options: options, readers: readers, halt: halt, logger: logger)
        writer.start(backstop: backstop)
        checkpointer.start()
        logger.info("replica store open", metadata: [
            "path": "\(path)", "sync": "\(options.syncMode.rawValue)", "readers": "\(options.readerConnections)",
        ])
    }

    deinit { close() }

    /// Transactions the writer has committed; far fewer than writes when group commit works.
    public var committedTransactions: Int { writer.committedTransactions }

    /// A mark for `completionsReached`: read it after a read, and once completions reach it,
    /// the completion of every write that read could see has run.
    public var writeGroupsStarted: Int { writer.startedGroups }

    /// Whether the completions of every write group up to `mark` (`writeGroupsStarted`) ran.
    public func completionsReached(_ mark: Int) -> Bool { writer.completedGroups >= mark }

    /// WAL checkpoints the background checkpointer has run.
    public var backgroundCheckpoints: Int { checkpointer.completedCheckpoints }

    /// What keeps the WAL bounded, counted: its size, its restarts, the writer's backstop
    /// checkpoints and the background ones, and the kept reader snapshots they ended.
    public var walStatistics: WALStatistics {
        var statistics = backstop.statistics
        statistics.backgroundCheckpoints = checkpointer.completedCheckpoints
        statistics.backgroundCheckpointsCopyingAll = checkpointer.completedCheckpointsCopyingAll
        statistics.keptSnapshotsEnded = readers.keptSnapshotsEnded
        return statistics
    }

    /// Why the store stopped taking writes (an I/O error or corruption while making writes
    /// durable; see `StoreOptions.onFatal`), or nil while it takes them.
    public var haltReason: String? { halt.haltReason }

    /// The row cache's size, bounds, hits, misses and evictions (for status and metrics).
    public var rowCacheStatistics: RowCacheStatistics { cache.statistics }

    /// State writes queued, being committed, or with their completions still to start (for status and metrics).
    public var queuedWrites: Int { writer.queuedOperations }

    // MARK: - Key state

    /// The current state blob, or nil: the last committed state, from the row cache or on a
    /// reader connection, never waiting behind the writer's open transaction.
    public func read(partition: Int, bucket: String, key: [UInt8]) throws -> [UInt8]? {
        guard !isClosed.load(ordering: .relaxed) else { throw StoreError.closed }
        let row = RowKey(partition: partition, bucket: bucket, key: key)
        switch cache.lookup(row) {
        case .hit(let blob):
            return blob
        case .miss(let generation):
            let found = try readers.withReader { try $0.selectState.readState(row, blobBytesMax: options.blobBytesMax) }
            if let found { cache.fill(row, blob: found, generation: generation) }
            return found
        }
    }

    /// `read` that never waits for a reader connection: `.allReadersBusy` when the row is
    /// not cached and no reader is idle, so a caller on a thread that must not block (a
    /// network event loop) can hand the read to one that may. A point read by primary key
    /// takes microseconds.
    public func readIfIdle(partition: Int, bucket: String, key: [UInt8]) throws -> ImmediateRead {
        guard !isClosed.load(ordering: .relaxed) else { throw StoreError.closed }
        let row = RowKey(partition: partition, bucket: bucket, key: key)
        switch cache.lookup(row) {
        case .hit(let blob):
            return .read(blob)
        case .miss(let generation):
            let read = try readers.withIdleReader { try $0.selectState.readState(row, blobBytesMax: options.blobBytesMax) }
            guard let found = read else { return .allReadersBusy }
            if let found { cache.fill(row, blob: found, generation: generation) }
            return .read(found)
        }
    }

    /// Queues a read-transform-write of one key to the writer.
    ///
    /// `transform` runs on the writer thread inside the group's transaction: it gets the
    /// current blob (or nil) and returns the new one, or nil for "no change". Keep it quick —
    /// every write in the group waits for it — and don't wait on the store from inside it.
    ///
    /// `completion` gets the new blob (or the unchanged current one) only after the
    /// transaction holding the write has committed. Completions run in commit order on the
    /// store's completion queue, one group at a time while the writer already works on the
    /// next group; keep them short. If the store is closed or the queue is full it runs at
    /// once on the calling thread with `.closed` / `.overloaded`. A throwing transform fails
    /// only its own write; a failed commit fails every write in the group: with `.diskFull`
    /// when the disk is full (later writes may succeed), with `.halted` on an I/O error or
    /// corruption, after which every write fails at once with `.halted` (see `onFatal`).
    public func update(
        partition: Int, bucket: String, key: [UInt8],
        transform: @escaping @Sendable ([UInt8]?) throws -> [UInt8]?,
        completion: @escaping @Sendable (Result<[UInt8]?, any Error>) -> Void
    ) {
        writer.enqueue(WriteOperation(
            kind: .state(partition: partition, bucket: bucket, key: key, transform: transform),
            completion: completion))
    }

    /// Deletes a key's state inside the writer's group commit if `matches` accepts the state
    /// stored at that moment (a compare-and-delete: a write that landed meanwhile is kept).
    /// Completes with the deleted state, or nil when nothing matched.
    public func deleteState(
        partition: Int, bucket: String, key: [UInt8], matches: @escaping @Sendable ([UInt8]) -> Bool,
        completion: @escaping @Sendable (Result<[UInt8]?, any Error>) -> Void
    ) {
        writer.enqueue(WriteOperation(
            kind: .deleteState(partition: partition, bucket: bucket, key: key, matches: matches), completion: completion))
    }

    /// `update` that blocks until the write is durable. For tests and startup; never call it
    /// from a transform or completion (that would deadlock the writer, so it traps instead).
    public func updateAndWait(
        partition: Int, bucket: String, key: [UInt8],
        transform: @escaping @Sendable ([UInt8]?) throws -> [UInt8]?
    ) throws -> [UInt8]? {
        try waitForWriter { completion in
            update(partition: partition, bucket: bucket, key: key, transform: transform, completion: completion)
        }
    }

    // MARK: - Typed keys (issue #16)

    /// A typed key's header (its `kv` state) and the selected members that exist, sorted
    /// by member bytes, read in one read transaction so they agree; nil when the key holds
    /// no state. Reads the table, not the row cache: the cache holds no members, and a
    /// header from it could be newer than the members' snapshot.
    public func readTyped(
        partition: Int, bucket: String, key: [UInt8], members selection: MemberSelection
    ) throws -> StoredTyped? {
        guard !isClosed.load(ordering: .relaxed) else { throw StoreError.closed }
        let row = RowKey(partition: partition, bucket: bucket, key: key)
        return try readers.withReader { reader in
            try reader.withReadTransaction {
                guard let header = try reader.selectState.readState(row, blobBytesMax: options.blobBytesMax) else { return nil }
                let members = try reader.memberReads.read(row, selection: selection, blobBytesMax: options.blobBytesMax)
                return StoredTyped(header: header, members: members)
            }
        }
    }

    /// Queues a read-modify-write of a typed key to the writer, in commit order with every
    /// other write and in the same group commit: `transform` gets the header and the
    /// selected members (nil when the key holds no state) and returns the new header and
    /// the member rows to change (nil payload: delete the row). The header is written like
    /// `update`'s states (row cache included); the members in the same transaction.
    ///
    /// `completion` gets the header stored and the selected members as stored after the
    /// change, once committed. A throwing transform, a corrupt row or an oversized header
    /// or payload fails only this write and stores nothing of it; failures of the group
    /// are `update`'s.
    public func updateTyped(
        partition: Int, bucket: String, key: [UInt8], members selection: MemberSelection,
        transform: @escaping @Sendable (StoredTyped?) throws -> TypedRowChanges,
        completion: @escaping @Sendable (Result<StoredTyped, any Error>) -> Void
    ) {
        let delivery = TypedDelivery()
        let write = TypedWrite(
            row: RowKey(partition: partition, bucket: bucket, key: key), selection: selection, transform: transform,
            deliver: delivery.set)
        writer.enqueue(WriteOperation(kind: .typed(write), completion: { result in
            completion(result.flatMap { _ in
                guard let stored = delivery.take() else {
                    return .failure(StoreError.corrupt("the writer committed a typed write without its result"))
                }
                return .success(stored)
            })
        }))
    }

    /// `updateTyped` that blocks until the write is durable. For tests and startup, with
    /// `updateAndWait`'s rule: never from a transform or completion.
    @discardableResult
    public func updateTypedAndWait(
        partition: Int, bucket: String, key: [UInt8], members selection: MemberSelection,
        transform: @escaping @Sendable (StoredTyped?) throws -> TypedRowChanges
    ) throws -> StoredTyped {
        let delivery = TypedDelivery()
        _ = try waitForWriter { completion in
            updateTyped(partition: partition, bucket: bucket, key: key, members: selection, transform: transform) { result in
                completion(result.map { stored in
                    delivery.set(stored)
                    return stored.header
                })
            }
        }
        guard let stored = delivery.take() else { throw StoreError.corrupt("a typed write completed without its result") }
        return stored
    }

    // MARK: - Strong keys (issue #17)

    /// A strong key's Paxos row and `kv` row (its `StrongRecord`), read in one read
    /// transaction so they agree; `.absent` for a key never voted on. Reads the tables,
    /// not the row cache: a `kv` row from the cache could be newer than the Paxos row's snapshot.
    public func readPaxos(partition: Int, bucket: String, key: [UInt8]) throws -> StoredPaxos {
        guard !isClosed.load(ordering: .relaxed) else { throw StoreError.closed }
        let row = RowKey(partition: partition, bucket: bucket, key: key)
        return try readers.withReader { reader in
            try reader.withReadTransaction {
                let record = try reader.selectState.readState(row, blobBytesMax: options.blobBytesMax)
                let paxos = try reader.selectPaxos.readPaxos(row, blobBytesMax: options.blobBytesMax)
                return StoredPaxos(paxos: paxos, record: record)
            }
        }
    }

    /// Whether this store holds a vote (an accepted proposal) or a commit of any strong
    /// key; bare promises don't count. Stops at the first: a store with strong data
    /// answers at its first commit, and only a store with promises alone reads them all.
    public func holdsStrongValues() throws -> Bool {
        guard !isClosed.load(ordering: .relaxed) else { throw StoreError.closed }
        return try readers.withReader { reader in
            let statement = reader.paxosWithRecords
            defer { statement.reset() }
            while try statement.step() {
                let blobs = try [0, 1].map { (column: Int32) in
                    try statement.withBlob(at: column) { bytes in
                        bytes.isEmpty ? nil : try StoredBlob.decode(bytes, blobBytesMax: options.blobBytesMax)
                    }
                }
                if StoredPaxos(paxos: blobs[0], record: blobs[1]).holdsValue { return true }
            }
            return false
        }
    }

    /// Queues a step of a strong key's acceptor to the writer, in commit order with every
    /// other write and in the same group commit: `transform` gets both rows as committed
    /// and returns the rows to store (a nil row is deleted), or nil to change nothing. The
    /// `kv` row is written like `update`'s states (row cache included), the Paxos row in
    /// the same transaction.
    ///
    /// `completion` gets the rows as stored (unchanged ones for a nil transform) once
    /// committed: an acceptor answers only then, so a promise it gave survives a crash. A
    /// throwing transform, a corrupt row or an oversized row fails only this write and
    /// stores nothing of it; failures of the group are `update`'s.
    public func updatePaxos(
        partition: Int, bucket: String, key: [UInt8],
        transform: @escaping @Sendable (StoredPaxos) throws -> StoredPaxos?,
        completion: @escaping @Sendable (Result<StoredPaxos, any Error>) -> Void
    ) {
        let delivery = PaxosDelivery()
        let write = PaxosWrite(
            row: RowKey(partition: partition, bucket: bucket, key: key), transform: transform, deliver: delivery.set)
        writer.enqueue(WriteOperation(kind: .paxos(write), completion: { result in
            completion(result.flatMap { _ in
                guard let stored = delivery.take() else {
                    return .failure(StoreError.corrupt("the writer committed a Paxos step without its result"))
                }
                return .success(stored)
            })
        }))
    }

    /// `updatePaxos` that blocks until the write is durable. For tests and startup, with
    /// `updateAndWait`'s rule: never from a transform or completion.
    @discardableResult
    public func updatePaxosAndWait(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable (StoredPaxos) throws -> StoredPaxos?
    ) throws -> StoredPaxos {
        let delivery = PaxosDelivery()
        _ = try waitForWriter { completion in
            updatePaxos(partition: partition, bucket: bucket, key: key, transform: transform) { result in
                completion(result.map { stored in
                    delivery.set(stored)
                    return stored.record
                })
            }
        }
        guard let stored = delivery.take() else { throw StoreError.corrupt("a Paxos step completed without its result") }
        return stored
    }

    /// One page of a partition's rows in (bucket, key) order, starting after `after`.
    /// Pass the last row's (bucket, key) to get the next page; an empty page means the end.
    public func scan(
        partition: Int, after: (bucket: String, key: [UInt8])?, limit: Int
    ) throws -> [(bucket: String, key: [UInt8], blob: [UInt8])] {
        guard limit > 0 else { return [] }
        return try readers.withReader { reader in
            let statement: Statement
            if let after {
                statement = reader.scanAfter
                try statement.bind(partition, at: 1)
                try statement.bind(after.bucket, at: 2)
                try statement.bind(after.key, at: 3)
                try statement.bind(limit, at: 4)
            } else {
                statement = reader.scanFromStart
                try statement.bind(partition, at: 1)
                try statement.bind(limit, at: 2)
            }
            defer { statement.reset() }
            var rows: [(bucket: String, key: [UInt8], blob: [UInt8])] = []
            rows.reserveCapacity(min(limit, 1024))
            while try statement.step() {
                let bucket = statement.text(at: 0)
                let key = statement.bytes(at: 1)
                let blob: [UInt8]
                do {
                    blob = try statement.withBlob(at: 2) { try StoredBlob.decode($0, blobBytesMax: options.blobBytesMax) }
                } catch StoreError.corrupt(let why) {
                    throw StoreError.corrupt(
                        "\(StoredBlob.describeRow(partition: partition, bucket: bucket, key: key)): \(why); "
                            + "the row can't be used; repair it from another replica")
                }
                rows.append((bucket: bucket, key: key, blob: blob))
            }
            return rows
        }
    }

    /// Rows in `kv`, for status and tests: keys, a typed key once (its member rows are not
    /// keys). Counts every row, so it is O(rows).
    public func keyCount() throws -> Int {
        try readers.withReader { reader in
            defer { reader.countKeys.reset() }
            return try reader.countKeys.step() ? reader.countKeys.int(at: 0) : 0
        }
    }

    // MARK: - Bucket properties and metadata

    public func allBucketProps() throws -> [(bucket: String, blob: [UInt8])] {
        try readers.withReader { reader in
            let statement = reader.selectAllBucketProps
            defer { statement.reset() }
            var rows: [(bucket: String, blob: [UInt8])] = []
            while try statement.step() {
                rows.append((bucket: statement.text(at: 0), blob: statement.bytes(at: 1)))
            }
            return rows
        }
    }

    /// Stores a bucket's properties, durable on return. Goes through the writer (so it never
    /// races the writer's transaction) and is exempt from the write-queue bound.
    public func putBucketProps(bucket: String, blob: [UInt8]) throws {
        _ = try waitForWriter { completion in
            writer.enqueue(WriteOperation(kind: .bucketProps(bucket: bucket, blob: blob), completion: completion))
        }
    }

    // MARK: - Hints

    /// Stores a hint; `completion` runs after it is committed (a stand-in acks only then).
    public func putHint(_ hint: StoredHint, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        writer.enqueue(WriteOperation(kind: .putHint(hint), completion: { result in completion(result.map { _ in () }) }))
    }

    /// Removes delivered hints; `completion` runs after the commit.
    public func deleteHints(ids: [Int64], completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        writer.enqueue(WriteOperation(kind: .deleteHints(ids: ids), completion: { result in completion(result.map { _ in () }) }))
    }

    /// Every stored hint, oldest first: how a restarted stand-in rebuilds its queue.
    public func allHints() throws -> [StoredHint] {
        try readers.withReader { reader in
            let statement = reader.selectAllHints
            defer { statement.reset() }
            var hints: [StoredHint] = []
            while try statement.step() {
                let blob = try statement.withBlob(at: 5) { try StoredBlob.decode($0, blobBytesMax: options.blobBytesMax) }
                hints.append(StoredHint(
                    id: Int64(statement.int(at: 0)), target: statement.text(at: 1), bucket: statement.text(at: 2),
                    key: statement.bytes(at: 3), mode: statement.int(at: 4), blob: blob,
                    createdMilliseconds: UInt64(max(0, statement.int(at: 6)))))
            }
            return hints
        }
    }

    public func metaValue(_ name: String) throws -> String? {
        try readers.withReader { reader in
            let statement = reader.selectMeta
            defer { statement.reset() }
            try statement.bind(name, at: 1)
            return try statement.step() ? statement.text(at: 0) : nil
        }
    }

    /// Stores a metadata value, durable on return (through the writer, like `putBucketProps`).
    public func setMetaValue(_ name: String, _ value: String) throws {
        _ = try waitForWriter { completion in
            writer.enqueue(WriteOperation(kind: .meta(name: name, value: value), completion: completion))
        }
    }

    /// Stores a metadata value without waiting; `completion` runs once it is committed.
    public func setMetaValue(_ name: String, _ value: String, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        writer.enqueue(WriteOperation(kind: .meta(name: name, value: value), completion: { completion($0.map { _ in () }) }))
    }

    // MARK: - Lifecycle

    /// Stops accepting writes (they fail with `.closed`), commits the ones already queued,
    /// stops the writer thread and closes every connection. Idempotent; a second concurrent
    /// call returns without waiting for the first to finish.
    public func close() {
        guard isClosed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        writer.close()
        checkpointer.close()
        readers.close()
        logger.info("replica store closed", metadata: ["path": "\(databasePath)"])
    }

    // MARK: - Internals

    private func waitForWriter(
        _ submit: (@escaping @Sendable (Result<[UInt8]?, any Error>) -> Void) -> Void
    ) throws -> [UInt8]? {
        precondition(!writer.isWriterOrCompletionThread,
                     "waiting for a storage write from a transform or completion would deadlock the writer")
        let reply = Reply()
        submit { result in reply.fulfil(result) }
        return try reply.wait().get()
    }

    /// Whether the caller is a transform or completion, where waiting for a write deadlocks.
    var isInsideWriterOrCompletion: Bool { writer.isWriterOrCompletionThread }

    /// The stored (encoded) bytes of a row, header included; lets tests check compression.
    func storedBytes(partition: Int, bucket: String, key: [UInt8]) throws -> [UInt8]? {
        try readers.withReader { reader in
            let statement = reader.selectState
            defer { statement.reset() }
            try statement.bind(partition, at: 1)
            try statement.bind(bucket, at: 2)
            try statement.bind(key, at: 3)
            return try statement.step() ? statement.bytes(at: 0) : nil
        }
    }
}

/// Hands one write result from the writer thread to a thread blocked waiting for it.
private final class Reply: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<[UInt8]?, any Error>?>(nil)

    func fulfil(_ value: Result<[UInt8]?, any Error>) {
        result.withLock { $0 = value }
        done.signal()
    }

    func wait() -> Result<[UInt8]?, any Error> {
        done.wait()
        return result.withLock { $0! }
    }
}

/// What `readIfIdle` found: the state (nil when absent), or no idle reader connection.
public enum ImmediateRead: Sendable {
    case read([UInt8]?)
    case allReadersBusy
}
