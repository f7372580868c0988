import XCTest

@testable import QuorumCore

final class TruncationPointsTests: XCTestCase {
    private func stamp(_ ms: UInt64, _ logical: UInt32 = 0) -> HLCTimestamp {
        HLCTimestamp(physicalMilliseconds: ms, logical: logical)
    }

    func testABucketsPointIsTheLaterOfItsOwnAndEveryBuckets() {
        let points = TruncationPoints().raising("a", to: stamp(10)).raising(nil, to: stamp(20)).raising("b", to: stamp(30))
        XCTAssertEqual(points.point(for: "a"), stamp(20))
        XCTAssertEqual(points.point(for: "b"), stamp(30))
        XCTAssertEqual(points.point(for: "never-named"), stamp(20))
        XCTAssertNil(TruncationPoints().raising("a", to: stamp(1)).point(for: "b"))
    }

    func testPointsNeverMoveBack() {
        let points = TruncationPoints().raising("a", to: stamp(10)).raising("a", to: stamp(5)).raising(nil, to: stamp(8))
            .raising(nil, to: stamp(7))
        XCTAssertEqual(points.buckets["a"], stamp(10))
        XCTAssertEqual(points.everyBucket, stamp(8))
    }

    /// Merge is a join: commutative, associative, idempotent, over random points.
    func testMergeIsAJoin() {
        var random = SplitMix64(seed: 7)
        func draw() -> TruncationPoints {
            var points = TruncationPoints()
            for _ in 0..<Int(random.next() % 4) {
                let bucket = random.next() % 3 == 0 ? nil : ["a", "b", "c"][Int(random.next() % 3)]
                points = points.raising(bucket, to: stamp(random.next() % 50, UInt32(random.next() % 3)))
            }
            return points
        }
        for _ in 0..<500 {
            let (x, y, z) = (draw(), draw(), draw())
            XCTAssertEqual(x.merged(with: y), y.merged(with: x))
            XCTAssertEqual(x.merged(with: y).merged(with: z), x.merged(with: y.merged(with: z)))
            XCTAssertEqual(x.merged(with: x), x)
            XCTAssertEqual(try TruncationPoints(decoding: x.encoded(), bucketsMax: 10), x)
        }
    }

    func testTruncatingTurnsOlderVersionsIntoTombstonesOfTheSameDot() {
        let old = Sibling(
            dot: Dot(actor: "a", counter: 1), value: [1], contentType: "text/plain", isTombstone: false, timestamp: stamp(10))
        let new = Sibling(
            dot: Dot(actor: "b", counter: 1), value: [2], contentType: "text/plain", isTombstone: false, timestamp: stamp(30))
        let state = KeyState(clock: VersionVector(entries: [.init(actor: "a", counter: 1), .init(actor: "b", counter: 1)]), siblings: [old, new])
        let truncated = state.truncated(before: stamp(20))
        XCTAssertEqual(truncated.clock, state.clock)
        XCTAssertEqual(truncated.liveSiblings, [new])
        XCTAssertEqual(truncated.siblings.map(\.dot), [old.dot, new.dot])
        XCTAssertTrue(truncated.siblings[0].isTombstone)
        XCTAssertEqual(truncated.siblings[0].timestamp, stamp(10))
        XCTAssertEqual(truncated.siblings[0].value, [])
        XCTAssertEqual(state.truncated(before: nil), state)
        XCTAssertEqual(truncated.truncated(before: stamp(20)), truncated, "converting twice changes nothing")
        XCTAssertTrue(state.truncated(before: stamp(31)).isDeleted)
    }

    /// In an lww bucket the truncated form wins the merge against an unconverted copy of
    /// the same version, so a replica that missed the conversion can't bring it back.
    func testTheTruncatedFormWinsAnLWWMerge() {
        let version = Sibling(
            dot: Dot(actor: "a", counter: 1), value: [9], contentType: "text/plain", isTombstone: false, timestamp: stamp(10))
        let stored = KeyState(siblings: [version])
        let truncated = stored.truncated(before: stamp(11))
        XCTAssertTrue(stored.merged(with: truncated, mode: .lww).isDeleted)
        XCTAssertTrue(truncated.merged(with: stored, mode: .lww).isDeleted)
    }

    func testMembershipMergeKeepsTheLaterPoints() {
        let base = MembershipState(partitionCount: 8)
        let x = base.truncating("a", at: stamp(10))
        let y = base.truncating("a", at: stamp(20)).truncating(nil, at: stamp(5))
        XCTAssertEqual(x.merged(with: y).truncations, y.truncations)
        XCTAssertEqual(y.merged(with: x).truncations, y.truncations)
        XCTAssertEqual(try MembershipState(decoding: y.encoded()), y)
        XCTAssertEqual(y.encoded().first, 2)
    }
}

extension TruncationPointsTests {
    /// Past the bound gossip decodes, a new bucket is refused; known buckets and every bucket are not.
    func testANewBucketIsRefusedOnceTheTableIsFull() {
        let point = HLCTimestamp(physicalMilliseconds: 1, logical: 0)
        let full = TruncationPoints().raising("a", to: point).raising("b", to: point)
        XCTAssertFalse(full.admits("c", bucketsMax: 2))
        XCTAssertTrue(full.admits("a", bucketsMax: 2))
        XCTAssertTrue(full.admits(nil, bucketsMax: 2))
        XCTAssertTrue(TruncationPoints().raising("a", to: point).admits("c", bucketsMax: 2))
        XCTAssertTrue(TruncationPoints.full(bucketsMax: 2).message.contains("FLUSHALL"))
    }
}
