import XCTest

@testable import QuorumCore

/// The typed keys' hint and repair batch encodings (issue #16) committed under
/// `Tests/Fixtures/format-v2` (`hint-typed.hex`, `repair-batch-typed.hex`, written by hand
/// from the layouts in `Hint.swift` and `RepairBatch.swift`) decode field by field, and
/// today's encoders write them byte for byte. Never edit or regenerate these files.
final class TypedFormatFixtureTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testTheTypedHintDecodesFieldByField() throws {
        let fixture = try FormatFixtures.bytes("hint-typed", version: 2)
        XCTAssertEqual(fixture.first, 2, "hint version 2")
        let hint = try Hint(decoding: fixture)
        XCTAssertEqual(hint.id, 12)
        XCTAssertEqual(hint.target, "node-b")
        XCTAssertEqual(hint.bucket, "tags")
        XCTAssertEqual(hint.key, bytes("cart"))
        XCTAssertEqual(hint.createdMilliseconds, 1_700_000_000_000)
        guard case .typed(let delta) = hint.payload else { return XCTFail("not a typed hint") }
        XCTAssertEqual(delta.datatype, .set)
        XCTAssertTrue(delta.context.covers(Dot(actor: "node-a.1", counter: 2)))
        XCTAssertTrue(delta.context.covers(Dot(actor: "node-c.1", counter: 5)))
        XCTAssertFalse(delta.context.covers(Dot(actor: "node-c.1", counter: 4)), "a cloud dot, not a run")
        XCTAssertEqual(delta.members[bytes("apple")]?.dots, [Dot(actor: "node-a.1", counter: 2)])
        XCTAssertEqual(delta.members[bytes("pear")], .empty, "a remove: the member listed with no dots")
        XCTAssertEqual(hint.byteSize, fixture.count)
        assertSameEncoding(hint.encoded(), fixture, "hint-typed")
    }

    func testTheTypedRepairBatchDecodesFieldByField() throws {
        let fixture = try FormatFixtures.bytes("repair-batch-typed", version: 2)
        XCTAssertEqual(fixture.first, 2, "repair batch version 2")
        let batch = try RepairBatch(decoding: fixture)
        XCTAssertEqual(batch.entries.count, 2)
        let plain = batch.entries[0]
        XCTAssertEqual(plain.bucket, "plain")
        XCTAssertEqual(plain.key, bytes("p"))
        XCTAssertEqual(plain.payload, .versions(KeyState(), mode: .vclock))
        let typed = batch.entries[1]
        XCTAssertEqual(typed.bucket, "hits")
        XCTAssertEqual(typed.key, bytes("page"))
        guard case .typed(let counter) = typed.payload else { return XCTFail("not a typed entry") }
        XCTAssertEqual(counter.datatype, .counter)
        XCTAssertEqual(counter.opIDs.entries.map(\.id), [bytes("op-1")])
        XCTAssertEqual(try counter.counterValue(), 7 - 2 + 1)
        XCTAssertEqual(counter.members[TypedState.counterMember]?.dots, [Dot(actor: "node-a.1", counter: 3), Dot(actor: "node-b.1", counter: 1)])
        assertSameEncoding(batch.encoded(), fixture, "repair-batch-typed")
    }
}
