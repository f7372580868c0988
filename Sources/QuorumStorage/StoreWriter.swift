import Dispatch
import Foundation
import Logging
import QuorumCore
import Synchronization

/// One queued write and whom to tell once it is durable.
struct WriteOperation: Sendable {
    enum Kind: Sendable {
        case state(partition: Int, bucket: String, key: [UInt8], transform: @Sendable ([UInt8]?) throws -> [UInt8]?)
        /// Deletes the row if `matches` its current state; completes with the deleted state, or nil.
        case deleteState(partition: Int, bucket: String, key: [UInt8], matches: @Sendable ([UInt8]) -> Bool)
        /// A typed key's header and member rows; completes with the header stored.
        case typed(TypedWrite)
        /// A strong key's `kv` row and Paxos row; completes with the `kv` row as stored.
        case paxos(PaxosWrite)
        case bucketProps(bucket: String, blob: [UInt8])
        case meta(name: String, value: String)
        case putHint(StoredHint)
        case deleteHints(ids: [Int64])
    }

    var kind: Kind
    var completion: @Sendable (Result<[UInt8]?, any Error>) -> Void

    /// Only state writes count toward `writeQueueOperationsMax`: they are the load that can
    /// grow without bound. Administrative writes are rare and must get through under load.
    var countsTowardQueueBound: Bool {
        switch kind {
        case .state, .typed, .paxos: return true
        default: return false
        }
    }
}

/// The writer's connection and statements.
///
/// `@unchecked Sendable` because it wraps raw SQLite pointers opened with `SQLITE_OPEN_NOMUTEX`.
/// Safe because only two threads ever touch it, one after the other: the thread running
/// `ReplicaStore.init` (setup), then the writer thread, whose start orders the hand-off.
final class WriterConnection: @unchecked Sendable {
    let connection: SQLiteConnection
    let begin: Statement
    let commit: Statement
    let rollback: Statement
    let selectState: Statement
    let upsertState: Statement
    let updateState: Statement
    let deleteState: Statement
    let memberReads: MemberReads
    let upsertMember: Statement
    let deleteMember: Statement
    let deleteMembers: Statement
    let selectPaxos: Statement
    let upsertPaxos: Statement
    let deletePaxos: Statement
    let upsertBucketProps: Statement
    let upsertMeta: Statement
    let insertHint: Statement
    let deleteHint: Statement
    /// The WAL's size after each commit, for the writer's `WALBackstop`.
    let walFrames = CommitFrameHook()

    init(path: String, options: StoreOptions) throws {
        connection = try SQLiteConnection(
            path: path, readOnly: false, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds, vfs: options.vfsName)
        do {
            try Schema.prepareWriter(connection, options: options)
            // IMMEDIATE takes the write lock up front, so a group never fails half-way on SQLITE_BUSY
            // when another process touches the file.
            begin = try connection.prepare("BEGIN IMMEDIATE")
            commit = try connection.prepare("COMMIT")
            rollback = try connection.prepare("ROLLBACK")
            selectState = try connection.prepare(Schema.selectState)
            upsertState = try connection.prepare(Schema.upsertState)
            updateState = try connection.prepare(Schema.updateState)
            deleteState = try connection.prepare(Schema.deleteState)
            memberReads = MemberReads(
                one: try connection.prepare(Schema.selectMember), all: try connection.prepare(Schema.selectMembers))
            upsertMember = try connection.prepare(Schema.upsertMember)
            deleteMember = try connection.prepare(Schema.deleteMember)
            deleteMembers = try connection.prepare(Schema.deleteMembers)
            selectPaxos = try connection.prepare(Schema.selectPaxos)
            upsertPaxos = try connection.prepare(Schema.upsertPaxos)
            deletePaxos = try connection.prepare(Schema.deletePaxos)
            upsertBucketProps = try connection.prepare(Schema.upsertBucketProps)
            upsertMeta = try connection.prepare(Schema.upsertMeta)
            insertHint = try connection.prepare(Schema.insertHint)
            deleteHint = try connection.prepare(Schema.deleteHint)
            walFrames.install(on: connection)
        } catch {
            connection.close()
            throw error
        }
    }
}

/// The single writer: a dedicated thread that takes queued writes in groups and commits each
/// group in one transaction, so concurrent writers share one fsync (group commit).
///
/// A dedicated thread rather than a dispatch queue: the writer blocks in fsync by design, and
/// a thread of its own keeps that off the shared pools the network code runs on.
///
/// A failed group is classified once, by `FailureClass`: a full disk fails the group's
/// writes and the writer goes on; an I/O error or corruption fails them and halts the store
/// (`StoreHalt`), after which every write fails at once and the writer touches the files no
/// more.
final class StoreWriter: Sendable {
    private struct Queue {
        var pending: [WriteOperation] = []
        /// Index of the oldest not-yet-taken operation in `pending` (cheaper than removeFirst).
        var head = 0
        var boundedCount = 0
        var stopping = false
        var writerSleeping = false
        var available: Int { pending.count - head }
    }

    private enum Next {
        case batch([WriteOperation])
        case sleep
        case exit
    }

    private let queue = Mutex(Queue())
    /// Signalled exactly once per sleep (the enqueuer clears `writerSleeping` under the lock).
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    private let writerThreadID = Mutex<pthread_t?>(nil)
    /// Completions of committed groups, in commit order: off the writer thread, so the
    /// next group's statements run while the last group's callers are told.
    private let completionQueue = DispatchQueue(label: "quorumkv.storage.completions")
    /// The thread running completions now, if any: waiting for a write there would deadlock.
    private let completionThreadID = Mutex<pthread_t?>(nil)
    private let transactions = Atomic<Int>(0)
    /// Writes queued or in the group being committed: readers keep no snapshot while there
    /// are any (a kept snapshot would hold a WAL read mark and stop the WAL from restarting).
    private let outstanding = Atomic<Int>(0)
    /// Groups failed by a full disk since the last commit: the first is logged, the rest
    /// counted, and the commit that ends the run logs how many there were.
    private let diskFullGroups = Atomic<Int>(0)
    private let database: WriterConnection
    private let options: StoreOptions
    private let halt: StoreHalt
    private let logger: Logger
    /// Hot rows' committed states: read here instead of by SELECT, and told each group's
    /// rows once the group has committed.
    private let cache: RowCache

    init(database: WriterConnection, options: StoreOptions, cache: RowCache, halt: StoreHalt, logger: Logger) {
        self.database = database
        self.options = options
        self.cache = cache
        self.halt = halt
        self.logger = logger
    }

    /// Starts the writer thread; after each commit that leaves the WAL at its bound it runs
    /// `backstop` before taking the next group.
    func start(backstop: WALBackstop) {
        finished.enter()
        let thread = Thread { [self] in run(backstop: backstop) }
        thread.name = "quorumkv-storage-writer"
        thread.start()
    }

    /// Transactions committed since start. Counted after the commit and before its writes
    /// are acknowledged, so a read that starts after an acknowledgement sees a count that
    /// includes that write's commit (readers rely on it to keep snapshots).
    var committedTransactions: Int { transactions.load(ordering: .acquiring) }

    /// Groups the writer has begun (counted before their transaction starts), and groups
    /// whose completions have all run. Once `groupsCompleted` reaches a `groupsStarted`
    /// read after some read transaction, every write that read could see has had its
    /// completion: how a scan knows no completion of a write it saw is still to come.
    private let groupsStarted = Atomic<Int>(0)
    private let groupsCompleted = Atomic<Int>(0)
    var startedGroups: Int { groupsStarted.load(ordering: .acquiring) }
    var completedGroups: Int { groupsCompleted.load(ordering: .acquiring) }

    /// Whether no write is queued or being committed.
    var isIdle: Bool { outstanding.load(ordering: .relaxed) == 0 }

    /// State writes queued, being committed, or with their completion still to start.
    var queuedOperations: Int { queue.withLock { $0.boundedCount } }

    /// True on the writer thread.
    var isWriterThread: Bool {
        writerThreadID.withLock { id in id.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// True where waiting for a write would deadlock: in a transform or a completion.
    var isWriterOrCompletionThread: Bool {
        isWriterThread || completionThreadID.withLock { id in id.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Queues `operation`. If the store is closing or has halted, or the queue is full, its
    /// completion runs at once on the calling thread with the failure.
    func enqueue(_ operation: WriteOperation) {
        enum Outcome { case queued(wake: Bool), overloaded(Int), closed, halted }
        let limit = options.writeQueueOperationsMax
        let halted = halt.isHalted
        let outcome: Outcome = queue.withLock { queue in
            if queue.stopping { return .closed }
            if halted { return .halted }
            if operation.countsTowardQueueBound {
                if queue.boundedCount >= limit { return .overloaded(queue.boundedCount) }
                queue.boundedCount += 1
            }
            queue.pending.append(operation)
            outstanding.add(1, ordering: .relaxed)
            guard queue.writerSleeping else { return .queued(wake: false) }
            queue.writerSleeping = false
            return .queued(wake: true)
        }
        switch outcome {
        case .queued(let wakeWriter):
            if wakeWriter { wake.signal() }
        case .overloaded(let queued):
            operation.completion(.failure(StoreError.overloaded(
                "the storage write queue is full (\(queued) writes waiting for the disk); retry later or reduce write load")))
        case .closed:
            operation.completion(.failure(StoreError.closed))
        case .halted:
            operation.completion(.failure(halt.haltedError()))
        }
    }

    /// Stops taking new writes, lets the writer finish the queued ones, and waits for it to
    /// exit and their completions to run — unless called from a transform or completion,
    /// which can't wait for itself; the writer then exits after the current group. Idempotent.
    func close() {
        let wakeWriter = queue.withLock { queue in
            queue.stopping = true
            defer { queue.writerSleeping = false }
            return queue.writerSleeping
        }
        if wakeWriter { wake.signal() }
        if !isWriterThread { finished.wait() }
        // Every committed write's caller is told before close returns (unless this is a
        // completion itself, which can't wait for the queue it runs on).
        if !isWriterOrCompletionThread { completionQueue.sync {} }
    }

    // MARK: - Writer thread

    private func run(backstop: WALBackstop) {
        writerThreadID.withLock { $0 = pthread_self() }
        while let batch = nextBatch() {
            groupsStarted.add(1, ordering: .releasing)
            // Halted (here, or by the checkpointer): the files are trusted with nothing more.
            if halt.isHalted {
                complete(batch, with: Array(repeating: .failure(halt.haltedError()), count: batch.count))
            } else if commitGroup(batch, backstop: backstop) {
                backstop.checkpoint(on: database.connection)
            }
        }
        if halt.isHalted { database.connection.skipCheckpointOnClose() }
        database.connection.close()
        finished.leave()
    }

    /// Blocks until there is work, returning up to `groupCommitOperationsMax` operations, or
    /// nil once the store is closing and the queue is drained.
    private func nextBatch() -> [WriteOperation]? {
        let groupMax = options.groupCommitOperationsMax
        while true {
            let next: Next = queue.withLock { queue in
                if queue.available == 0 {
                    if queue.stopping { return .exit }
                    queue.writerSleeping = true
                    return .sleep
                }
                let end = queue.head + min(queue.available, groupMax)
                let batch = Array(queue.pending[queue.head..<end])
                queue.head = end
                if queue.head == queue.pending.count {
                    queue.pending.removeAll(keepingCapacity: true)
                    queue.head = 0
                } else if queue.head >= 1024 && queue.head * 2 >= queue.pending.count {
                    queue.pending.removeFirst(queue.head)
                    queue.head = 0
                }
                return .batch(batch)
            }
            switch next {
            case .batch(let batch): return batch
            case .exit: return nil
            case .sleep: wake.wait()
            }
        }
    }

    /// A failure that aborts the whole group (SQLite trouble), as opposed to one operation's.
    private struct GroupFailure: Error {
        var error: any Error
    }

    /// Applies every operation in one transaction, commits, and only then hands the
    /// completions to the completion queue: nothing is acknowledged before it is durable.
    /// Returns whether the WAL's backstop must run before the next group (after the
    /// completions are handed over, so they don't wait for it).
    private func commitGroup(_ batch: [WriteOperation], backstop: WALBackstop) -> Bool {
        var results: [Result<[UInt8]?, any Error>] = []
        results.reserveCapacity(batch.count)
        var rows = GroupRows()
        var backstopDue = false
        do {
            try database.begin.run()
            for operation in batch {
                results.append(try apply(operation, rows: &rows))
            }
            try database.commit.run()
            transactions.add(1, ordering: .releasing)
            cache.committed(rows.written.lazy.map { (key: $0.key, blob: $0.value) })
            backstopDue = backstop.committed(walFrames: database.walFrames.take())
            let fullBefore = diskFullGroups.exchange(0, ordering: .relaxed)
            if fullBefore > 0 {
                logger.notice("the disk has room again: writes commit again", metadata: ["failedGroups": "\(fullBefore)"])
            }
        } catch {
            let failure = (error as? GroupFailure)?.error ?? error
            if database.connection.inTransaction {
                do { try database.rollback.run() } catch {
                    logger.error("storage rollback failed", metadata: ["error": "\(error)"])
                }
            }
            let kind = FailureClass(failure)
            let groupError = self.groupError(failure, kind: kind)
            switch kind {
            case .fatal:
                // Halt before the callers hear of it, so no write queued after them commits.
                halt.halt(StoreError.describe(failure))
            case .diskFull:
                if diskFullGroups.add(1, ordering: .relaxed).newValue == 1 {
                    logger.error("the disk is full: writes fail until space is freed; reads go on", metadata: [
                        "operations": "\(batch.count)", "error": "\(failure)",
                    ])
                }
            case .clean:
                logger.error("storage group commit failed; failing its writes", metadata: [
                    "operations": "\(batch.count)", "error": "\(failure)",
                ])
            }
            results = Array(repeating: .failure(groupError), count: batch.count)
            cache.drop(rows.written.keys)
        }
        complete(batch, with: results)
        return backstopDue
    }

    /// What each write of a failed group is told, by the failure's class.
    private func groupError(_ failure: any Error, kind: FailureClass) -> any Error {
        let cause = StoreError.describe(failure)
        switch kind {
        case .fatal:
            return StoreError.halted(
                "\(cause); the store hit an I/O error or corruption it cannot trust while committing this write, "
                    + "which may or may not be durable; it takes no more writes and the node must restart so that "
                    + "SQLite recovers from what is durable; retry against another replica")
        case .diskFull:
            let directory = (database.connection.path as NSString).deletingLastPathComponent
            return StoreError.diskFull(
                "\(cause); the write was rolled back and not stored; the node keeps serving reads and takes writes "
                    + "again once the volume has space (data directory \(directory))")
        case .clean:
            return failure
        }
    }

    /// Hands a group's results to the completion queue, in order after earlier groups'.
    private func complete(_ batch: [WriteOperation], with results: [Result<[UInt8]?, any Error>]) {
        outstanding.subtract(batch.count, ordering: .relaxed)
        let outcomes = results
        completionQueue.async { [self] in
            // Counted until their completions start, so the bound also covers groups waiting
            // here: a writer ahead of slow completions can't pile them up without limit.
            let starting = batch.reduce(0) { $0 + ($1.countsTowardQueueBound ? 1 : 0) }
            queue.withLock { $0.boundedCount -= starting }
            completionThreadID.withLock { $0 = pthread_self() }
            defer { completionThreadID.withLock { $0 = nil } }
            for (operation, result) in zip(batch, outcomes) {
                operation.completion(result)
            }
            groupsCompleted.add(1, ordering: .releasing)
        }
    }

    /// The row's state inside the open transaction: as an earlier write of this group left
    /// it, else as the row cache holds it, else read from the table. A corrupt row fails
    /// only its own operation (as a result); any other SQLite error aborts the group (thrown).
    private func readCurrent(_ row: RowKey, rows: GroupRows) throws -> Result<[UInt8]?, StoreError> {
        if let written = rows.written[row] { return .success(written) }
        if let cached = cache.current(row) { return .success(cached) }
        do {
            return .success(try database.selectState.readState(
                partition: row.partition, bucket: row.bucket, key: row.key, blobBytesMax: options.blobBytesMax))
        } catch let error as StoreError {
            if case .corrupt = error { return .failure(error) }
            throw GroupFailure(error: error)
        }
    }

    /// One operation inside the open transaction. Returns its own failure (a throwing
    /// transform, a corrupt current row, an oversized blob) as a result, so the rest of the
    /// group still commits; throws only for SQLite errors, which abort the group.
    private func apply(_ operation: WriteOperation, rows: inout GroupRows) throws -> Result<[UInt8]?, any Error> {
        switch operation.kind {
        case .state(let partition, let bucket, let key, let transform):
            let row = RowKey(partition: partition, bucket: bucket, key: key)
            let current: [UInt8]?
            switch try readCurrent(row, rows: rows) {
            case .success(let state): current = state
            case .failure(let error): return .failure(error)
            }
            let updated: [UInt8]?
            do {
                updated = try transform(current)
            } catch {
                return .failure(error)
            }
            guard let updated else { return .success(current) }
            guard updated.count <= options.blobBytesMax else {
                return .failure(StoreError.tooLarge(
                    "new state for \(StoredBlob.describeRow(partition: partition, bucket: bucket, key: key)) is "
                        + "\(updated.count) bytes, over the \(options.blobBytesMax)-byte bound; resolve siblings or write smaller values"))
            }
            try store(row, StoredBlob.encode(updated, compressionThresholdBytes: options.compressionThresholdBytes),
                      exists: current != nil)
            rows.written[row] = updated
            return .success(updated)
        case .deleteState(let partition, let bucket, let key, let matches):
            let row = RowKey(partition: partition, bucket: bucket, key: key)
            let current: [UInt8]?
            switch try readCurrent(row, rows: rows) {
            case .success(let state): current = state
            case .failure(let error): return .failure(error)
            }
            guard let current, matches(current) else { return .success(nil) }
            // A typed key's members go with its header, in the same transaction: no member
            // row outlives the key (purge, stray-copy clearing and truncation all delete here).
            try groupStep {
                try database.deleteState.withRow(partition: row.partition, bucket: row.bucket, key: row.key) {
                    _ = try database.deleteState.step()
                }
                try database.deleteMembers.withRow(partition: row.partition, bucket: row.bucket, key: row.key) {
                    _ = try database.deleteMembers.step()
                }
            }
            rows.written[row] = .some(nil)
            return .success(current)
        case .typed(let write):
            return try applyTyped(write, rows: &rows)
        case .paxos(let write):
            return try applyPaxos(write, rows: &rows)
        case .bucketProps(let bucket, let blob):
            try groupStep(database.upsertBucketProps) { statement in
                try statement.bind(bucket, at: 1)
                try statement.bind(blob, at: 2)
            }
            return .success(nil)
        case .meta(let name, let value):
            try groupStep(database.upsertMeta) { statement in
                try statement.bind(name, at: 1)
                try statement.bind(value, at: 2)
            }
            return .success(nil)
        case .putHint(let hint):
            let stored = StoredBlob.encode(hint.blob, compressionThresholdBytes: options.compressionThresholdBytes)
            try groupStep(database.insertHint) { statement in
                try statement.bind(Int(hint.id), at: 1)
                try statement.bind(hint.target, at: 2)
                try statement.bind(hint.bucket, at: 3)
                try statement.bind(hint.key, at: 4)
                try statement.bind(hint.mode, at: 5)
                try statement.bind(stored, at: 6)
                try statement.bind(Int(hint.createdMilliseconds), at: 7)
            }
            return .success(nil)
        case .deleteHints(let ids):
            for id in ids {
                try groupStep(database.deleteHint) { statement in try statement.bind(Int(id), at: 1) }
            }
            return .success(nil)
        }
    }

    /// A typed key's read-modify-write inside the open transaction: the header as
    /// `readCurrent` finds it (so an earlier write of the group and the row cache count), the
    /// selected members from the table (which holds the group's earlier member writes),
    /// then the header through `store` like any state (the row cache and the adapter's
    /// Merkle update see it as one) and the changed member rows. Everything that can fail
    /// the operation alone (a throwing transform, a corrupt row, an oversized blob) is
    /// checked before the first statement, so a refusal leaves nothing of it behind.
    private func applyTyped(_ write: TypedWrite, rows: inout GroupRows) throws -> Result<[UInt8]?, any Error> {
        let row = write.row
        let header: [UInt8]?
        switch try readCurrent(row, rows: rows) {
        case .success(let state): header = state
        case .failure(let error): return .failure(error)
        }
        var before: StoredTyped?
        if let header {
            do {
                let members = try database.memberReads.read(row, selection: write.selection, blobBytesMax: options.blobBytesMax)
                before = StoredTyped(header: header, members: members)
            } catch let error as StoreError {
                if case .corrupt = error { return .failure(error) }
                throw GroupFailure(error: error)
            }
        }
        let changes: TypedRowChanges
        do {
            changes = try write.transform(before)
        } catch {
            return .failure(error)
        }
        if let tooLarge = oversized(changes, row: row) { return .failure(tooLarge) }
        try store(row, StoredBlob.encode(changes.header, compressionThresholdBytes: options.compressionThresholdBytes),
                  exists: header != nil)
        rows.written[row] = changes.header
        for change in changes.lastChangePerMember {
            try storeMember(row, change)
        }
        write.deliver((before ?? StoredTyped(header: [], members: [])).applying(changes, selection: write.selection))
        return .success(changes.header)
    }

    /// A strong key's read-modify-write inside the open transaction (issue #17): the `kv`
    /// row as `readCurrent` finds it (an earlier write of the group, the row cache, the
    /// table) and the Paxos row from the table (which holds the group's earlier writes),
    /// then each row that changed: the `kv` row through `store` like any state (so the row
    /// cache and the adapter's Merkle update see it), the Paxos row beside it, a nil row
    /// deleted. A nil transform changes nothing. Everything that fails the operation alone
    /// (a throwing transform, a corrupt row, an oversized row) is checked before the first
    /// statement, so a refusal leaves nothing of it behind; both rows commit in the group's
    /// one transaction.
    private func applyPaxos(_ write: PaxosWrite, rows: inout GroupRows) throws -> Result<[UInt8]?, any Error> {
        let row = write.row
        let record: [UInt8]?
        switch try readCurrent(row, rows: rows) {
        case .success(let state): record = state
        case .failure(let error): return .failure(error)
        }
        let votes: [UInt8]?
        do {
            votes = try database.selectPaxos.readPaxos(row, blobBytesMax: options.blobBytesMax)
        } catch let error as StoreError {
            if case .corrupt = error { return .failure(error) }
            throw GroupFailure(error: error)
        }
        let before = StoredPaxos(paxos: votes, record: record)
        let after: StoredPaxos?
        do {
            after = try write.transform(before)
        } catch {
            return .failure(error)
        }
        guard let after else {
            write.deliver(before)
            return .success(record)
        }
        let bound = options.blobBytesMax
        for (name, bytes) in [("Paxos row", after.paxos), ("strong record", after.record)] {
            guard let bytes, bytes.count > bound else { continue }
            return .failure(StoreError.tooLarge(
                "new \(name) for \(StoredBlob.describeRow(partition: row.partition, bucket: row.bucket, key: row.key)) is "
                    + "\(bytes.count) bytes, over the \(bound)-byte bound; write a smaller value"))
        }
        if after.record != record {
            if let next = after.record {
                try store(row, StoredBlob.encode(next, compressionThresholdBytes: options.compressionThresholdBytes),
                          exists: record != nil)
            } else {
                try groupStep {
                    try database.deleteState.withRow(partition: row.partition, bucket: row.bucket, key: row.key) {
                        _ = try database.deleteState.step()
                    }
                }
            }
            rows.written[row] = .some(after.record)
        }
        if after.paxos != votes {
            try groupStep {
                if let next = after.paxos {
                    let stored = StoredBlob.encode(next, compressionThresholdBytes: options.compressionThresholdBytes)
                    try database.upsertPaxos.withRow(partition: row.partition, bucket: row.bucket, key: row.key, state: stored) {
                        _ = try database.upsertPaxos.step()
                    }
                } else {
                    try database.deletePaxos.withRow(partition: row.partition, bucket: row.bucket, key: row.key) {
                        _ = try database.deletePaxos.step()
                    }
                }
            }
        }
        write.deliver(after)
        return .success(after.record)
    }

    /// The bound a typed update breaks, if any: its header and each payload are held to
    /// `blobBytesMax` like any state.
    private func oversized(_ changes: TypedRowChanges, row: RowKey) -> StoreError? {
        let bound = options.blobBytesMax
        let described = StoredBlob.describeRow(partition: row.partition, bucket: row.bucket, key: row.key)
        if changes.header.count > bound {
            return .tooLarge("new typed header for \(described) is \(changes.header.count) bytes, over the \(bound)-byte bound")
        }
        if let big = changes.members.first(where: { ($0.payload?.count ?? 0) > bound }) {
            return .tooLarge(
                "new payload of member \(StoredBlob.describeBytes(big.member)) of \(described) is "
                    + "\(big.payload?.count ?? 0) bytes, over the \(bound)-byte bound")
        }
        return nil
    }

    /// Upserts one member row, or deletes it when the change carries no payload.
    private func storeMember(_ row: RowKey, _ change: MemberChange) throws {
        try groupStep {
            guard let payload = change.payload else {
                try database.deleteMember.withRow(partition: row.partition, bucket: row.bucket, key: row.key, state: change.member) {
                    _ = try database.deleteMember.step()
                }
                return
            }
            let stored = StoredBlob.encode(payload, compressionThresholdBytes: options.compressionThresholdBytes)
            try database.upsertMember.withRow(partition: row.partition, bucket: row.bucket, key: row.key, state: change.member) {
                try database.upsertMember.bind(stored, at: 5)
                _ = try database.upsertMember.step()
            }
        }
    }

    /// Writes a row's stored bytes: an UPDATE in place when the row exists (REPLACE would
    /// delete and insert it), else an insert; an UPDATE that finds no row falls back to
    /// the insert, so a wrong guess never loses the write.
    private func store(_ row: RowKey, _ stored: [UInt8], exists: Bool) throws {
        try groupStep {
            if exists {
                let updated = try database.updateState.withRow(
                    partition: row.partition, bucket: row.bucket, key: row.key, state: stored
                ) {
                    _ = try database.updateState.step()
                    return database.connection.changedRows == 1
                }
                if updated { return }
            }
            try database.upsertState.withRow(partition: row.partition, bucket: row.bucket, key: row.key, state: stored) {
                _ = try database.upsertState.step()
            }
        }
    }

    /// Runs one statement of the group; a failure aborts the group.
    private func groupStep(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            throw GroupFailure(error: error)
        }
    }

    /// Binds and runs one statement of the group; a failure aborts the group.
    private func groupStep(_ statement: Statement, bind: (Statement) throws -> Void) throws {
        try groupStep {
            do {
                try bind(statement)
                try statement.run()
            } catch {
                statement.reset()
                throw error
            }
        }
    }
}

/// The rows a group has written so far: later writes of the same row in the group read
/// them, and the row cache is told them once the group commits (nil: deleted).
private struct GroupRows {
    var written: [RowKey: [UInt8]?] = [:]
}
