import XCTest

@testable import QuorumCore

/// The committed truncation encodings (`Tests/Fixtures/format-v2`: membership state version 2 and
/// its truncation points) decode to the values they were made from, and today's encoders write those bytes.
final class TruncationFixtureTests: XCTestCase {
    static let points = TruncationPoints(
        buckets: ["cache": HLCTimestamp(physicalMilliseconds: 1_700_000_007_000, logical: 2)],
        everyBucket: HLCTimestamp(physicalMilliseconds: 1_700_000_006_000, logical: 0))

    func testTruncationPoints() throws {
        let bytes = try FormatFixtures.bytes("truncation-points", version: 2)
        XCTAssertEqual(try TruncationPoints(decoding: bytes, bucketsMax: 10), Self.points)
        assertSameEncoding(Self.points.encoded(), bytes, "truncation-points")
    }

    func testMembershipStateVersion2CarriesTruncationPoints() throws {
        let bytes = try FormatFixtures.bytes("membership-state", version: 2)
        let state = try MembershipState(decoding: bytes)
        XCTAssertEqual(state.truncations, Self.points)
        XCTAssertEqual(state.members, FormatV1.membership.members)
        XCTAssertEqual(state.bucketProps, FormatV1.membership.bucketProps)
        let expected = FormatV1.membership.truncating(nil, at: Self.points.everyBucket!)
            .truncating("cache", at: Self.points.buckets["cache"]!)
        XCTAssertEqual(state, expected)
        assertSameEncoding(expected.encoded(), bytes, "membership-state v2")
    }

    /// Until a bucket is truncated, a state is written as version 1, which nodes of the
    /// previous release read.
    func testAStateWithoutTruncationsIsStillWrittenAsVersion1() throws {
        XCTAssertEqual(FormatV1.membership.encoded().first, 1)
        assertSameEncoding(FormatV1.membership.encoded(), try FormatFixtures.bytes("membership-state"), "membership-state v1")
    }

    func testTruncationPointsRefuseBadInput() {
        var unsorted = ByteWriter()
        unsorted.write(UInt8(1))
        unsorted.write(false)
        unsorted.writeVarInt(2)
        for name in ["b", "a"] {
            unsorted.writeString(name)
            HLCTimestamp.zero.encode(into: &unsorted)
        }
        XCTAssertThrowsError(try TruncationPoints(decoding: unsorted.bytes, bucketsMax: 10))
        XCTAssertThrowsError(try TruncationPoints(decoding: Self.points.encoded(), bucketsMax: 0), "more buckets than allowed")
        XCTAssertThrowsError(try TruncationPoints(decoding: [2, 0, 0], bucketsMax: 10)) { error in
            XCTAssertEqual(error as? WireError, .unsupportedVersion(2))
        }
    }
}
