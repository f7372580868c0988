import QuorumCore
import XCTest

/// The version 3 encodings (typed buckets) committed under `Tests/Fixtures/format-v3`
/// decode to the values below, and today's encoders write them byte for byte.
final class FormatV3FixtureTests: XCTestCase {
    func testTypedBucketPropsWithATTLDecode() throws {
        let bytes = try FormatFixtures.bytes("bucket-props-datatype", version: 3)
        XCTAssertEqual(bytes.first, 3)
        let props = try BucketProps(decoding: bytes)
        XCTAssertEqual(props.datatype, .set)
        XCTAssertEqual(props.ttlSeconds, 3600)
        XCTAssertEqual(props, Self.setProps)
        XCTAssertEqual(Self.setProps.encoded(), bytes, "bucket-props-datatype: today's encoder writes other bytes")
    }

    func testTypedBucketPropsWithoutATTLDecode() throws {
        let bytes = try FormatFixtures.bytes("bucket-props-datatype-no-ttl", version: 3)
        let props = try BucketProps(decoding: bytes)
        XCTAssertEqual(props.datatype, .map)
        XCTAssertNil(props.ttlSeconds)
        XCTAssertEqual(props, Self.mapProps)
        XCTAssertEqual(Self.mapProps.encoded(), bytes, "bucket-props-datatype-no-ttl: today's encoder writes other bytes")
    }

    /// A bucket without a datatype keeps its older bytes: version 2 with a ttl, else 1.
    func testUntypedPropsKeepTheirOlderVersions() {
        var props = Self.setProps
        props.datatype = nil
        XCTAssertEqual(props.encoded().first, 2)
        props.ttlSeconds = nil
        XCTAssertEqual(props.encoded().first, 1)
    }

    static let setProps = BucketProps(
        n: 3, r: .quorum, w: .quorum, conflict: .lww, version: FormatV2.propsWithTTL.version, ttlSeconds: 3600, datatype: .set)
    static let mapProps = BucketProps(
        n: 3, r: .quorum, w: .quorum, conflict: .lww, version: FormatV2.propsWithTTL.version, ttlSeconds: nil, datatype: .map)
}
