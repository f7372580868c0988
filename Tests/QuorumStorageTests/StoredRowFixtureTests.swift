import Foundation
import QuorumCore
import XCTest

@testable import QuorumStorage

/// The rows of `Tests/Fixtures/format-v1` and the values they hold (the same as
/// `FormatV1` in QuorumCoreTests; see the README beside the fixtures).
enum StoredRowV1 {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/format-v1")

    static func fixture(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: root.appendingPathComponent(name + ".hex"), encoding: .utf8)
        let digits = Array(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
        return try stride(from: 0, to: digits.count, by: 2).map { index in
            guard index + 1 < digits.count, let byte = UInt8(String(digits[index]) + String(digits[index + 1]), radix: 16) else {
                throw StoreError.corrupt("\(name).hex is not hex")
            }
            return byte
        }
    }

    static let actorA = "node-a.loyq5j0g"
    static let actorB = "node-b.loyt4p1c"
    static let vclockValue = Array(String(repeating: "QuorumKV format v1 fixture. ", count: 8).utf8)

    static let vclockState = KeyState(
        clock: VersionVector(entries: [
            .init(actor: actorA, counter: 300, touchedMilliseconds: 1_700_000_000_123),
            .init(actor: actorB, counter: 2, touchedMilliseconds: 1_700_000_000_456),
        ]),
        siblings: [
            Sibling(
                dot: Dot(actor: actorA, counter: 300), value: vclockValue, contentType: "text/plain; charset=utf-8",
                isTombstone: false, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_123, logical: 0)),
            Sibling(
                dot: Dot(actor: actorB, counter: 2), value: [], contentType: "", isTombstone: true,
                timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_456, logical: 7)),
        ])

    static let lwwState = KeyState(siblings: [
        Sibling(
            dot: Dot(actor: actorA, counter: 1), value: Array(#"{"name":"alice"}"#.utf8), contentType: "application/json",
            isTombstone: false, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_001_000, logical: 2))
    ])
}

/// The stored rows version 1 wrote (`Tests/Fixtures/format-v1/row-*.hex`) still read,
/// through the `StoredBlob` header and through a store opened over them. Never edit or
/// regenerate the fixtures; see their README.
final class StoredRowFixtureTests: XCTestCase {
    private func assertSameRow(_ stored: [UInt8], _ fixture: [UInt8], _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        guard stored != fixture else { return }
        let offset = zip(stored, fixture).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(stored.count, fixture.count)
        XCTFail(
            "\(name): today's code stores other bytes than the fixture (first difference at byte \(offset)). Don't edit "
                + "the fixture: give the encoding a new version in Formats and a decoder for it beside the old one.",
            file: file, line: line)
    }

    private func state(ofRow name: String) throws -> KeyState {
        let row = try StoredRowV1.fixture(name)
        let blob = try row.withUnsafeBytes { try StoredBlob.decode($0, blobBytesMax: 1 << 20) }
        return try KeyState(decoding: blob)
    }

    func testRawRowsDecodeAndReEncodeByteForByte() throws {
        let vclock = try StoredRowV1.fixture("row-vclock-raw")
        XCTAssertEqual(vclock.first, StoredBlob.rawTag)
        XCTAssertEqual(try state(ofRow: "row-vclock-raw"), StoredRowV1.vclockState)
        assertSameRow(StoredBlob.encode(StoredRowV1.vclockState.encoded(), compressionThresholdBytes: Int.max), vclock, "row-vclock-raw")

        let lww = try StoredRowV1.fixture("row-lww-raw")
        XCTAssertEqual(lww.first, StoredBlob.rawTag)
        XCTAssertEqual(try state(ofRow: "row-lww-raw"), StoredRowV1.lwwState)
        assertSameRow(StoredBlob.encode(StoredRowV1.lwwState.encoded(), compressionThresholdBytes: Int.max), lww, "row-lww-raw")
    }

    /// The LZ4 block itself is not compared with a fresh compression: another liblz4 may
    /// compress the same input differently, and every one of them inflates it the same.
    func testLZ4RowDecodesFieldByField() throws {
        let row = try StoredRowV1.fixture("row-vclock-lz4")
        let blob = StoredRowV1.vclockState.encoded()
        XCTAssertEqual(row.first, StoredBlob.lz4Tag)
        XCTAssertEqual(Array(row[1..<5]), [0, 0, UInt8(blob.count >> 8), UInt8(blob.count & 0xFF)], "the original length, big-endian")
        XCTAssertLessThan(row.count, blob.count + 1, "the row is compressed")
        let state = try state(ofRow: "row-vclock-lz4")
        XCTAssertEqual(state.clock.entries.map(\.actor), [StoredRowV1.actorA, StoredRowV1.actorB])
        XCTAssertEqual(state.clock.entries.map(\.counter), [300, 2])
        XCTAssertEqual(state.siblings.map(\.dot), [Dot(actor: StoredRowV1.actorA, counter: 300), Dot(actor: StoredRowV1.actorB, counter: 2)])
        XCTAssertEqual(state.siblings.map(\.isTombstone), [false, true])
        XCTAssertEqual(state.siblings.map(\.contentType), ["text/plain; charset=utf-8", ""])
        XCTAssertEqual(state.siblings[0].value, StoredRowV1.vclockValue)
        XCTAssertEqual(state, StoredRowV1.vclockState)

        let fresh = StoredBlob.encode(blob, compressionThresholdBytes: 0)
        assertSameRow(Array(fresh.prefix(StoredBlob.lz4HeaderBytes)), Array(row.prefix(StoredBlob.lz4HeaderBytes)), "row-vclock-lz4 header")
        XCTAssertEqual(try fresh.withUnsafeBytes { try StoredBlob.decode($0, blobBytesMax: 1 << 20) }, blob)
    }

    /// A node upgraded over a data directory of version 1 rows, hints and bucket props reads them all.
    func testAStoreOverVersion1RowsReadsThem() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store = try ReplicaStore(directory: directory.path, logger: testLogger())
        let path = store.databasePath
        store.close()

        func hex(_ bytes: [UInt8]) -> String { "x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'" }
        let raw = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 1000)
        let rows = ["vclock-raw": "row-vclock-raw", "vclock-lz4": "row-vclock-lz4", "lww": "row-lww-raw"]
        for (key, name) in rows {
            let state = hex(try StoredRowV1.fixture(name))
            try raw.exec("INSERT INTO kv(partition, bucket, key, state) VALUES(3, 'users', \(hex(Array(key.utf8))), \(state))")
        }
        let hintState = hex(try StoredRowV1.fixture("row-vclock-lz4"))
        try raw.exec(
            "INSERT INTO hints(id, target, bucket, key, mode, state, created) "
                + "VALUES(7, 'node-b', 'users', \(hex(Array("alice".utf8))), 1, \(hintState), 1700000003000)")
        let props = hex(try StoredRowV1.fixture("bucket-props"))
        try raw.exec("INSERT INTO bucket_props(bucket, props) VALUES('users', \(props))")
        raw.close()

        store = try ReplicaStore(directory: directory.path, logger: testLogger())
        defer { store.close() }
        let expected = ["vclock-raw": StoredRowV1.vclockState, "vclock-lz4": StoredRowV1.vclockState, "lww": StoredRowV1.lwwState]
        for (key, expected) in expected {
            let blob = try XCTUnwrap(try store.read(partition: 3, bucket: "users", key: Array(key.utf8)), key)
            XCTAssertEqual(try KeyState(decoding: blob), expected, key)
        }
        let hints = try store.allHints()
        XCTAssertEqual(hints.count, 1)
        XCTAssertEqual(hints.first?.target, "node-b")
        XCTAssertEqual(hints.first?.mode, 1)
        XCTAssertEqual(hints.first?.createdMilliseconds, 1_700_000_003_000)
        XCTAssertEqual(try hints.first.map { try KeyState(decoding: $0.blob) }, StoredRowV1.vclockState)
        let storedProps = try store.allBucketProps()
        XCTAssertEqual(storedProps.map(\.bucket), ["users"])
        let decoded = try BucketProps(decoding: try XCTUnwrap(storedProps.first?.blob))
        XCTAssertEqual(decoded.n, 5)
        XCTAssertEqual(decoded.conflict, .vclock)
    }

    /// The anti-entropy batch in the merge-batch frame fixture inflates to the repair-batch fixture.
    func testMergeBatchFrameInflatesToTheRepairBatch() throws {
        let bytes = try StoredRowV1.fixture("frame-request-merge-batch")
        let frame = try XCTUnwrap(Frame.decode(bytes, frameBytesMax: 1 << 20)).frame
        guard case .mergeBatch(let compressed, let originalLength) = try PeerRequest(decoding: frame.payload) else {
            return XCTFail("not a mergeBatch")
        }
        let batch = try compressed.withUnsafeBytes { try LZ4Codec.decompress($0, originalLength: originalLength) }
        XCTAssertEqual(batch, try StoredRowV1.fixture("repair-batch"))
        let entries = try RepairBatch(decoding: batch).entries
        XCTAssertEqual(entries.map(\.state), [StoredRowV1.vclockState, StoredRowV1.lwwState])
    }
}
