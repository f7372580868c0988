import Dispatch
import Foundation
import QuorumCore
import Synchronization
import XCTest

@testable import QuorumStorage

/// Strong keys at rest (issue #17): a key's Paxos row in `paxos` and its commit (a
/// `StrongRecord`) in `kv`, read in one snapshot and written in one durable transaction.
final class PaxosStorageTests: StoreTestCase {
    private struct Refused: Error {}

    private static func ballot(_ milliseconds: UInt64, _ node: String = "node-a") -> PaxosBallot {
        PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: milliseconds, logical: 0), node: node)
    }

    /// A promise at `promised` and a commit of `value` at `committed`, as the acceptor stores them.
    private static func rows(promised: UInt64, committed: UInt64, value: String) -> StoredPaxos {
        StoredPaxos(AcceptorState(
            promised: ballot(promised),
            committed: PaxosCommit(ballot: ballot(committed), value: .value(bytes: bytes(value), contentType: "text/plain"))))
    }

    private func put(_ store: ReplicaStore, key: String = "k", _ rows: StoredPaxos) throws -> StoredPaxos {
        try store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes(key)) { _ in rows }
    }

    private func read(_ store: ReplicaStore, key: String = "k") throws -> StoredPaxos {
        try store.readPaxos(partition: 2, bucket: "strong", key: bytes(key))
    }

    private func paxosRows(_ path: String) throws -> Int {
        let raw = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: 1000)
        defer { raw.close() }
        return Int(try raw.queryText("SELECT count(*) FROM paxos") ?? "-1") ?? -1
    }

    // MARK: - Round trips

    func testBothRowsRoundTripAndTheTransformSeesThemAsStored() throws {
        let store = try openStore()
        XCTAssertEqual(try read(store), .absent, "a key never voted on reads as absent")
        let first = Self.rows(promised: 20, committed: 10, value: "one")
        XCTAssertNotNil(first.paxos)
        XCTAssertNotNil(first.record)
        XCTAssertEqual(try put(store, first), first)
        XCTAssertEqual(try read(store), first)
        XCTAssertEqual(try store.read(partition: 2, bucket: "strong", key: bytes("k")), first.record, "the commit is the kv row")
        XCTAssertEqual(try StoredPaxos(paxos: first.paxos, record: first.record).acceptorState().committed?.ballot, Self.ballot(10))

        let second = Self.rows(promised: 40, committed: 30, value: "two")
        let seen = Mutex<StoredPaxos?>(nil)
        let stored = try store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes("k")) { current in
            seen.withLock { $0 = current }
            return second
        }
        XCTAssertEqual(seen.withLock { $0 }, first, "the transform gets both rows as committed")
        XCTAssertEqual(stored, second)
        XCTAssertEqual(try read(store), second)
        XCTAssertEqual(try read(store, key: "other"), .absent, "rows are per key")
    }

    func testBothRowsCommitInOneTransaction() throws {
        let store = try openStore()
        let before = store.committedTransactions
        let rows = Self.rows(promised: 20, committed: 10, value: "one")
        _ = try put(store, rows)
        XCTAssertEqual(store.committedTransactions - before, 1, "the Paxos row and the kv row share one commit")
        XCTAssertEqual(try read(store), rows)
        XCTAssertEqual(try paxosRows(store.databasePath), 1)
    }

    /// A promise alone changes only the Paxos row; a commit that drops the vote changes both.
    func testRowsChangeIndependentlyAndANilRowIsDeleted() throws {
        let store = try openStore()
        let promiseOnly = StoredPaxos(AcceptorState(promised: Self.ballot(5)))
        XCTAssertNil(promiseOnly.record)
        _ = try put(store, promiseOnly)
        XCTAssertEqual(try read(store), promiseOnly)
        XCTAssertNil(try store.read(partition: 2, bucket: "strong", key: bytes("k")), "no commit, no kv row")

        let committed = Self.rows(promised: 5, committed: 5, value: "v")
        _ = try put(store, committed)
        XCTAssertEqual(try read(store), committed)

        _ = try put(store, .absent)
        XCTAssertEqual(try read(store), .absent)
        XCTAssertEqual(try paxosRows(store.databasePath), 0)
        XCTAssertEqual(try store.keyCount(), 0)
    }

    func testANilTransformWritesNothingAndAnswersTheRowsAsStored() throws {
        let store = try openStore()
        let rows = Self.rows(promised: 20, committed: 10, value: "one")
        _ = try put(store, rows)
        let answered = try store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes("k")) { _ in nil }
        XCTAssertEqual(answered, rows)
        XCTAssertEqual(try read(store), rows)
        let absent = try store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes("new")) { _ in nil }
        XCTAssertEqual(absent, .absent)
        XCTAssertEqual(try read(store, key: "new"), .absent)
        XCTAssertEqual(try paxosRows(store.databasePath), 1)
        XCTAssertEqual(try store.keyCount(), 1)
    }

    func testARefusedStepStoresNothingOfEitherRow() throws {
        let options: StoreOptions = {
            var options = StoreOptions()
            options.blobBytesMax = 1024
            return options
        }()
        let store = try openStore(options)
        let rows = Self.rows(promised: 20, committed: 10, value: "one")
        _ = try put(store, rows)

        XCTAssertThrowsError(try store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes("k")) { _ in throw Refused() }) {
            XCTAssertTrue($0 is Refused, "the transform's own error: \($0)")
        }
        XCTAssertEqual(try read(store), rows)

        // The Paxos row fits, the record does not: neither is stored.
        let big = Self.rows(promised: 60, committed: 50, value: String(repeating: "x", count: 2048))
        let smallVotes = Self.rows(promised: 60, committed: 50, value: "y").paxos
        XCTAssertStoreError(try store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes("k")) { _ in
            StoredPaxos(paxos: smallVotes, record: big.record)
        }, matches: { error in
            guard case .tooLarge(let message) = error else { return false }
            return message.contains("strong record")
        })
        XCTAssertEqual(try read(store), rows, "a refused step leaves both rows as they were")
    }

    /// The kv row goes through the row cache like any state: a point read after the step
    /// sees the new commit, and a plain update's transform gets it.
    func testTheRowCacheFollowsTheCommit() throws {
        let store = try openStore()
        _ = try store.updateAndWait(partition: 2, bucket: "strong", key: bytes("k")) { _ in bytes("cached") }
        XCTAssertEqual(try store.read(partition: 2, bucket: "strong", key: bytes("k")), bytes("cached"))
        let rows = Self.rows(promised: 20, committed: 10, value: "one")
        let seen = Mutex<StoredPaxos?>(nil)
        _ = try store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes("k")) { current in
            seen.withLock { $0 = current }
            return rows
        }
        XCTAssertEqual(seen.withLock { $0 }?.record, bytes("cached"), "the step reads the kv row through the cache")
        XCTAssertEqual(try store.read(partition: 2, bucket: "strong", key: bytes("k")), rows.record)
        let plainSaw = Mutex<[UInt8]?>(nil)
        _ = try store.updateAndWait(partition: 2, bucket: "strong", key: bytes("k")) { current in
            plainSaw.withLock { $0 = current }
            return nil
        }
        XCTAssertEqual(plainSaw.withLock { $0 }, rows.record)
        _ = try put(store, .absent)
        XCTAssertNil(try store.read(partition: 2, bucket: "strong", key: bytes("k")), "a deleted kv row leaves the cache too")
    }

    func testRowsSurviveCloseAndReopen() throws {
        var store = try openStore()
        let rows = Self.rows(promised: 20, committed: 10, value: "one")
        _ = try put(store, rows)
        store.close()
        store = try openStore()
        XCTAssertEqual(try read(store), rows)
    }

    /// What a catch-up fence asks (`.paxosFence`): bare promises carry no value and don't
    /// count; a vote or a commit does, on whichever key it is.
    func testHoldsStrongValuesCountsVotesAndCommitsNotPromises() throws {
        let store = try openStore()
        defer { store.close() }
        XCTAssertFalse(try store.holdsStrongValues())
        _ = try put(store, key: "a", StoredPaxos(AcceptorState(promised: Self.ballot(5))))
        _ = try put(store, key: "b", StoredPaxos(AcceptorState(promised: Self.ballot(6))))
        XCTAssertFalse(try store.holdsStrongValues(), "promises only")
        let vote = PaxosProposal(ballot: Self.ballot(7), value: .value(bytes: bytes("v"), contentType: "text/plain"), basedOn: nil)
        _ = try put(store, key: "c", StoredPaxos(AcceptorState(promised: Self.ballot(7), accepted: vote)))
        XCTAssertTrue(try store.holdsStrongValues(), "a vote")
        _ = try put(store, key: "c", StoredPaxos(AcceptorState(promised: Self.ballot(7))))
        XCTAssertFalse(try store.holdsStrongValues())
        _ = try put(store, key: "d", Self.rows(promised: 9, committed: 9, value: "w"))
        XCTAssertTrue(try store.holdsStrongValues(), "a commit, in the key's kv row")
    }

    /// Steps of one key from many threads, with point reads filling the row cache
    /// meanwhile: each step sees both rows as the previous one left them (none lost, none
    /// torn), as an acceptor's promise-then-vote sequence needs.
    func testConcurrentStepsOnOneKeyNeverLoseOrTearAnUpdate() throws {
        let store = try openStore()
        let threads = 4
        let stepsPerThread = 150
        let torn = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                for _ in 0..<stepsPerThread {
                    _ = try? store.updatePaxosAndWait(partition: 2, bucket: "strong", key: bytes("k")) { current in
                        let votes = current.paxos.map { Int(String(decoding: $0, as: UTF8.self)) ?? -1 } ?? 0
                        let record = current.record.map { Int(String(decoding: $0, as: UTF8.self)) ?? -1 } ?? 0
                        if votes != record { torn.add(1, ordering: .relaxed) }
                        let next = bytes(String(max(votes, record) + 1))
                        return StoredPaxos(paxos: next, record: next)
                    }
                    _ = try? store.read(partition: 2, bucket: "strong", key: bytes("k"))
                }
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + testWaitTimeout), .success)
        XCTAssertEqual(torn.load(ordering: .relaxed), 0, "a step saw the two rows of different steps")
        let expected = bytes(String(threads * stepsPerThread))
        XCTAssertEqual(try read(store), StoredPaxos(paxos: expected, record: expected), "every step counted once")
        XCTAssertEqual(try store.read(partition: 2, bucket: "strong", key: bytes("k")), expected)
    }

    // MARK: - Schema

    /// A version-3 file (before `paxos`) opens, keeps its rows and takes strong keys.
    func testVersionThreeFileIsUpgraded() throws {
        var store = try openStore()
        _ = try store.updateAndWait(partition: 1, bucket: "b", key: bytes("old")) { _ in bytes("v1") }
        store.close()
        let raw = try SQLiteConnection(path: store.databasePath, readOnly: false, busyTimeoutMilliseconds: 1000)
        try raw.exec("DROP TABLE paxos")
        try raw.exec("PRAGMA user_version=3")
        raw.close()

        var options = StoreOptions()
        options.metaAtCreation = ["created": "yes"]
        store = try openStore(options)
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("old")), bytes("v1"))
        XCTAssertNil(try store.metaValue("created"), "an upgraded file is not a new one")
        let rows = Self.rows(promised: 20, committed: 10, value: "one")
        _ = try put(store, rows)
        XCTAssertEqual(try read(store), rows)
        store.close()
        let check = try SQLiteConnection(path: store.databasePath, readOnly: true, busyTimeoutMilliseconds: 1000)
        defer { check.close() }
        XCTAssertEqual(try check.queryText("PRAGMA user_version"), "\(Schema.version)")
        XCTAssertEqual(Schema.version, 4)
    }

    /// `metaAtCreation` lands in the file that is created, and never in one that existed.
    func testCreationMetaIsWrittenOnlyWhenTheFileIsCreated() throws {
        var options = StoreOptions()
        options.metaAtCreation = ["mark": "pending", "other": "x"]
        var store = try openStore(options)
        XCTAssertEqual(try store.metaValue("mark"), "pending")
        XCTAssertEqual(try store.metaValue("other"), "x")
        try store.setMetaValue("mark", "done")
        store.close()
        store = try openStore(options)
        XCTAssertEqual(try store.metaValue("mark"), "done", "reopening an existing file writes no creation meta")
    }
}
