import XCTest

@testable import QuorumCore

/// The version 2 encodings (expiry) committed under `Tests/Fixtures/format-v2` decode to
/// the values they were made from, field by field, and today's encoders write them byte
/// for byte. Never edit or regenerate these files (see the README there).
final class FormatV2FixtureTests: XCTestCase {
    func testExpiringRowDecodesFieldByField() throws {
        let row = try FormatFixtures.bytes("row-expiry-raw", version: 2)
        XCTAssertEqual(row.first, 0, "a raw-tagged StoredBlob")
        XCTAssertEqual(row[1], 2, "KeyState version 2")
        let state = try KeyState(decoding: Array(row.dropFirst()))
        XCTAssertEqual(state.siblings.count, 3)
        let expiring = state.siblings[0]
        XCTAssertEqual(expiring.dot, Dot(actor: FormatV1.actorA, counter: 4))
        XCTAssertFalse(expiring.isTombstone)
        XCTAssertEqual(expiring.value, Array("session".utf8))
        XCTAssertEqual(expiring.expiry.deadlineMilliseconds, 1_700_000_060_000)
        XCTAssertEqual(expiring.expiry.stamp, HLCTimestamp(physicalMilliseconds: 1_700_000_000_000, logical: 0))
        let persisted = state.siblings[1]
        XCTAssertNil(persisted.expiry.deadlineMilliseconds, "PERSIST: no deadline, but a stamp")
        XCTAssertEqual(persisted.expiry.stamp, HLCTimestamp(physicalMilliseconds: 1_700_000_030_000, logical: 3))
        let stripped = state.siblings[2]
        XCTAssertTrue(stripped.isTombstone, "an expired version stripped to its tombstone form")
        XCTAssertEqual(stripped.value, [])
        XCTAssertEqual(stripped.expiry.deadlineMilliseconds, 1_700_000_001_000)
        XCTAssertEqual(state, FormatV2.expiringState)
        assertSameEncoding([0] + FormatV2.expiringState.encoded(), row, "row-expiry-raw")
    }

    func testBucketPropsWithADefaultTTLDecode() throws {
        let bytes = try FormatFixtures.bytes("bucket-props-ttl", version: 2)
        XCTAssertEqual(bytes.first, 2)
        let props = try BucketProps(decoding: bytes)
        XCTAssertEqual(props.n, 3)
        XCTAssertEqual(props.conflict, .lww)
        XCTAssertEqual(props.ttlSeconds, 3600)
        XCTAssertEqual(props, FormatV2.propsWithTTL)
        assertSameEncoding(FormatV2.propsWithTTL.encoded(), bytes, "bucket-props-ttl")
    }

    /// A coordinateWrite with a deadline: the version 1 layout plus the deadline at the end.
    func testCoordinateWriteWithADeadlineDecodes() throws {
        let bytes = try FormatFixtures.bytes("frame-request-coordinate-write-deadline", version: 2)
        let decoded = try XCTUnwrap(try Frame.decode(bytes, frameBytesMax: Limits.defaults.frameBytesMax))
        XCTAssertEqual(decoded.frame.version, 1, "the peer protocol stays at 1 (see Formats)")
        let request = try PeerRequest(decoding: decoded.frame.payload)
        XCTAssertEqual(request, FormatV2.writeWithDeadline)
        guard case .coordinateWrite(_, _, let intent, _, _, _) = request else { return XCTFail("not a coordinateWrite") }
        XCTAssertEqual(intent.expiresAtMilliseconds, 1_700_000_010_000)
        assertSameEncoding(
            Frame(kind: .request, requestID: 9, payload: FormatV2.writeWithDeadline.encoded()).encoded(), bytes,
            "frame-request-coordinate-write-deadline")
    }

    /// States and props without expiry keep writing version 1, so a node that reads only
    /// version 1 still reads them during a rolling upgrade.
    func testValuesWithoutExpiryStillEncodeAsVersion1() {
        XCTAssertEqual(FormatV1.vclockState.encoded().first, 1)
        XCTAssertEqual(FormatV1.bucketProps.encoded().first, 1)
        var touched = FormatV1.lwwState
        touched.siblings[0].expiry = ExpiryRegister(deadlineMilliseconds: nil, stamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0))
        XCTAssertEqual(touched.encoded().first, 2, "a persisted register is not .none: it needs version 2")
        XCTAssertEqual(try KeyState(decoding: touched.encoded()), touched)
    }
}

/// The values the version 2 fixtures encode.
enum FormatV2 {
    static let expiringState = KeyState(
        clock: VersionVector(entries: [
            .init(actor: FormatV1.actorA, counter: 4, touchedMilliseconds: 1_700_000_000_000),
            .init(actor: FormatV1.actorB, counter: 9, touchedMilliseconds: 1_700_000_000_500),
        ]),
        siblings: [
            Sibling(
                dot: Dot(actor: FormatV1.actorA, counter: 4), value: Array("session".utf8), contentType: "text/plain",
                isTombstone: false, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_000, logical: 0),
                expiry: ExpiryRegister(
                    deadlineMilliseconds: 1_700_000_060_000, stamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_000, logical: 0))),
            Sibling(
                dot: Dot(actor: FormatV1.actorB, counter: 8), value: Array("kept".utf8), contentType: "text/plain",
                isTombstone: false, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_200, logical: 1),
                expiry: ExpiryRegister(deadlineMilliseconds: nil, stamp: HLCTimestamp(physicalMilliseconds: 1_700_000_030_000, logical: 3))),
            Sibling(
                dot: Dot(actor: FormatV1.actorB, counter: 9), value: [], contentType: "", isTombstone: true,
                timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_500, logical: 0),
                expiry: ExpiryRegister(
                    deadlineMilliseconds: 1_700_000_001_000, stamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_500, logical: 0))),
        ])

    static let propsWithTTL = BucketProps(
        n: 3, r: .quorum, w: .quorum, conflict: .lww, version: HLCTimestamp(physicalMilliseconds: 1_700_000_005_000, logical: 0),
        ttlSeconds: 3600)

    static let writeWithDeadline = PeerRequest.coordinateWrite(
        bucket: "sessions", key: Array("s1".utf8),
        intent: WriteIntent(value: Array("v".utf8), contentType: "text/plain", expiresAtMilliseconds: 1_700_000_010_000),
        mode: .lww, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_004_000, logical: 0), ifAbsent: false)

    /// Prints the hex of every fixture; used once to write the files.
    static func hex(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 32).map { start in
            bytes[start..<min(start + 32, bytes.count)].map { String(format: "%02x", $0) }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
