import Dispatch
import Foundation
import Synchronization
import XCTest

@testable import QuorumStorage

/// Reader connections keep their read transaction between reads while nothing is
/// committed; these check that a read never misses an acknowledged write because of it,
/// that kept snapshots don't stop the WAL from being copied back or restarting at the
/// writer's backstop, and the background checkpointer and completion queue around them.
final class ReadSnapshotTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var store: ReplicaStore!

    override func setUp() {
        super.setUp()
        directory = TemporaryDirectory(name)
    }

    override func tearDown() {
        store?.close()
        directory.remove()
        super.tearDown()
    }

    /// A store without its row cache: every read here must reach SQLite's reader snapshots.
    private func open(_ configure: (inout StoreOptions) -> Void = { _ in }) throws -> ReplicaStore {
        var options = StoreOptions()
        options.rowCacheEntriesMax = 0
        configure(&options)
        store = try ReplicaStore(directory: directory.path, options: options, logger: testLogger())
        return store
    }

    func testEveryReadAfterAnAcknowledgedWriteSeesIt() throws {
        let store = try open()
        let key = bytes("k")
        for round in 0..<300 {
            let value = bytes("v\(round)")
            _ = try store.updateAndWait(partition: 0, bucket: "b", key: key) { _ in value }
            // Both kinds of read, on whichever connection the pool lends.
            XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: key), value, "round \(round)")
            guard case .read(let found) = try store.readIfIdle(partition: 0, bucket: "b", key: key) else {
                return XCTFail("a reader connection is idle; readIfIdle must not report them busy")
            }
            XCTAssertEqual(found, value, "round \(round)")
        }
    }

    func testReadsFromManyThreadsSeeEveryWriteAcknowledgedBeforeThem() throws {
        let store = try open()
        let key = bytes("k")
        let acknowledged = Atomic<Int>(-1)
        let stale = Atomic<Int>(0)
        let writing = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for round in 0..<400 {
                _ = try? store.updateAndWait(partition: 0, bucket: "b", key: key) { _ in bytes(String(round)) }
                acknowledged.store(round, ordering: .releasing)
            }
            writing.signal()
        }
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while acknowledged.load(ordering: .acquiring) < 399 {
                let floor = acknowledged.load(ordering: .acquiring)
                guard let blob = try? store.read(partition: 0, bucket: "b", key: key) else { continue }
                if let seen = Int(String(decoding: blob, as: UTF8.self)), seen < floor { stale.add(1, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(writing.wait(timeout: .now() + testWaitTimeout), .success)
        XCTAssertEqual(stale.load(ordering: .relaxed), 0, "a read returned a version older than one acknowledged before it began")
    }

    func testAnIdleConnectionsOldSnapshotDoesNotKeepTheWALFromBeingCheckpointed() throws {
        let store = try open { $0.checkpointIntervalMilliseconds = 20 }
        for index in 0..<200 {
            _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("a\(index)")) { _ in bytes("x") }
        }
        // Leaves every reader connection idle with a snapshot open.
        DispatchQueue.concurrentPerform(iterations: 8) { _ in _ = try? store.read(partition: 0, bucket: "b", key: bytes("a1")) }
        for index in 0..<200 {
            _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("b\(index)")) { _ in bytes("y") }
        }
        // Once the checkpointer has run after the last commit, a checkpoint from outside
        // must be able to copy every frame: no reader may still pin an older snapshot.
        let after = store.backgroundCheckpoints
        try waitUntil("a background checkpoint after the last commit") { store.backgroundCheckpoints >= after + 1 }
        let probe = try SQLiteConnection(path: store.databasePath, readOnly: false, busyTimeoutMilliseconds: 5_000)
        defer { probe.close() }
        let checkpoint = try probe.prepare("PRAGMA wal_checkpoint(PASSIVE)")
        XCTAssertTrue(try checkpoint.step())
        let (busy, walFrames, copied) = (checkpoint.int(at: 0), checkpoint.int(at: 1), checkpoint.int(at: 2))
        checkpoint.reset()
        XCTAssertEqual(busy, 0)
        XCTAssertEqual(copied, walFrames, "frames left in the WAL: a reader snapshot still pins them")
    }

    func testTheWALRestartsAtItsBackstopUnderSteadyReadsAndWrites() throws {
        // Readers kept snapshots between reads while writes flowed, each holding a WAL read
        // mark, so the WAL never restarted and grew without end. The writer's backstop now
        // ends kept snapshots and waits (bounded) for reads in progress, so each time the WAL
        // reaches the backstop it restarts: it never starts a commit past the backstop. The
        // wait here is far longer than any read, so a backstop that gives up means something
        // held the WAL that the store should have let go. The background checkpointer runs
        // often, to compete with the backstop for SQLite's checkpoint lock.
        let backstop = 100
        let store = try open {
            $0.syncMode = .normal
            $0.walAutocheckpointPages = backstop
            $0.walBackstopWaitMilliseconds = 10_000
            $0.checkpointIntervalMilliseconds = 20
        }
        let load = SteadyLoad(store: store, readers: 3, writers: 2)
        defer { load.stop() }
        try waitUntil("20 backstop checkpoints and WAL restarts, with reads alongside") {
            let wal = store.walStatistics
            return wal.backstopCompletions >= 20 && wal.restarts >= 20 && load.reads >= 1_000
        }
        load.stop()

        let wal = store.walStatistics
        XCTAssertEqual(wal.backstopTimeouts, 0, "a backstop checkpoint gave up: something held the WAL for 10 s")
        // A completed backstop leaves the WAL for the next commit to restart (counted from
        // the WAL header), so it fills from its start again before the next backstop; where
        // a reader took a WAL mark in between, the next backstop truncates, which restarts
        // it for certain. The last backstop may not have had a commit after it.
        XCTAssertGreaterThanOrEqual(wal.restarts + wal.backstopTruncations, wal.backstopCompletions - 1, "\(wal)")
        XCTAssertLessThan(wal.framesHighWater, backstop + 2 * wal.largestCommitFrames,
                          "more than two commits started with the WAL at the backstop or past it: \(wal)")
        let frameBytes = try pageSize(store) + 24
        XCTAssertLessThanOrEqual(try walFileBytes(store), 32 + wal.framesHighWater * frameBytes,
                                 "the WAL file is longer than the frames the store counted: \(wal)")
    }

    func testTheBackstopEndsSnapshotsReadersKeptSoTheWALRestarts() throws {
        // No background checkpointer: only the backstop can end the kept snapshot.
        let store = try open {
            $0.walAutocheckpointPages = 100
            $0.walBackstopWaitMilliseconds = 1_000
            $0.checkpointIntervalMilliseconds = 3_600_000
        }
        for index in 0..<10 {
            _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("a\(index)")) { _ in bytes("x") }
        }
        // A read while the writer is idle keeps its snapshot, and its connection goes back idle.
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: bytes("a1")), bytes("x"))
        XCTAssertTrue(try restartCheckpointIsBusy(store), "the kept snapshot should hold the WAL")

        for index in 0..<1_000 where store.walStatistics.restarts == 0 {
            _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("b\(index)")) { _ in bytes("y") }
        }
        let wal = store.walStatistics
        XCTAssertGreaterThanOrEqual(wal.restarts, 1, "the WAL never restarted: \(wal)")
        XCTAssertGreaterThanOrEqual(wal.backstopCompletions, 1, "\(wal)")
        XCTAssertGreaterThanOrEqual(wal.keptSnapshotsEnded, 1, "\(wal)")
        XCTAssertEqual(wal.backstopTimeouts, 0, "\(wal)")
    }

    func testAfterALongReadTheBackstopRestartsTheWALAndCutsTheFileBack() throws {
        let limit = 600_000
        let store = try open {
            $0.walAutocheckpointPages = 100
            $0.walBackstopWaitMilliseconds = 50
            $0.walSizeLimitBytes = limit
            $0.checkpointIntervalMilliseconds = 3_600_000
        }
        let frameBytes = try pageSize(store) + 24
        // A read outside the store's pool: the backstop can only wait for it, and give up.
        let longRead = try SQLiteConnection(path: store.databasePath, readOnly: true, busyTimeoutMilliseconds: 5_000)
        defer { longRead.close() }
        try longRead.exec("BEGIN")
        _ = try longRead.queryText("SELECT count(*) FROM kv")

        var index = 0
        func write() throws {
            _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("k\(index)")) { _ in bytes("v") }
            index += 1
        }
        while index < 5_000, store.walStatistics.frames * frameBytes <= 2 * limit { try write() }
        var wal = store.walStatistics
        XCTAssertGreaterThan(wal.frames * frameBytes, 2 * limit, "\(wal)")
        XCTAssertGreaterThanOrEqual(wal.backstopTimeouts, 1, "\(wal)")
        XCTAssertEqual(wal.restarts, 0, "the WAL restarted under a read that uses it: \(wal)")
        XCTAssertGreaterThan(try walFileBytes(store), limit)

        try longRead.exec("COMMIT")
        let end = index + 1_000
        while index < end, store.walStatistics.restarts == 0 { try write() }
        wal = store.walStatistics
        XCTAssertEqual(wal.restarts, 1, "the WAL did not restart after the read ended: \(wal)")
        XCTAssertGreaterThanOrEqual(wal.backstopCompletions, 1, "\(wal)")
        // The first commit after the restart cut the file back to the limit.
        XCTAssertLessThanOrEqual(try walFileBytes(store), limit)
    }

    func testTheBackgroundCheckpointerRunsAfterCommits() throws {
        let store = try open { $0.checkpointIntervalMilliseconds = 20 }
        let before = store.backgroundCheckpoints
        _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("k")) { _ in bytes("v") }
        try waitUntil("a checkpoint after the commit") { store.backgroundCheckpoints > before }
    }

    func testCloseReturnsAfterEveryQueuedWritesCompletionRan() throws {
        let store = try open()
        let completed = Atomic<Int>(0)
        for index in 0..<2_000 {
            store.update(partition: index % 8, bucket: "b", key: bytes("k\(index)"), transform: { _ in bytes("v") }) { result in
                if case .success = result { completed.add(1, ordering: .relaxed) }
            }
        }
        store.close()
        XCTAssertEqual(completed.load(ordering: .relaxed), 2_000)
    }

    func testCompletionsKnowTheyMustNotWaitForWrites() throws {
        // A completion that waited for another write would deadlock the completion queue,
        // so `updateAndWait` traps there. The check must see the completion queue's thread,
        // and let a plain thread wait.
        let store = try open()
        let seen = Mutex<Bool?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.update(partition: 0, bucket: "b", key: bytes("k"), transform: { _ in bytes("v") }) { _ in
            seen.withLock { $0 = store.isInsideWriterOrCompletion }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + testWaitTimeout), .success)
        XCTAssertEqual(seen.withLock { $0 }, true)
        XCTAssertFalse(store.isInsideWriterOrCompletion)
    }

    private func pageSize(_ store: ReplicaStore) throws -> Int {
        let probe = try SQLiteConnection(path: store.databasePath, readOnly: true, busyTimeoutMilliseconds: 5_000)
        defer { probe.close() }
        return try XCTUnwrap(Int(try probe.queryText("PRAGMA page_size") ?? ""))
    }

    private func walFileBytes(_ store: ReplicaStore) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: store.databasePath + "-wal")
        return try XCTUnwrap(attributes[.size] as? Int)
    }

    /// Whether a RESTART checkpoint from outside the store finds a reader in the WAL.
    private func restartCheckpointIsBusy(_ store: ReplicaStore) throws -> Bool {
        let probe = try SQLiteConnection(path: store.databasePath, readOnly: false, busyTimeoutMilliseconds: 0)
        defer { probe.close() }
        return try probe.queryText("PRAGMA wal_checkpoint(RESTART)") == "1"
    }

    private func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(30)
        while !condition() {
            guard Date() < deadline else {
                XCTFail("timed out waiting for \(what)")
                throw CancellationError()
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}

/// Reads and writes from threads of their own until stopped: writers wait for each write,
/// readers read the keys being written, both kinds of read, as the network threads do.
/// Dedicated threads, not a dispatch queue, so that all of them run at once on any machine.
private final class SteadyLoad: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let running = DispatchGroup()
    private let readCount = Atomic<Int>(0)

    init(store: ReplicaStore, readers: Int, writers: Int) {
        for writer in 0..<writers {
            spawn { [self] index in
                _ = try? store.updateAndWait(partition: index % 8, bucket: "b", key: bytes("k\(writer)-\(index % 5_000)")) { _ in
                    bytes(String(repeating: "v", count: 100))
                }
            }
        }
        for _ in 0..<readers {
            spawn { [self] index in
                let key = bytes("k\(index % 2)-\(index % 5_000)")
                if index % 2 == 0 {
                    _ = try? store.read(partition: index % 8, bucket: "b", key: key)
                } else {
                    _ = try? store.readIfIdle(partition: index % 8, bucket: "b", key: key)
                }
                readCount.add(1, ordering: .relaxed)
            }
        }
    }

    /// Reads done so far.
    var reads: Int { readCount.load(ordering: .relaxed) }

    /// Runs `step(0)`, `step(1)`, … on a new thread until stopped.
    private func spawn(_ step: @escaping @Sendable (Int) -> Void) {
        running.enter()
        Thread { [self] in
            var index = 0
            while !stopping.load(ordering: .relaxed) {
                step(index)
                index += 1
            }
            running.leave()
        }.start()
    }

    /// Stops every thread and waits for them. Idempotent.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        XCTAssertEqual(running.wait(timeout: .now() + testWaitTimeout), .success, "the load threads did not stop")
    }
}
