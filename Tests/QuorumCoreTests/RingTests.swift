import XCTest
@testable import QuorumCore

final class RingTests: XCTestCase {
    private func members(_ count: Int) -> [String] { (1...count).map { "node\($0)" } }

    func testSharesAreBalancedForThreeToTenNodes() {
        for count in 3...10 {
            // 64 partitions: the best possible split, counts differ by at most one partition.
            let small = Ring(members: members(count), partitionCount: 64).ownedCounts()
            XCTAssertLessThanOrEqual(small.max()! - small.min()!, 1, "64 partitions, \(count) nodes: \(small)")
            // With enough partitions per node the largest share is within 10% of the smallest.
            let ring = Ring(members: members(count), partitionCount: 256)
            let counts = ring.ownedCounts()
            XCTAssertLessThanOrEqual(Double(counts.max()!), Double(counts.min()!) * 1.10, "\(count) nodes: \(counts)")
            XCTAssertEqual(counts.reduce(0, +), 256)
        }
        // The default ring meets the 10% bound up to six nodes.
        for count in 3...6 {
            let counts = Ring(members: members(count)).ownedCounts()
            XCTAssertLessThanOrEqual(Double(counts.max()!), Double(counts.min()!) * 1.10, "\(count) nodes: \(counts)")
        }
    }

    func testAddingANodeMovesOnlyThePartitionsItTakes() {
        for count in 1...9 {
            let before = Ring(members: members(count))
            let after = before.adding("node\(count + 1)")
            XCTAssertEqual(after, Ring(members: members(count + 1)), "adding equals building")
            for partition in 0..<before.partitionCount where after.owner(of: partition) != before.owner(of: partition) {
                XCTAssertEqual(after.owner(of: partition), "node\(count + 1)", "partition \(partition) moved elsewhere")
            }
            XCTAssertEqual(after.partitions(ownedBy: "node\(count + 1)").count, 64 / (count + 1))
        }
    }

    func testSameMembershipGivesTheSameRing() {
        let first = Ring(members: ["a", "b", "c", "d"])
        let second = Ring(members: ["a", "b", "c", "d"])
        XCTAssertEqual(first, second)
        XCTAssertEqual(first.digest, second.digest)
        XCTAssertNotEqual(first.digest, Ring(members: ["a", "b", "d", "c"]).digest)
    }

    func testPreferenceListsAreDistinctAndStartAtTheOwner() {
        let ring = Ring(members: members(5))
        for partition in 0..<ring.partitionCount {
            let list = ring.preferenceList(partition: partition, n: 3)
            XCTAssertEqual(list.count, 3)
            XCTAssertEqual(Set(list).count, 3)
            XCTAssertEqual(list.first, ring.owner(of: partition))
        }
        XCTAssertEqual(Set(ring.preferenceList(partition: 0, n: 5)), Set(members(5)))
        XCTAssertEqual(ring.preferenceList(partition: 0, n: 9).count, 5, "never more than the members")
    }

    func testKeysSpreadOverPartitionsAndHashIsStable() {
        let ring = Ring(members: members(3))
        var perPartition = Array(repeating: 0, count: ring.partitionCount)
        for index in 0..<64_000 { perPartition[ring.partition(bucket: "b", key: Array("key\(index)".utf8))] += 1 }
        XCTAssertGreaterThan(perPartition.min()!, 800)
        XCTAssertLessThan(perPartition.max()!, 1200)
        // A fixed value: placement must not change between builds or machines.
        XCTAssertEqual(StableHash.keyHash(bucket: "default", key: Array("greeting".utf8)), 0x8b55_0976_ac9e_39f0, "placement must not change between builds or machines")
        XCTAssertNotEqual(StableHash.keyHash(bucket: "a", key: Array("bc".utf8)), StableHash.keyHash(bucket: "ab", key: Array("c".utf8)))
    }
}
