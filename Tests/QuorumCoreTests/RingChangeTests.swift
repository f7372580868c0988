import QuorumCore
import XCTest

final class RingChangeTests: XCTestCase {
    private let three = Ring(members: ["a", "b", "c"], partitionCount: 16)

    func testNoChangeMeansNoTransfers() {
        XCTAssertEqual(RingChange.transfers(local: "a", serving: three, target: three, replicas: 3), [])
    }

    func testAJoinerPullsEachGainedPartitionFromEveryServingReplica() {
        let four = three.adding("d")
        let transfers = RingChange.transfers(local: "d", serving: three, target: four, replicas: 3)
        let gained = (0..<16).filter { four.preferenceList(partition: $0, n: 3).contains("d") }
        XCTAssertFalse(gained.isEmpty)
        XCTAssertEqual(Set(transfers.map(\.partition)), Set(gained))
        for partition in gained {
            let peers = transfers.filter { $0.partition == partition }.map(\.peer)
            XCTAssertEqual(peers, three.preferenceList(partition: partition, n: 3))
        }
    }

    func testNodesThatStayAndLosePartitionsToAJoinerCopyNothingTheJoinerPullsFromThem() {
        let four = three.adding("d")
        let joinerPulls = Set(RingChange.transfers(local: "d", serving: three, target: four, replicas: 3))
        for node in ["a", "b", "c"] {
            XCTAssertEqual(RingChange.transfers(local: node, serving: three, target: four, replicas: 3), [], node)
            let lost = (0..<16).filter {
                three.preferenceList(partition: $0, n: 3).contains(node) && !four.preferenceList(partition: $0, n: 3).contains(node)
            }
            XCTAssertFalse(lost.isEmpty, "\(node) loses partitions to the joiner")
            for partition in lost {
                XCTAssertTrue(joinerPulls.contains(RingChange.Transfer(partition: partition, peer: node)), "the joiner pulls \(partition) from \(node)")
            }
        }
    }

    func testALeaverFirstGathersFromItsCoReplicasThenPushesToTheNewOnes() {
        let four = three.adding("d")
        let transfers = RingChange.transfers(local: "d", serving: four, target: three, replicas: 3)
        let held = (0..<16).filter { four.preferenceList(partition: $0, n: 3).contains("d") }
        XCTAssertEqual(Set(transfers.map(\.partition)), Set(held))
        for partition in held {
            let peers = transfers.filter { $0.partition == partition }.map(\.peer)
            let before = four.preferenceList(partition: partition, n: 3).filter { $0 != "d" }
            let after = three.preferenceList(partition: partition, n: 3).filter { !four.preferenceList(partition: partition, n: 3).contains($0) }
            XCTAssertEqual(peers, before + after)
            XCTAssertFalse(after.isEmpty, "partition \(partition) must reach a node that lacked it")
        }
    }

    func testReplicasAreCappedAtEachRingsSize() {
        let one = Ring(members: ["a"], partitionCount: 4)
        let two = one.adding("b")
        let transfers = RingChange.transfers(local: "b", serving: one, target: two, replicas: 3)
        XCTAssertEqual(Set(transfers.map(\.partition)), Set(0..<4), "with n capped at 2 the joiner replicates everything")
        XCTAssertTrue(transfers.allSatisfy { $0.peer == "a" })
    }

    func testTransferQueueKeepsDoneWorkAcrossReplansAndRetriesFailuresLast() {
        let first = RingChange.Transfer(partition: 1, peer: "a")
        let second = RingChange.Transfer(partition: 2, peer: "b")
        var queue = TransferQueue()
        XCTAssertTrue(queue.replace(with: []))
        XCTAssertFalse(queue.replace(with: [first, second, first]))
        XCTAssertEqual(queue.pending, [first, second], "duplicates are dropped")
        XCTAssertFalse(queue.finished(first, succeeded: false))
        XCTAssertEqual(queue.next(), second, "a failed transfer goes to the back")
        XCTAssertFalse(queue.finished(second, succeeded: true))
        XCTAssertFalse(queue.replace(with: [first, second]))
        XCTAssertEqual(queue.pending, [first], "a done transfer is not repeated after a replan")
        XCTAssertFalse(queue.finished(RingChange.Transfer(partition: 9, peer: "z"), succeeded: true), "unknown transfers are ignored")
        XCTAssertTrue(queue.finished(first, succeeded: true))
        XCTAssertTrue(queue.replace(with: [first]))
    }
}
