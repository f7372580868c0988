import Foundation
import QuorumCore
import XCTest

/// `BucketProps.consistency` in JSON and in `joined` (issue #17); the binary form is
/// checked against fixtures in `FormatV4FixtureTests`.
final class BucketPropsStrongTests: XCTestCase {
    private func stamp(_ milliseconds: UInt64) -> HLCTimestamp { HLCTimestamp(physicalMilliseconds: milliseconds, logical: 0) }

    func testJSONCarriesConsistency() throws {
        let props = BucketProps(n: 5, version: stamp(10), consistency: .strong)
        let json = try JSONEncoder().encode(props)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"consistency\":\"strong\""))
        XCTAssertEqual(try JSONDecoder().decode(BucketProps.self, from: json), props)
    }

    func testJSONWithoutConsistencyIsEventual() throws {
        var object = try JSONSerialization.jsonObject(
            with: JSONEncoder().encode(BucketProps(n: 2, version: stamp(10), consistency: .strong))) as! [String: Any]
        object["consistency"] = nil
        let decoded = try JSONDecoder().decode(BucketProps.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(decoded.consistency, .eventual)
        XCTAssertEqual(decoded.n, 2)
    }

    func testJSONWithAnUnknownConsistencyFails() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(BucketProps())) as! [String: Any]
        object["consistency"] = "linearizable"
        XCTAssertThrowsError(try JSONDecoder().decode(BucketProps.self, from: JSONSerialization.data(withJSONObject: object)))
    }

    /// A newer copy that never saw the creation (a node that changed r before the strong
    /// props reached it) does not make the bucket eventual again.
    func testStrongIsStickyAgainstANewerEventualCopy() {
        let strong = BucketProps(n: 3, version: stamp(100), consistency: .strong)
        let newer = BucketProps(n: 3, r: .one, version: stamp(200))
        for joined in [strong.joined(with: newer), newer.joined(with: strong)] {
            XCTAssertEqual(joined.consistency, .strong)
            XCTAssertEqual(joined.r, .one, "the newest copy's other fields still win")
            XCTAssertEqual(joined.version, stamp(200))
        }
    }

    func testEventualCopiesStayEventual() {
        let a = BucketProps(n: 3, version: stamp(100))
        let b = BucketProps(n: 4, version: stamp(200), datatype: .counter)
        XCTAssertEqual(a.joined(with: b).consistency, .eventual)
        XCTAssertEqual(a.joined(with: b).datatype, .counter)
    }

    /// A strong creation racing a typed one: strong wins and the datatype goes, whatever
    /// the order and whichever copy is newer.
    func testStrongWinsOverAConcurrentDatatype() {
        let strong = BucketProps(n: 3, version: stamp(100), consistency: .strong)
        let typed = BucketProps(n: 3, version: stamp(150), datatype: .set)
        let older = BucketProps(n: 3, version: stamp(50), datatype: .counter)
        for joined in [strong.joined(with: typed), typed.joined(with: strong), older.joined(with: strong)] {
            XCTAssertEqual(joined.consistency, .strong)
            XCTAssertNil(joined.datatype)
        }
    }

    /// Every order of joining the same copies settles on the same props, as gossip needs.
    func testJoinIsOrderIndependent() {
        let copies = [
            BucketProps(n: 3, version: stamp(100)),
            BucketProps(n: 3, version: stamp(300), ttlSeconds: 60),
            BucketProps(n: 3, version: stamp(200), datatype: .map),
            BucketProps(n: 3, version: stamp(150), consistency: .strong),
            BucketProps(n: 5, version: stamp(300)),
        ]
        var results: Set<[UInt8]> = []
        for permutation in permutations(copies) {
            results.insert(permutation.dropFirst().reduce(permutation[0]) { $0.joined(with: $1) }.encoded())
        }
        XCTAssertEqual(results.count, 1, "joining in different orders gave \(results.count) different props")
        let settled = try? BucketProps(decoding: results.first ?? [])
        XCTAssertEqual(settled?.consistency, .strong)
        XCTAssertNil(settled?.datatype)
    }

    private func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index -> [[T]] in
            var rest = items
            let first = rest.remove(at: index)
            return permutations(rest).map { [first] + $0 }
        }
    }
}

/// The same order-independence for typed buckets alone: two copies with equal versions
/// and different fields used to settle by their whole encodings, which the sticky
/// datatype changes once one of them has taken it in.
final class BucketPropsJoinTieTests: XCTestCase {
    func testEqualVersionsSettleTheSameWhicheverTookTheDatatypeFirst() {
        let stamp = HLCTimestamp(physicalMilliseconds: 300, logical: 0)
        let withTTL = BucketProps(n: 3, version: stamp, ttlSeconds: 60)
        let wider = BucketProps(n: 5, version: stamp)
        let typed = BucketProps(n: 3, version: HLCTimestamp(physicalMilliseconds: 200, logical: 0), datatype: .map)
        let first = withTTL.joined(with: wider).joined(with: typed)
        let second = wider.joined(with: typed).joined(with: withTTL)
        XCTAssertEqual(first, second)
        XCTAssertEqual(first.datatype, .map)
    }
}
