import QuorumCore
import XCTest

@testable import QuorumNode

/// What a props change may do to a strong bucket (`StrongBucketRules`), and what it may
/// not, each refusal naming the field at fault.
final class StrongBucketRulesTests: XCTestCase {
    private let strong = BucketProps(n: 3, version: HLCTimestamp(physicalMilliseconds: 10, logical: 0), consistency: .strong)
    private let eventual = BucketProps(n: 3, version: HLCTimestamp(physicalMilliseconds: 10, logical: 0))

    private func refusal(
        _ update: BucketPropsUpdate, current: BucketProps, configured: Bool = true, file: StaticString = #filePath, line: UInt = #line
    ) -> (name: String, message: String)? {
        do {
            try StrongBucketRules.check(update, bucket: "b", current: current, configured: configured)
            return nil
        } catch {
            guard case .badParameter(let name, let message) = error else {
                XCTFail("expected bad_parameter, got \(error)", file: file, line: line)
                return nil
            }
            return (name, message)
        }
    }

    func testACreationMayBeStrongWithItsN() {
        XCTAssertNil(refusal(BucketPropsUpdate(n: 5, consistency: .strong), current: .defaults, configured: false))
        XCTAssertNil(refusal(BucketPropsUpdate(consistency: .strong), current: strong), "repeating the creation is fine")
        XCTAssertNil(refusal(BucketPropsUpdate(n: 3, consistency: .strong), current: strong), "the same n is no change")
        XCTAssertNil(refusal(BucketPropsUpdate(consistency: .eventual), current: eventual))
    }

    func testAnExistingBucketCannotChangeItsConsistency() {
        let toStrong = refusal(BucketPropsUpdate(consistency: .strong), current: eventual)
        XCTAssertEqual(toStrong?.name, "consistency")
        XCTAssertTrue(toStrong?.message.contains("fixed when it is created") ?? false)
        XCTAssertEqual(refusal(BucketPropsUpdate(consistency: .eventual), current: strong)?.name, "consistency")
        XCTAssertEqual(
            refusal(BucketPropsUpdate(consistency: .strong), current: BucketProps(datatype: .counter))?.name, "consistency",
            "a typed bucket can't become strong")
    }

    func testAStrongBucketRefusesNChangesTTLsAndDatatypes() {
        XCTAssertEqual(refusal(BucketPropsUpdate(n: 5), current: strong)?.name, "n")
        XCTAssertEqual(refusal(BucketPropsUpdate(ttlSeconds: 60), current: strong)?.name, "ttl_seconds")
        XCTAssertEqual(refusal(BucketPropsUpdate(ttlSeconds: 60, consistency: .strong), current: .defaults, configured: false)?.name, "ttl_seconds")
        XCTAssertNil(refusal(BucketPropsUpdate(ttlSeconds: 0), current: strong), "removing no ttl is no change")
        XCTAssertEqual(refusal(BucketPropsUpdate(datatype: .set), current: strong)?.name, "datatype")
        XCTAssertEqual(refusal(BucketPropsUpdate(datatype: .map, consistency: .strong), current: .defaults, configured: false)?.name, "datatype")
    }

    func testRWAndConflictAreAcceptedOnAStrongBucket() {
        XCTAssertNil(refusal(BucketPropsUpdate(r: .all, w: .one, conflict: .vclock), current: strong))
    }

    func testEventualBucketsAreUntouched() {
        XCTAssertNil(refusal(BucketPropsUpdate(n: 5, ttlSeconds: 60, datatype: .set), current: eventual))
    }
}
