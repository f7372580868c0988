import CSQLite
import CSQLiteFaultVFS
import Dispatch
import Foundation
import Synchronization
import XCTest

@testable import QuorumStorage

/// What the store does when the disk fails under it: an I/O error or corruption while
/// making writes durable halts it (fatal), a full disk fails only the writes at hand. The
/// faults come from a SQLite VFS that fails chosen writes and syncs with the codes the real
/// one gives (`CSQLiteFaultVFS`), so SQLite itself reacts as it would to the disk.
final class DiskFailureTests: XCTestCase {
    private var directories: [TemporaryDirectory] = []
    private var stores: [ReplicaStore] = []

    override func tearDown() {
        for store in stores { store.close() }
        for directory in directories {
            quorumkv_fault_vfs_clear(directory.path)
            directory.remove()
        }
        super.tearDown()
    }

    // MARK: - Classification

    func testFailureClassesOfSQLiteCodes() {
        let fatal: [Int32] = [
            SQLITE_IOERR, ioerr(1) /* READ */, ioerr(2) /* SHORT_READ */, ioerr(3) /* WRITE */, ioerr(4) /* FSYNC */,
            ioerr(6) /* TRUNCATE */, ioerr(19) /* SHMSIZE */, SQLITE_CORRUPT, SQLITE_CORRUPT | (1 << 8), SQLITE_NOTADB,
        ]
        for code in fatal { XCTAssertEqual(FailureClass(sqliteCode: code), .fatal, "code \(code)") }
        XCTAssertEqual(FailureClass(sqliteCode: SQLITE_FULL), .diskFull)
        for code in [SQLITE_BUSY, SQLITE_BUSY | (2 << 8), SQLITE_LOCKED, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_NOMEM, SQLITE_ERROR] {
            XCTAssertEqual(FailureClass(sqliteCode: code), .clean, "code \(code)")
        }
        XCTAssertEqual(FailureClass(StoreError.fromSQLite(extendedCode: ioerr(4), operation: "running COMMIT", detail: "disk I/O error")), .fatal)
        XCTAssertEqual(FailureClass(StoreError.fromSQLite(extendedCode: SQLITE_FULL, operation: "running COMMIT", detail: "full")), .diskFull)
        XCTAssertEqual(FailureClass(StoreError.closed), .clean)
        XCTAssertEqual(FailureClass(StoreError.corrupt("a row's blob")), .clean, "a corrupt row fails only its own write")
        XCTAssertEqual(FailureClass(TransformFailure(reason: "no")), .clean)
    }

    // MARK: - I/O errors halt the store

    func testFailedWALSyncFailsTheGroupHaltsTheStoreAndReportsOnce() throws {
        let fatal = FatalRecorder()
        let store = try openFaultyStore(fatal: fatal) { options in
            options.checkpointIntervalMilliseconds = 3_600_000  // only the commit syncs the WAL
        }
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: bytes("before")) { _ in bytes("kept") }, bytes("kept"))

        // The next fsync of the WAL fails with EIO, as the kernel reports a lost write-back.
        arm(store.databasePath + "-wal", Int32(QUORUMKV_FAULT_SYNC), code: ioerr(4), count: 1)
        let gate = WriterGate.block(store)  // the three writes below go into one group
        let collector = ResultCollector()
        for index in 0..<3 {
            store.update(partition: 0, bucket: "b", key: [UInt8(index)], transform: { _ in [UInt8(index)] },
                         completion: collector.completion(for: index))
        }
        gate.release()
        for (_, result) in collector.waitAll() {
            XCTAssertThrowsError(try result.get()) { error in
                guard case .halted(let message)? = error as? StoreError else { return XCTFail("expected halted, got \(error)") }
                XCTAssertTrue(message.contains("SQLite code \(ioerr(4))"), message)
                XCTAssertTrue(message.contains("may or may not be durable"), message)
                XCTAssertTrue(message.contains("node must restart"), message)
            }
        }
        XCTAssertEqual(quorumkv_fault_vfs_injected(store.directory), 1)
        XCTAssertEqual(fatal.calls.count, 1, "the owner is told once")
        XCTAssertTrue(fatal.calls.first?.contains("running COMMIT") == true, "\(fatal.calls)")
        XCTAssertEqual(store.haltReason, fatal.calls.first)

        // Every later write fails at once, before `update` returns, without reaching the disk.
        let committed = store.committedTransactions
        for key in [bytes("after1"), bytes("after2")] {
            let rejected = Mutex<Result<[UInt8]?, any Error>?>(nil)
            store.update(partition: 0, bucket: "b", key: key, transform: { _ in [9] },
                         completion: { result in rejected.withLock { $0 = result } })
            let rejection = try XCTUnwrap(rejected.withLock { $0 }, "a halted store must refuse at once")
            XCTAssertThrowsError(try rejection.get()) { error in
                guard case .halted(let message)? = error as? StoreError else { return XCTFail("expected halted, got \(error)") }
                XCTAssertTrue(message.contains("stopped taking writes after an I/O error"), message)
                XCTAssertTrue(message.contains("node must restart"), message)
            }
        }
        XCTAssertStoreError(try store.setMetaValue("m", "v"), matches: { if case .halted = $0 { true } else { false } })
        XCTAssertEqual(store.committedTransactions, committed)
        XCTAssertEqual(fatal.calls.count, 1, "later refusals don't report again")

        // Reads go on, and never see the writes whose commit failed.
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: bytes("before")), bytes("kept"))
        for index in 0..<3 { XCTAssertNil(try store.read(partition: 0, bucket: "b", key: [UInt8(index)])) }

        // A restart recovers from what is durable and takes writes again.
        store.close()
        let reopened = try ReplicaStore(directory: store.directory, options: faultyOptions(fatal: fatal), logger: testLogger())
        stores.append(reopened)
        XCTAssertEqual(try reopened.read(partition: 0, bucket: "b", key: bytes("before")), bytes("kept"))
        XCTAssertEqual(try reopened.updateAndWait(partition: 0, bucket: "b", key: bytes("after")) { _ in [1] }, [1])
        XCTAssertNil(reopened.haltReason)
        XCTAssertEqual(fatal.calls.count, 1)
    }

    func testFailedWALWriteHaltsTheStore() throws {
        let fatal = FatalRecorder()
        let store = try openFaultyStore(fatal: fatal) { $0.checkpointIntervalMilliseconds = 3_600_000 }
        arm(store.databasePath + "-wal", Int32(QUORUMKV_FAULT_WRITE), code: ioerr(3), count: 1)  // EIO on write
        XCTAssertStoreError(try store.updateAndWait(partition: 0, bucket: "b", key: [1]) { _ in [1] }, matches: {
            if case .halted(let message) = $0 { message.contains("SQLite code \(ioerr(3))") } else { false }
        })
        XCTAssertEqual(fatal.calls.count, 1)
        XCTAssertStoreError(try store.updateAndWait(partition: 0, bucket: "b", key: [2]) { _ in [2] }, matches: {
            if case .halted(let message) = $0 { message.contains("stopped taking writes") } else { false }
        })
        XCTAssertEqual(fatal.calls.count, 1)
    }

    func testFailedCheckpointSyncHaltsTheStore() throws {
        let fatal = FatalRecorder()
        let store = try openFaultyStore(fatal: fatal) { $0.checkpointIntervalMilliseconds = 5 }
        // Commits sync only the WAL; the checkpoint that copies it back syncs the database file.
        arm(store.databasePath, Int32(QUORUMKV_FAULT_SYNC), code: ioerr(4), count: 1)
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: [1]) { _ in [1] }, [1])
        XCTAssertEqual(fatal.reported.wait(timeout: .now() + testWaitTimeout), .success, "the checkpoint's failed sync was not reported")
        XCTAssertTrue(fatal.calls.first?.contains("checkpointing the WAL") == true, "\(fatal.calls)")
        XCTAssertStoreError(try store.updateAndWait(partition: 0, bucket: "b", key: [2]) { _ in [2] }, matches: {
            if case .halted(let message) = $0 { message.contains("node must restart") } else { false }
        })
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: [1]), [1], "reads go on")
        let checkpoints = store.backgroundCheckpoints
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(store.backgroundCheckpoints, checkpoints, "a halted store runs no more checkpoints")
        XCTAssertEqual(fatal.calls.count, 1)
    }

    // MARK: - A full disk is not fatal

    func testFullDiskFailsOnlyItsWritesAndWritesResumeOnceThereIsSpace() throws {
        let fatal = FatalRecorder()
        let store = try openFaultyStore(fatal: fatal) { $0.checkpointIntervalMilliseconds = 5 }
        // The disk fills: the checkpoint can't extend the database file...
        arm(store.databasePath, Int32(QUORUMKV_FAULT_WRITE), code: SQLITE_FULL, count: -1)
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: bytes("before")) { _ in bytes("kept") }, bytes("kept"))
        try waitUntil("the checkpoint met the full disk") { quorumkv_fault_vfs_injected(store.databasePath) > 0 }
        XCTAssertNil(store.haltReason, "a checkpoint that finds the disk full is retried, not fatal")

        // ...and commits can't append to the WAL.
        arm(store.databasePath + "-wal", Int32(QUORUMKV_FAULT_WRITE), code: SQLITE_FULL, count: -1)
        for attempt in 0..<2 {
            let gate = WriterGate.block(store)
            let collector = ResultCollector()
            for index in 0..<3 {
                store.update(partition: 0, bucket: "b", key: [UInt8(attempt), UInt8(index)], transform: { _ in [1] },
                             completion: collector.completion(for: index))
            }
            gate.release()
            for (_, result) in collector.waitAll() {
                XCTAssertThrowsError(try result.get()) { error in
                    guard case .diskFull(let message)? = error as? StoreError else { return XCTFail("expected diskFull, got \(error)") }
                    XCTAssertTrue(message.contains("the disk is full"), message)
                    XCTAssertTrue(message.contains("free space"), message)
                    XCTAssertTrue(message.contains("not stored"), message)
                    XCTAssertTrue(message.contains(store.directory), message)
                }
            }
        }
        XCTAssertTrue(fatal.calls.isEmpty, "a full disk is not fatal: \(fatal.calls)")
        XCTAssertNil(store.haltReason)
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: bytes("before")), bytes("kept"), "reads go on")

        // Space is freed: the next write commits, and the refused ones were never stored.
        quorumkv_fault_vfs_clear(store.directory)
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: bytes("after")) { _ in bytes("new") }, bytes("new"))
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: bytes("after")), bytes("new"))
        XCTAssertEqual(try store.keyCount(), 2)
        let checkpoints = store.backgroundCheckpoints
        try waitUntil("a checkpoint succeeds again") { store.backgroundCheckpoints > checkpoints }
        XCTAssertTrue(fatal.calls.isEmpty)

        store.close()
        let reopened = try ReplicaStore(directory: store.directory, options: faultyOptions(fatal: fatal), logger: testLogger())
        stores.append(reopened)
        XCTAssertEqual(try reopened.read(partition: 0, bucket: "b", key: bytes("after")), bytes("new"))
        XCTAssertEqual(try reopened.keyCount(), 2)
    }

    func testAFailedGroupLeavesTheRowCacheAtTheCommittedState() throws {
        let fatal = FatalRecorder()
        let store = try openFaultyStore(fatal: fatal) { $0.checkpointIntervalMilliseconds = 3_600_000 }
        let key = bytes("cached")
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: key) { _ in bytes("kept") }, bytes("kept"))
        XCTAssertEqual(store.rowCacheStatistics.entries, 1)

        arm(store.databasePath + "-wal", Int32(QUORUMKV_FAULT_WRITE), code: SQLITE_FULL, count: -1)
        XCTAssertThrowsError(try store.updateAndWait(partition: 0, bucket: "b", key: key) { _ in bytes("lost") })
        XCTAssertEqual(store.rowCacheStatistics.entries, 0, "the failed group's rows are dropped from the cache")
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: key), bytes("kept"), "the committed state, read from disk")
        XCTAssertEqual(try store.storedBytes(partition: 0, bucket: "b", key: key), [0] + bytes("kept"))

        quorumkv_fault_vfs_clear(store.directory)
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: key) { current in (current ?? []) + bytes("+1") },
                       bytes("kept+1"), "the next write builds on the committed state, not the failed one")
        XCTAssertTrue(fatal.calls.isEmpty)
    }

    // MARK: - Support

    /// Extended code `SQLITE_IOERR_*` number `n` (the C macros don't import into Swift).
    private func ioerr(_ n: Int32) -> Int32 { SQLITE_IOERR | (n << 8) }

    private func arm(_ path: String, _ operation: Int32, code: Int32, count: Int32) {
        quorumkv_fault_vfs_arm(path, operation, code, count)
    }

    private func faultyOptions(fatal: FatalRecorder) -> StoreOptions {
        XCTAssertEqual(quorumkv_fault_vfs_register(), SQLITE_OK)
        var options = StoreOptions()
        options.vfsName = String(cString: quorumkv_fault_vfs_name)
        options.onFatal = { reason in fatal.record(reason) }
        return options
    }

    private func openFaultyStore(
        fatal: FatalRecorder, _ configure: (inout StoreOptions) -> Void = { _ in }, name: String = #function
    ) throws -> ReplicaStore {
        let directory = TemporaryDirectory(name)
        directories.append(directory)
        var options = faultyOptions(fatal: fatal)
        configure(&options)
        let store = try ReplicaStore(directory: directory.path, options: options, logger: testLogger())
        stores.append(store)
        return store
    }

    private func waitUntil(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(30)
        while try !condition() {
            guard Date() < deadline else { return XCTFail("timed out waiting until \(what)") }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}

/// Records each call of a store's `onFatal`.
final class FatalRecorder: Sendable {
    private let reasons = Mutex<[String]>([])
    let reported = DispatchSemaphore(value: 0)

    var calls: [String] { reasons.withLock { $0 } }

    func record(_ reason: String) {
        reasons.withLock { $0.append(reason) }
        reported.signal()
    }
}
