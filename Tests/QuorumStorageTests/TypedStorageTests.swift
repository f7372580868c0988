import Dispatch
import Foundation
import QuorumCore
import Synchronization
import XCTest

@testable import QuorumStorage

/// Typed keys stored decomposed (issue #16): a header in `kv`, one row per member in
/// `members`, written together in the writer's group commit.
final class TypedStorageTests: StoreTestCase {
    /// Writes `header` and `changes` whatever is stored.
    @discardableResult
    private func put(
        _ store: ReplicaStore, key: String = "set", header: String, _ changes: [MemberChange],
        selection: MemberSelection = .all
    ) throws -> StoredTyped {
        try store.updateTypedAndWait(partition: 1, bucket: "b", key: bytes(key), members: selection) { _ in
            TypedRowChanges(header: bytes(header), members: changes)
        }
    }

    private func read(_ store: ReplicaStore, key: String = "set", _ selection: MemberSelection) throws -> StoredTyped? {
        try store.readTyped(partition: 1, bucket: "b", key: bytes(key), members: selection)
    }

    private func memberRows(_ path: String) throws -> Int {
        let raw = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: 1000)
        defer { raw.close() }
        return Int(try raw.queryText("SELECT count(*) FROM members") ?? "-1") ?? -1
    }

    // MARK: - Round trips

    func testUpdateCreatesHeaderAndMembersAndReadsSelectThem() throws {
        let store = try openStore()
        XCTAssertNil(try read(store, .all), "an absent key reads as nil")
        let seen = Mutex<StoredTyped??>(nil)
        let stored = try store.updateTypedAndWait(partition: 1, bucket: "b", key: bytes("set"), members: .listed([bytes("b")])) {
            current in
            seen.withLock { $0 = .some(current) }
            return TypedRowChanges(header: bytes("h1"), members: [change("c", "3"), change("a", "1"), change("b", "2")])
        }
        XCTAssertEqual(seen.withLock { $0 }, .some(nil), "the transform of a new key gets nil")
        XCTAssertEqual(stored, StoredTyped(header: bytes("h1"), members: [member("b", "2")]), "only the selected members come back")

        XCTAssertEqual(try read(store, .all), StoredTyped(header: bytes("h1"), members: [member("a", "1"), member("b", "2"), member("c", "3")]))
        XCTAssertEqual(try read(store, .listed([bytes("c"), bytes("zz"), bytes("a"), bytes("c")])),
                       StoredTyped(header: bytes("h1"), members: [member("a", "1"), member("c", "3")]),
                       "listed: only those that exist, each once, sorted")
        XCTAssertEqual(try read(store, .listed([])), StoredTyped(header: bytes("h1"), members: []))
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("set")), bytes("h1"), "the header is the key's state")
        XCTAssertEqual(try store.keyCount(), 1, "members are not keys")
        XCTAssertEqual(try store.scan(partition: 1, after: nil, limit: 10).map(\.blob), [bytes("h1")], "scans list headers only")
    }

    func testTransformSeesSelectedMembersAndNilDeletesARow() throws {
        let store = try openStore()
        try put(store, header: "h1", [change("a", "1"), change("b", "2"), change("c", "3")])
        let seen = Mutex<StoredTyped?>(nil)
        let after = try store.updateTypedAndWait(
            partition: 1, bucket: "b", key: bytes("set"), members: .listed([bytes("a"), bytes("b"), bytes("new")])
        ) { current in
            seen.withLock { $0 = current }
            return TypedRowChanges(header: bytes("h2"), members: [change("a", nil), change("new", "4"), change("c", "33")])
        }
        XCTAssertEqual(seen.withLock { $0 }, StoredTyped(header: bytes("h1"), members: [member("a", "1"), member("b", "2")]))
        XCTAssertEqual(after, StoredTyped(header: bytes("h2"), members: [member("b", "2"), member("new", "4")]),
                       "selected members after the change; c changed but was not selected")
        XCTAssertEqual(try read(store, .all), StoredTyped(header: bytes("h2"), members: [member("b", "2"), member("c", "33"), member("new", "4")]))
        try put(store, header: "h3", [change("b", nil), change("c", nil), change("new", nil), change("absent", nil)])
        XCTAssertEqual(try read(store, .all), StoredTyped(header: bytes("h3"), members: []), "the header stays when every member is gone")
        XCTAssertEqual(try memberRows(store.databasePath), 0)
    }

    func testLargePayloadsAreCompressedAndReadBack() throws {
        let store = try openStore()
        let large = [UInt8](repeating: 7, count: 20_000)
        try store.updateTypedAndWait(partition: 1, bucket: "b", key: bytes("set"), members: .all) { _ in
            TypedRowChanges(header: large, members: [MemberChange(member: bytes("m"), payload: large)])
        }
        XCTAssertEqual(try read(store, .all), StoredTyped(header: large, members: [StoredMember(member: bytes("m"), payload: large)]))
        let raw = try SQLiteConnection(path: store.databasePath, readOnly: true, busyTimeoutMilliseconds: 1000)
        defer { raw.close() }
        let storedLength = Int(try raw.queryText("SELECT length(payload) FROM members") ?? "0") ?? 0
        XCTAssertLessThan(storedLength, 1000, "a compressible payload is stored compressed")
    }

    // MARK: - Group commit

    func testRefusedTransformStoresNothingAndTheGroupCommits() throws {
        let store = try openStore()
        try put(store, header: "h1", [change("a", "1")])
        let gate = WriterGate.block(store)
        let before = store.committedTransactions
        let results = Mutex<[Int: Result<StoredTyped, any Error>]>([:])
        let group = DispatchGroup()
        func submit(_ index: Int, _ transform: @escaping @Sendable (StoredTyped?) throws -> TypedRowChanges) {
            group.enter()
            store.updateTyped(partition: 1, bucket: "b", key: bytes("set"), members: .all, transform: transform) { result in
                results.withLock { $0[index] = result }
                group.leave()
            }
        }
        submit(0) { current in
            TypedRowChanges(header: bytes("h2"), members: [MemberChange(member: bytes("b"), payload: bytes("2"))])
        }
        submit(1) { _ in throw KVError.badParameter(name: "member", message: "refused") }
        // Sees the first write of this group (header and member), though it isn't committed yet.
        submit(2) { current in
            XCTAssertEqual(current?.header, bytes("h2"))
            XCTAssertEqual(current?.members.map(\.member), [bytes("a"), bytes("b")])
            return TypedRowChanges(header: bytes("h3"), members: [MemberChange(member: bytes("c"), payload: bytes("3"))])
        }
        gate.release()
        XCTAssertEqual(group.wait(timeout: .now() + testWaitTimeout), .success)
        let outcome = results.withLock { $0 }
        XCTAssertEqual(try outcome[0]?.get().header, bytes("h2"))
        XCTAssertThrowsError(try outcome[1]?.get()) { error in
            XCTAssertEqual(error as? KVError, .badParameter(name: "member", message: "refused"))
        }
        XCTAssertEqual(try outcome[2]?.get().members.count, 3)
        XCTAssertEqual(store.committedTransactions - before, 2, "the gate's transaction, then one for all three writes")
        XCTAssertEqual(try read(store, .all)?.header, bytes("h3"))
        XCTAssertEqual(try read(store, .all)?.members, [member("a", "1"), member("b", "2"), member("c", "3")])
    }

    func testOversizedPayloadFailsOnlyItsWriteAndStoresNothing() throws {
        var options = StoreOptions()
        options.blobBytesMax = 100
        let store = try openStore(options)
        try put(store, header: "h1", [change("a", "1")])
        XCTAssertStoreError(
            try store.updateTypedAndWait(partition: 1, bucket: "b", key: bytes("set"), members: .all) { _ in
                TypedRowChanges(header: bytes("h2"), members: [
                    MemberChange(member: bytes("b"), payload: bytes("2")),
                    MemberChange(member: bytes("big"), payload: [UInt8](repeating: 1, count: 101)),
                ])
            }, matches: { if case .tooLarge = $0 { return true } else { return false } })
        XCTAssertEqual(try read(store, .all), StoredTyped(header: bytes("h1"), members: [member("a", "1")]))
    }

    // MARK: - Deletion, reopen, migration

    func testDeleteStateTakesTheMembersWithIt() throws {
        let store = try openStore()
        try put(store, key: "gone", header: "tombstone", [change("a", "1"), change("b", "2")])
        try put(store, key: "kept", header: "live", [change("a", "1")])
        let done = DispatchSemaphore(value: 0)
        let deleted = Mutex<[UInt8]??>(nil)
        store.deleteState(partition: 1, bucket: "b", key: bytes("gone"), matches: { $0 == bytes("tombstone") }) { result in
            deleted.withLock { $0 = .some(try? result.get()) }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + testWaitTimeout), .success)
        XCTAssertEqual(deleted.withLock { $0 }, .some(bytes("tombstone")))
        XCTAssertNil(try read(store, key: "gone", .all))
        XCTAssertEqual(try read(store, key: "kept", .all)?.members, [member("a", "1")])
        XCTAssertEqual(try memberRows(store.databasePath), 1, "no orphan member rows")
        // A key written again after its delete starts with no members.
        let fresh = try store.updateTypedAndWait(partition: 1, bucket: "b", key: bytes("gone"), members: .all) { current in
            XCTAssertNil(current)
            return TypedRowChanges(header: bytes("h"), members: [])
        }
        XCTAssertEqual(fresh, StoredTyped(header: bytes("h"), members: []))
    }

    func testTypedKeysSurviveCloseAndReopen() throws {
        var store = try openStore()
        try put(store, header: "h1", [change("a", "1"), change("b", "2")])
        store.close()
        store = try openStore()
        XCTAssertEqual(try read(store, .all), StoredTyped(header: bytes("h1"), members: [member("a", "1"), member("b", "2")]))
    }

    /// A version-2 file (before `members`) opens, keeps its rows and takes typed keys.
    func testVersionTwoFileIsUpgraded() throws {
        var store = try openStore()
        _ = try store.updateAndWait(partition: 1, bucket: "b", key: bytes("old")) { _ in bytes("v1") }
        store.close()
        let raw = try SQLiteConnection(path: store.databasePath, readOnly: false, busyTimeoutMilliseconds: 1000)
        try raw.exec("DROP TABLE members")
        try raw.exec("PRAGMA user_version=2")
        raw.close()

        store = try openStore()
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("old")), bytes("v1"))
        try put(store, header: "h1", [change("a", "1")])
        XCTAssertEqual(try read(store, .all), StoredTyped(header: bytes("h1"), members: [member("a", "1")]))
        store.close()
        let check = try SQLiteConnection(path: store.databasePath, readOnly: true, busyTimeoutMilliseconds: 1000)
        defer { check.close() }
        XCTAssertEqual(try check.queryText("PRAGMA user_version"), "\(Schema.version)")
        XCTAssertEqual(Schema.version, 4)
    }

    /// The header and its members come from one snapshot even while the writer commits.
    func testReadsSeeHeaderAndMembersOfOneCommit() throws {
        let store = try openStore()
        try put(store, header: "0", [change("m", "0")])
        let stop = Atomic<Bool>(false)
        let writer = Thread {
            var round = 1
            while !stop.load(ordering: .relaxed) {
                let text = "\(round)"
                _ = try? store.updateTypedAndWait(partition: 1, bucket: "b", key: bytes("set"), members: .all) { _ in
                    TypedRowChanges(header: bytes(text), members: [MemberChange(member: bytes("m"), payload: bytes(text))])
                }
                round += 1
            }
        }
        writer.start()
        defer { stop.store(true, ordering: .relaxed) }
        for _ in 0..<300 {
            let found = try XCTUnwrap(try read(store, .all))
            XCTAssertEqual(found.members, [StoredMember(member: bytes("m"), payload: found.header)])
        }
    }
}

private func member(_ name: String, _ payload: String) -> StoredMember {
    StoredMember(member: bytes(name), payload: bytes(payload))
}

private func change(_ name: String, _ payload: String?) -> MemberChange {
    MemberChange(member: bytes(name), payload: payload.map(bytes))
}
