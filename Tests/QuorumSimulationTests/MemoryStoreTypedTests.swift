import QuorumCore
import XCTest

@testable import QuorumSimulation

/// The simulator's store keeps typed keys (issue #16) with the SQLite store's semantics:
/// header in the key's row, members beside it, written in one commit, deleted with it.
final class MemoryStoreTypedTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func member(_ name: String, _ payload: String) -> StoredMember {
        StoredMember(member: bytes(name), payload: bytes(payload))
    }

    private func change(_ name: String, _ payload: String?) -> MemberChange {
        MemberChange(member: bytes(name), payload: payload.map(bytes))
    }

    @discardableResult
    private func put(
        _ store: inout MemoryStore, key: String = "set", header: String, _ changes: [MemberChange],
        selection: MemberSelection = .all
    ) throws -> (stored: StoredTyped, old: UInt64?, new: UInt64) {
        try store.updateTyped(partition: 1, bucket: "b", key: bytes(key), members: selection) { _ throws(KVError) in
            TypedRowChanges(header: bytes(header), members: changes)
        }
    }

    func testUpdateCreatesHeaderAndMembersAndReadsSelectThem() throws {
        var store = MemoryStore()
        XCTAssertNil(store.readTyped(partition: 1, bucket: "b", key: bytes("set"), members: .all))
        let written = try put(&store, header: "h1", [change("c", "3"), change("a", "1"), change("b", "2")],
                              selection: .listed([bytes("b")]))
        XCTAssertEqual(written.stored, StoredTyped(header: bytes("h1"), members: [member("b", "2")]))
        XCTAssertNil(written.old)
        XCTAssertEqual(written.new, StableHash.hash(bytes("h1")), "the header's digest goes to the tree like any state's")

        XCTAssertEqual(store.readTyped(partition: 1, bucket: "b", key: bytes("set"), members: .all),
                       StoredTyped(header: bytes("h1"), members: [member("a", "1"), member("b", "2"), member("c", "3")]))
        XCTAssertEqual(store.readTyped(partition: 1, bucket: "b", key: bytes("set"), members: .listed([bytes("c"), bytes("x"), bytes("a")])),
                       StoredTyped(header: bytes("h1"), members: [member("a", "1"), member("c", "3")]))
        XCTAssertEqual(store.blob(partition: 1, bucket: "b", key: bytes("set")), bytes("h1"))
        XCTAssertEqual(store.scan(partition: 1).map(\.row.blob), [bytes("h1")], "scans list headers, not members")
        XCTAssertEqual(store.memberRowCount, 3)
    }

    func testNilDeletesAMemberAndTheTransformSeesTheSelection() throws {
        var store = MemoryStore()
        try put(&store, header: "h1", [change("a", "1"), change("b", "2")])
        var seen: StoredTyped?
        let written = try store.updateTyped(partition: 1, bucket: "b", key: bytes("set"), members: .listed([bytes("a")])) {
            current throws(KVError) in
            seen = current
            return TypedRowChanges(header: bytes("h2"), members: [change("a", nil), change("c", "3")])
        }
        XCTAssertEqual(seen, StoredTyped(header: bytes("h1"), members: [member("a", "1")]))
        XCTAssertEqual(written.stored, StoredTyped(header: bytes("h2"), members: []))
        XCTAssertEqual(written.old, StableHash.hash(bytes("h1")))
        XCTAssertEqual(store.readTyped(partition: 1, bucket: "b", key: bytes("set"), members: .all),
                       StoredTyped(header: bytes("h2"), members: [member("b", "2"), member("c", "3")]))
    }

    func testRefusalStoresNothing() throws {
        var store = MemoryStore()
        try put(&store, header: "h1", [change("a", "1")])
        let commits = store.commitCount
        XCTAssertThrowsError(try store.updateTyped(partition: 1, bucket: "b", key: bytes("set"), members: .all) { _ throws(KVError) in
            throw KVError.badParameter(name: "member", message: "refused")
        })
        XCTAssertEqual(store.commitCount, commits)
        XCTAssertEqual(store.readTyped(partition: 1, bucket: "b", key: bytes("set"), members: .all),
                       StoredTyped(header: bytes("h1"), members: [member("a", "1")]))
    }

    func testDeleteTakesTheMembersWithIt() throws {
        var store = MemoryStore()
        try put(&store, key: "gone", header: "tombstone", [change("a", "1"), change("b", "2")])
        try put(&store, key: "kept", header: "live", [change("a", "1")])
        XCTAssertNil(store.delete(partition: 1, bucket: "b", key: bytes("gone"), matches: { $0 == self.bytes("other") }))
        XCTAssertEqual(store.memberRowCount, 3, "a refused compare-and-delete keeps the members")
        XCTAssertEqual(store.delete(partition: 1, bucket: "b", key: bytes("gone"), matches: { $0 == self.bytes("tombstone") }),
                       StableHash.hash(bytes("tombstone")))
        XCTAssertNil(store.readTyped(partition: 1, bucket: "b", key: bytes("gone"), members: .all))
        XCTAssertEqual(store.memberRowCount, 1)
        let fresh = try put(&store, key: "gone", header: "h", [])
        XCTAssertEqual(fresh.stored, StoredTyped(header: bytes("h"), members: []), "a rewritten key has no old members")
    }
}
