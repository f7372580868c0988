import Dispatch
import Foundation
import Synchronization
import XCTest

@testable import QuorumStorage

final class ReplicaStoreTests: StoreTestCase {
    // MARK: - Round trips and encoding

    func testSmallAndLargeBlobsRoundTripAndLargeOnesAreCompressed() throws {
        let store = try openStore()
        let small = bytes("hello, replica")
        let large = [UInt8](repeating: 0, count: 0) + (0..<100_000).map { UInt8($0 % 7) }
        let noisy = noiseBytes(count: 8192, seed: 42)

        XCTAssertEqual(try store.updateAndWait(partition: 1, bucket: "b", key: bytes("small")) { _ in small }, small)
        XCTAssertEqual(try store.updateAndWait(partition: 1, bucket: "b", key: bytes("large")) { _ in large }, large)
        XCTAssertEqual(try store.updateAndWait(partition: 1, bucket: "b", key: bytes("noisy")) { _ in noisy }, noisy)

        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("small")), small)
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("large")), large)
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("noisy")), noisy)
        XCTAssertNil(try store.read(partition: 1, bucket: "b", key: bytes("absent")))
        XCTAssertNil(try store.read(partition: 2, bucket: "b", key: bytes("small")), "partitions are separate")

        let storedSmall = try XCTUnwrap(try store.storedBytes(partition: 1, bucket: "b", key: bytes("small")))
        XCTAssertEqual(storedSmall, [StoredBlob.rawTag] + small, "below the threshold: raw")
        let storedLarge = try XCTUnwrap(try store.storedBytes(partition: 1, bucket: "b", key: bytes("large")))
        XCTAssertEqual(storedLarge.first, StoredBlob.lz4Tag)
        XCTAssertLessThan(storedLarge.count, large.count / 10, "a repetitive 100 KB blob should shrink a lot")
        let storedNoisy = try XCTUnwrap(try store.storedBytes(partition: 1, bucket: "b", key: bytes("noisy")))
        XCTAssertEqual(storedNoisy.first, StoredBlob.rawTag, "incompressible data stays raw")
        XCTAssertEqual(storedNoisy.count, noisy.count + 1)
    }

    func testEmptyKeyAndEmptyBlobRoundTrip() throws {
        let store = try openStore()
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: []) { _ in [] }, [])
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: []), [])
        XCTAssertEqual(try store.keyCount(), 1)
    }

    func testTransformSeesPreviousValueAndNilMeansNoChange() throws {
        let store = try openStore()
        let key = bytes("counter")
        let seen = Mutex<[[UInt8]?]>([])
        for _ in 0..<3 {
            _ = try store.updateAndWait(partition: 3, bucket: "b", key: key) { current in
                seen.withLock { $0.append(current) }
                return (current ?? []) + [UInt8((current ?? []).count)]
            }
        }
        XCTAssertEqual(seen.withLock { $0 }, [nil, [0], [0, 1]])
        let unchanged = try store.updateAndWait(partition: 3, bucket: "b", key: key) { _ in nil }
        XCTAssertEqual(unchanged, [0, 1, 2], "nil from the transform returns the current blob")
        XCTAssertNil(try store.updateAndWait(partition: 3, bucket: "b", key: bytes("never")) { _ in nil })
        XCTAssertEqual(try store.keyCount(), 1, "a nil transform on an absent key writes nothing")
    }

    // MARK: - Group commit

    func testTransformErrorFailsOnlyItsOperationAndTheGroupCommits() throws {
        let store = try openStore()
        let gate = WriterGate.block(store)
        let before = store.committedTransactions
        let collector = ResultCollector()
        let key = bytes("k")
        store.update(partition: 1, bucket: "b", key: key, transform: { _ in [1] }, completion: collector.completion(for: 0))
        store.update(partition: 1, bucket: "b", key: bytes("bad"), transform: { _ in throw TransformFailure(reason: "nope") },
                     completion: collector.completion(for: 1))
        // Sees the first write of this group, though it isn't committed yet.
        store.update(partition: 1, bucket: "b", key: key, transform: { current in (current ?? []) + [2] },
                     completion: collector.completion(for: 2))
        gate.release()
        let results = collector.waitAll()

        XCTAssertEqual(try results[0]?.get(), [1])
        XCTAssertThrowsError(try results[1]?.get()) { error in
            XCTAssertEqual(error as? TransformFailure, TransformFailure(reason: "nope"))
        }
        XCTAssertEqual(try results[2]?.get(), [1, 2])
        XCTAssertEqual(store.committedTransactions - before, 2, "the gate's transaction, then one for all three writes")
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: key), [1, 2])
        XCTAssertNil(try store.read(partition: 1, bucket: "b", key: bytes("bad")))
    }

    func testConcurrentUpdatesAllCompleteInFewTransactions() throws {
        let store = try openStore()
        let threads = 8
        let perThread = 250
        let total = threads * perThread

        // Free-running: writers and the writer thread race; group commit must still batch.
        let before = store.committedTransactions
        let collector = ResultCollector()
        let completions = (0..<total).map { collector.completion(for: $0) }
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in 0..<perThread {
                let index = thread * perThread + i
                store.update(partition: index % 4, bucket: "load", key: bytes("key-\(index)"),
                             transform: { _ in bytes("value-\(index)") }, completion: completions[index])
            }
        }
        let results = collector.waitAll()
        XCTAssertEqual(results.count, total)
        for (index, result) in results {
            XCTAssertEqual(try result.get(), bytes("value-\(index)"))
        }
        let transactions = store.committedTransactions - before
        print("group commit: \(total) concurrent writes in \(transactions) transactions")
        XCTAssertLessThan(transactions, total / 4, "\(transactions) transactions for \(total) writes: group commit isn't batching")
        XCTAssertEqual(try store.keyCount(), total)
        for index in 0..<total {
            XCTAssertEqual(try store.read(partition: index % 4, bucket: "load", key: bytes("key-\(index)")),
                           bytes("value-\(index)"))
        }

        // Queued behind a held writer: exactly ceil(total / groupCommitOperationsMax) groups.
        let gate = WriterGate.block(store)
        let afterGate = store.committedTransactions
        let second = ResultCollector()
        let secondCompletions = (0..<total).map { second.completion(for: $0) }
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in 0..<perThread {
                let index = thread * perThread + i
                store.update(partition: 0, bucket: "load", key: bytes("key-\(index)"),
                             transform: { current in (current ?? []) + [1] }, completion: secondCompletions[index])
            }
        }
        gate.release()
        XCTAssertTrue(second.waitAll().values.allSatisfy { (try? $0.get()) != nil })
        let groupMax = store.options.groupCommitOperationsMax
        XCTAssertEqual(store.committedTransactions - afterGate, 1 + (total + groupMax - 1) / groupMax)
    }

    func testFailedTransactionFailsEveryWriteInTheGroup() throws {
        var options = StoreOptions()
        options.busyTimeoutMilliseconds = 50
        let store = try openStore(options)
        _ = try store.updateAndWait(partition: 0, bucket: "b", key: [1]) { _ in [1] }
        // Another connection holds the write lock, so the writer's BEGIN IMMEDIATE fails with SQLITE_BUSY.
        let intruder = try SQLiteConnection(path: store.databasePath, readOnly: false, busyTimeoutMilliseconds: 50)
        defer { intruder.close() }
        try intruder.exec("BEGIN IMMEDIATE")
        let collector = ResultCollector()
        for index in 0..<3 {
            store.update(partition: 0, bucket: "b", key: [2, UInt8(index)], transform: { _ in [2] },
                         completion: collector.completion(for: index))
        }
        for (_, result) in collector.waitAll() {
            XCTAssertThrowsError(try result.get()) { error in
                guard case .sqlite(let code, let message)? = error as? StoreError else {
                    return XCTFail("expected a SQLite error, got \(error)")
                }
                XCTAssertEqual(code, 5, "SQLITE_BUSY")
                XCTAssertTrue(message.contains("only one quorumkv process"), message)
            }
        }
        try intruder.exec("ROLLBACK")
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: [3]) { _ in [3] }, [3], "the writer recovers")
        XCTAssertEqual(try store.keyCount(), 2)
    }

    // MARK: - Bounds and isolation

    func testFullQueueFailsAtOnceWithOverloaded() throws {
        var options = StoreOptions()
        options.writeQueueOperationsMax = 3  // the gate's write, in the writer, counts too
        let store = try openStore(options)
        let gate = WriterGate.block(store)
        let collector = ResultCollector()
        for index in 0..<2 {
            store.update(partition: 0, bucket: "b", key: [UInt8(index)], transform: { _ in [1] },
                         completion: collector.completion(for: index))
        }
        let rejected = Mutex<Result<[UInt8]?, any Error>?>(nil)
        store.update(partition: 0, bucket: "b", key: [9], transform: { _ in [1] },
                     completion: { result in rejected.withLock { $0 = result } })
        let rejection = try XCTUnwrap(rejected.withLock { $0 }, "overload must be reported before update returns")
        XCTAssertThrowsError(try rejection.get()) { error in
            XCTAssertTrue((error as? StoreError)?.isOverloaded == true, "got \(error)")
            XCTAssertTrue((error as? StoreError)?.message.contains("retry") == true)
        }
        gate.release()
        XCTAssertEqual(gate.finished.wait(timeout: .now() + testWaitTimeout), .success)
        for (_, result) in collector.waitAll() { XCTAssertEqual(try result.get(), [1]) }
        XCTAssertNil(try store.read(partition: 0, bucket: "b", key: [9]))
        XCTAssertEqual(try store.updateAndWait(partition: 0, bucket: "b", key: [9]) { _ in [2] }, [2], "room again after draining")
    }

    func testReadsProceedWhileTheWriterHoldsATransaction() throws {
        let store = try openStore()
        _ = try store.updateAndWait(partition: 1, bucket: "b", key: bytes("a")) { _ in bytes("old") }

        let gate = WriterGate.block(store)
        let readDone = DispatchSemaphore(value: 0)
        let blockerEntered = DispatchSemaphore(value: 0)
        let collector = ResultCollector()
        // One group: overwrite "a" (uncommitted), then hold the transaction open until a read finishes.
        store.update(partition: 1, bucket: "b", key: bytes("a"), transform: { _ in bytes("new") },
                     completion: collector.completion(for: 0))
        store.update(partition: 1, bucket: "b", key: bytes("c"), transform: { _ in
            blockerEntered.signal()
            let sawRead = readDone.wait(timeout: .now() + testWaitTimeout) == .success
            return bytes(sawRead ? "read-finished-first" : "timed-out")
        }, completion: collector.completion(for: 1))
        gate.release()

        XCTAssertEqual(blockerEntered.wait(timeout: .now() + testWaitTimeout), .success)
        // The writer is inside an open transaction that has already rewritten "a".
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("a")), bytes("old"),
                       "readers see the last committed state")
        XCTAssertNil(try store.read(partition: 1, bucket: "b", key: bytes("c")))
        readDone.signal()

        let results = collector.waitAll()
        XCTAssertEqual(try results[1]?.get(), bytes("read-finished-first"))
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("a")), bytes("new"))
    }

    func testConcurrentReadersShareASmallPool() throws {
        var options = StoreOptions()
        options.readerConnections = 1
        let store = try openStore(options)
        for index in 0..<50 {
            _ = try store.updateAndWait(partition: 0, bucket: "b", key: [UInt8(index)]) { _ in [UInt8(index)] }
        }
        let mismatches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for index in 0..<50 where (try? store.read(partition: 0, bucket: "b", key: [UInt8(index)])) != [UInt8(index)] {
                mismatches.add(1, ordering: .relaxed)
            }
        }
        XCTAssertEqual(mismatches.load(ordering: .relaxed), 0)
    }

    // MARK: - Corruption

    func testCorruptStoredBlobsGiveCorruptNotACrash() throws {
        var store = try openStore()
        for name in ["unknown-tag", "huge-length", "garbage-lz4", "empty", "short-lz4", "fine"] {
            _ = try store.updateAndWait(partition: 5, bucket: "b", key: bytes(name)) { _ in bytes("ok") }
        }
        store.close()

        let raw = try SQLiteConnection(path: store.databasePath, readOnly: false, busyTimeoutMilliseconds: 1000)
        try raw.exec("UPDATE kv SET state = x'07ff' WHERE key = CAST('unknown-tag' AS BLOB)")
        try raw.exec("UPDATE kv SET state = x'01ffffffff00' WHERE key = CAST('huge-length' AS BLOB)")
        try raw.exec("UPDATE kv SET state = x'01000000400102030405' WHERE key = CAST('garbage-lz4' AS BLOB)")
        try raw.exec("UPDATE kv SET state = x'' WHERE key = CAST('empty' AS BLOB)")
        try raw.exec("UPDATE kv SET state = x'010000' WHERE key = CAST('short-lz4' AS BLOB)")
        raw.close()

        store = try openStore()
        for name in ["unknown-tag", "huge-length", "garbage-lz4", "empty", "short-lz4"] {
            XCTAssertStoreError(try store.read(partition: 5, bucket: "b", key: bytes(name)), matches: { $0.isCorrupt }, name)
        }
        XCTAssertEqual(try store.read(partition: 5, bucket: "b", key: bytes("fine")), bytes("ok"))

        // A write to a corrupt row fails alone; the rest of its group commits.
        let gate = WriterGate.block(store)
        let collector = ResultCollector()
        store.update(partition: 5, bucket: "b", key: bytes("huge-length"), transform: { _ in bytes("x") },
                     completion: collector.completion(for: 0))
        store.update(partition: 5, bucket: "b", key: bytes("fine"), transform: { _ in bytes("still") },
                     completion: collector.completion(for: 1))
        gate.release()
        let results = collector.waitAll()
        XCTAssertThrowsError(try results[0]?.get()) { error in
            let storeError = error as? StoreError
            XCTAssertEqual(storeError?.isCorrupt, true, "got \(error)")
            XCTAssertTrue(storeError?.message.contains("huge-length".utf8.map { String(format: "%02x", $0) }.joined()) == true,
                          "the message names the row: \(error)")
        }
        XCTAssertEqual(try results[1]?.get(), bytes("still"))
        XCTAssertStoreError(try store.scan(partition: 5, after: nil, limit: 100), matches: { $0.isCorrupt })
    }

    func testOversizedBlobFailsWithTooLarge() throws {
        var options = StoreOptions()
        options.blobBytesMax = 1000
        let store = try openStore(options)
        XCTAssertStoreError(
            try store.updateAndWait(partition: 0, bucket: "b", key: [1]) { _ in [UInt8](repeating: 1, count: 1001) },
            matches: { if case .tooLarge = $0 { return true } else { return false } })
        XCTAssertNil(try store.read(partition: 0, bucket: "b", key: [1]))
    }

    // MARK: - Lifecycle

    func testDataSurvivesCloseAndReopen() throws {
        var options = StoreOptions()
        options.syncMode = .normal
        var store = try openStore(options)
        let large = (0..<50_000).map { UInt8($0 % 13) }
        _ = try store.updateAndWait(partition: 1, bucket: "b", key: bytes("small")) { _ in bytes("v1") }
        _ = try store.updateAndWait(partition: 2, bucket: "b", key: bytes("large")) { _ in large }
        try store.putBucketProps(bucket: "b", blob: [9, 9])
        try store.setMetaValue("node-id", "n1")
        store.close()
        store.close()  // idempotent

        XCTAssertStoreError(try store.read(partition: 1, bucket: "b", key: bytes("small")), matches: { $0 == .closed })
        XCTAssertStoreError(try store.updateAndWait(partition: 1, bucket: "b", key: [1]) { _ in [1] }, matches: { $0 == .closed })
        XCTAssertStoreError(try store.setMetaValue("x", "y"), matches: { $0 == .closed })

        store = try openStore()
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("small")), bytes("v1"))
        XCTAssertEqual(try store.read(partition: 2, bucket: "b", key: bytes("large")), large)
        XCTAssertEqual(try store.allBucketProps().map(\.bucket), ["b"])
        XCTAssertEqual(try store.metaValue("node-id"), "n1")
        XCTAssertEqual(try store.keyCount(), 2)
    }

    func testCloseCommitsQueuedWrites() throws {
        let store = try openStore()
        let gate = WriterGate.block(store)
        let collector = ResultCollector()
        for index in 0..<10 {
            store.update(partition: 0, bucket: "b", key: [UInt8(index)], transform: { _ in [UInt8(index)] },
                         completion: collector.completion(for: index))
        }
        let closed = DispatchSemaphore(value: 0)
        Thread.detachNewThread { store.close(); closed.signal() }
        // Wait until close has stopped intake (new writes fail at once with .closed).
        let deadline = Date().addingTimeInterval(30)
        var accepted = 10
        while Date() < deadline {
            let outcome = Mutex<Result<[UInt8]?, any Error>?>(nil)
            let completion = collector.completion(for: accepted)
            store.update(partition: 0, bucket: "b", key: [UInt8(accepted % 256), 1], transform: { _ in [0] },
                         completion: { result in outcome.withLock { $0 = result }; completion(result) })
            accepted += 1
            if case .failure(let error)? = outcome.withLock({ $0 }), (error as? StoreError) == .closed { break }
        }
        gate.release()
        XCTAssertEqual(closed.wait(timeout: .now() + testWaitTimeout), .success, "close never returned")
        let results = collector.waitAll()
        for index in 0..<10 {
            XCTAssertEqual(try results[index]?.get(), [UInt8(index)], "queued before close: committed")
        }
        XCTAssertThrowsError(try results[accepted - 1]?.get(), "after close: rejected")
    }

    // MARK: - Bucket props, meta, scan

    func testBucketPropsAndMetaRoundTrip() throws {
        let store = try openStore()
        XCTAssertTrue(try store.allBucketProps().isEmpty)
        XCTAssertNil(try store.metaValue("cluster"))
        try store.putBucketProps(bucket: "users", blob: [1, 2, 3])
        try store.putBucketProps(bucket: "carts", blob: [4])
        try store.putBucketProps(bucket: "users", blob: [5, 6])
        let props = try store.allBucketProps()
        XCTAssertEqual(props.map(\.bucket), ["carts", "users"])
        XCTAssertEqual(props.map(\.blob), [[4], [5, 6]])
        try store.setMetaValue("cluster", "alpha")
        try store.setMetaValue("cluster", "beta")
        XCTAssertEqual(try store.metaValue("cluster"), "beta")
        XCTAssertEqual(try store.keyCount(), 0, "props and meta are not keys")
    }

    func testScanPagesThroughOnePartitionInOrder() throws {
        let store = try openStore()
        var expected: [(bucket: String, key: [UInt8])] = []
        for bucket in ["b2", "a1", "b10"] {
            for key in [[], [0], [0, 0], [1], [255], bytes("zz")] as [[UInt8]] {
                _ = try store.updateAndWait(partition: 7, bucket: bucket, key: key) { _ in [UInt8(key.count)] + key }
                _ = try store.updateAndWait(partition: 8, bucket: bucket, key: key) { _ in [99] }
                expected.append((bucket, key))
            }
        }
        expected.sort { lhs, rhs in
            lhs.bucket != rhs.bucket ? Array(lhs.bucket.utf8).lexicographicallyPrecedes(rhs.bucket.utf8)
                : lhs.key.lexicographicallyPrecedes(rhs.key)
        }

        var seen: [(bucket: String, key: [UInt8])] = []
        var after: (bucket: String, key: [UInt8])?
        var pages = 0
        while true {
            let page = try store.scan(partition: 7, after: after, limit: 4)
            if page.isEmpty { break }
            pages += 1
            XCTAssertLessThanOrEqual(page.count, 4)
            for row in page {
                XCTAssertEqual(row.blob, [UInt8(row.key.count)] + row.key, "blob belongs to partition 7's row")
                seen.append((row.bucket, row.key))
            }
            after = (page.last!.bucket, page.last!.key)
        }
        XCTAssertEqual(pages, 5)
        XCTAssertEqual(seen.map(\.bucket), expected.map(\.bucket))
        XCTAssertEqual(seen.map(\.key), expected.map(\.key))
        XCTAssertTrue(try store.scan(partition: 9, after: nil, limit: 10).isEmpty)
        XCTAssertTrue(try store.scan(partition: 7, after: nil, limit: 0).isEmpty)
    }

    func testNewerSchemaVersionIsRefused() throws {
        let store = try openStore()
        store.close()
        let raw = try SQLiteConnection(path: store.databasePath, readOnly: false, busyTimeoutMilliseconds: 1000)
        try raw.exec("PRAGMA user_version=\(Schema.version + 1)")
        raw.close()
        XCTAssertStoreError(try ReplicaStore(directory: directory.path, logger: testLogger()),
                            matches: { $0.message.contains("newer") })
    }
}
