import QuorumCore
import XCTest

/// The version 4 encodings (strong buckets) committed under `Tests/Fixtures/format-v4`
/// decode to the values below, and today's encoders write them byte for byte.
final class FormatV4FixtureTests: XCTestCase {
    func testStrongBucketPropsDecode() throws {
        let bytes = try FormatFixtures.bytes("bucket-props-strong", version: 4)
        XCTAssertEqual(bytes.first, 4)
        let props = try BucketProps(decoding: bytes)
        XCTAssertEqual(props.consistency, .strong)
        XCTAssertEqual(props.n, 3)
        XCTAssertNil(props.ttlSeconds)
        XCTAssertNil(props.datatype)
        XCTAssertEqual(props, Self.strongProps)
        XCTAssertEqual(Self.strongProps.encoded(), bytes, "bucket-props-strong: today's encoder writes other bytes")
    }

    func testStrongBucketPropsWithEveryFieldDecode() throws {
        let bytes = try FormatFixtures.bytes("bucket-props-strong-every-field", version: 4)
        let props = try BucketProps(decoding: bytes)
        XCTAssertEqual(props.n, 5)
        XCTAssertEqual(props.r, .all)
        XCTAssertEqual(props.ttlSeconds, 3600)
        XCTAssertEqual(props.datatype, .set)
        XCTAssertEqual(props.consistency, .strong)
        XCTAssertEqual(props, Self.everyField)
        XCTAssertEqual(Self.everyField.encoded(), bytes, "bucket-props-strong-every-field: today's encoder writes other bytes")
    }

    /// Eventual buckets keep the bytes they wrote before strong buckets existed: 3 typed,
    /// 2 with a ttl, else 1 (the earlier fixtures check those bytes).
    func testEventualPropsKeepTheirOlderVersions() {
        var props = Self.everyField
        props.consistency = .eventual
        XCTAssertEqual(props.encoded().first, 3)
        props.datatype = nil
        XCTAssertEqual(props.encoded().first, 2)
        props.ttlSeconds = nil
        XCTAssertEqual(props.encoded().first, 1)
    }

    func testAnUnknownConsistencyByteIsRefused() throws {
        var bytes = try FormatFixtures.bytes("bucket-props-strong", version: 4)
        bytes[bytes.count - 1] = 7
        XCTAssertThrowsError(try BucketProps(decoding: bytes)) { error in
            XCTAssertTrue("\(error)".contains("consistency"), "\(error)")
        }
    }

    static let strongProps = BucketProps(
        n: 3, r: .quorum, w: .quorum, conflict: .lww, version: FormatV2.propsWithTTL.version, consistency: .strong)
    static let everyField = BucketProps(
        n: 5, r: .all, w: .quorum, conflict: .lww, version: FormatV2.propsWithTTL.version, ttlSeconds: 3600, datatype: .set,
        consistency: .strong)
}
