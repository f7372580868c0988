import Dispatch
import Foundation
import Synchronization
import XCTest

@testable import QuorumStorage

/// Reader connections keep their read transaction between reads while nothing is
/// committed; these check that a read never misses an acknowledged write because of it,
/// that kept snapshots don't stop the WAL from being copied back, and the background
/// checkpointer and completion queue around them.
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

    private func open(_ configure: (inout StoreOptions) -> Void = { _ in }) throws -> ReplicaStore {
        var options = StoreOptions()
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

    func testTheWALStaysSmallUnderSteadyReadsAndWrites() throws {
        // Under continuous writes the WAL restarts from its start after the writer's backstop
        // checkpoint (at `walAutocheckpointPages`). Readers that kept snapshots between reads
        // while writes flowed held WAL read marks all the time, so neither that checkpoint
        // nor the restart could complete and the file grew without end. Writes here dirty
        // about 10 000 pages; with the backstop at 1 000 the WAL must stay near 4 MiB.
        let store = try open {
            $0.syncMode = .normal
            $0.walAutocheckpointPages = 1_000
        }
        let writesDone = Atomic<Bool>(false)
        let readers = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: readers) {
                var index = 0
                while !writesDone.load(ordering: .relaxed) {
                    _ = try? store.read(partition: index % 8, bucket: "b", key: bytes("k\(index % 3_000)"))
                    index += 1
                }
            }
        }
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            for index in 0..<3_000 {
                _ = try? store.updateAndWait(partition: index % 8, bucket: "b", key: bytes("k\(writer)-\(index)")) { _ in
                    bytes(String(repeating: "v", count: 100))
                }
            }
        }
        writesDone.store(true, ordering: .relaxed)
        XCTAssertEqual(readers.wait(timeout: .now() + testWaitTimeout), .success)
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: store.databasePath + "-wal")[.size] as? Int) ?? 0
        XCTAssertLessThan(walBytes, 12 * 1024 * 1024, "the WAL grew to \(walBytes) bytes: it never restarted")
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
