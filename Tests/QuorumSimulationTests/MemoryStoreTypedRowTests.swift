import QuorumCore
import XCTest

@testable import QuorumSimulation

/// The simulator's plain-value views of its store skip typed keys' rows instead of
/// trapping on them (issue #16): the checks of plain keys read a typed header as none of
/// theirs, and the typed checks read it with `readTyped`.
final class MemoryStoreTypedRowTests: XCTestCase {
    func testATypedHeaderIsNoPlainState() throws {
        var store = MemoryStore()
        let header = TypedHeader(datatype: .set).encoded()
        _ = try store.updateTyped(partition: 0, bucket: "tags", key: [1], members: .all) { _ throws(KVError) in
            TypedRowChanges(header: header, members: [MemberChange(member: Array("a".utf8), payload: [0])])
        }
        _ = store.commit(partition: 0, bucket: "plain", key: [2], blob: KeyState().encoded())
        XCTAssertNil(store.read(partition: 0, bucket: "tags", key: [1]), "a typed row reads as no plain state")
        XCTAssertEqual(store.read(partition: 0, bucket: "plain", key: [2]), KeyState())
        XCTAssertEqual(store.all().map(\.row.isTyped), [false, true])
        XCTAssertEqual(store.all().compactMap(\.row.state), [KeyState()])
        XCTAssertEqual(store.readTyped(partition: 0, bucket: "tags", key: [1], members: .all)?.header, header)
    }
}
