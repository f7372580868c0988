import QuorumCore
@testable import QuorumServices
import XCTest

/// `TombstonePurgeDriver` and `StrayCopyDriver` in a fake world: pages of stored keys in,
/// requests sent and stores after out.
final class TombstonePurgeDriverTests: XCTestCase {
    private let bucket = "b"

    private func threeNodes() -> FakeWorld {
        FakeWorld(members: ["a", "b", "c"], props: [bucket: BucketProps(n: 3, conflict: .lww)])
    }

    /// A key in a partition `node` owns.
    private func key(ownedBy node: String, in world: FakeWorld) -> String {
        (0...).lazy.map { "k\($0)" }.first { world.ring.owner(of: world.ring.partition(bucket: self.bucket, key: Array($0.utf8))) == node }!
    }

    /// Ticks a's purger until it has visited each partition a owns once.
    private func sweepAll(_ tick: () -> Void, in world: FakeWorld) {
        for _ in world.ring.partitions(ownedBy: "a") {
            tick()
            world.run()
        }
    }

    func testATombstoneEveryReplicaHoldsPastTheGraceIsPurgedEverywhere() {
        let world = threeNodes()
        let key = key(ownedBy: "a", in: world)
        for node in ["a", "b", "c"] { world[node].put(bucket, key, tombstone(at: world.now - 61_000)) }
        let purger = world["a"].purger()
        sweepAll(purger.tick, in: world)
        for node in ["a", "b", "c"] { XCTAssertNil(world[node].state(bucket, key), node) }
        XCTAssertEqual(purger.purged, 1)
        XCTAssertEqual(purger.deferred, 0)
        let purges = world.sent(from: "a") { if case .purge = $0 { return true } else { return false } }
        XCTAssertEqual(purges.map(\.to).sorted(), ["a", "b", "c"])
    }

    func testATombstoneWithinTheGraceIsLeftAlone() {
        let world = threeNodes()
        let key = key(ownedBy: "a", in: world)
        for node in ["a", "b", "c"] { world[node].put(bucket, key, tombstone(at: world.now - 1000)) }
        let purger = world["a"].purger()
        sweepAll(purger.tick, in: world)
        XCTAssertNotNil(world["a"].state(bucket, key))
        XCTAssertTrue(world.sent.isEmpty, "nothing to ask before the grace is over")
    }

    func testATombstoneAReplicaCannotConfirmIsDeferred() {
        let world = threeNodes()
        let key = key(ownedBy: "a", in: world)
        world["a"].put(bucket, key, tombstone(at: world.now - 61_000))
        world["b"].put(bucket, key, tombstone(at: world.now - 61_000))
        world["c"].put(bucket, key, lwwState("old", at: world.now - 90_000))
        let purger = world["a"].purger()
        sweepAll(purger.tick, in: world)
        XCTAssertNotNil(world["a"].state(bucket, key))
        XCTAssertEqual(purger.deferred, 1)

        // A replica believed down counts as silent without being asked.
        world["c"].put(bucket, key, tombstone(at: world.now - 61_000))
        world["a"].unreachable = ["c"]
        world.clearLog()
        sweepAll(purger.tick, in: world)
        XCTAssertFalse(world.sent.contains { $0.to == "c" })
        XCTAssertEqual(purger.deferred, 2)
        XCTAssertEqual(purger.purged, 0)
    }

    func testPurgeAskingOnlyItselfRemovesItsOwnTombstoneWhateverTheOthersHold() {
        let world = threeNodes()
        let key = key(ownedBy: "a", in: world)
        let old = lwwState("old", at: world.now - 90_000)
        world["a"].put(bucket, key, tombstone(at: world.now - 61_000))
        world["b"].put(bucket, key, old)
        let purger = world["a"].purger(faults: FaultPoints(bug: .purgeAsksOnlyItself))
        sweepAll(purger.tick, in: world)
        XCTAssertNil(world["a"].state(bucket, key), "the deliberate bug purges without asking b")
        XCTAssertEqual(world["b"].state(bucket, key), old)
    }

    func testAPassReadsOnePageAndTheNextResumesWhereItStopped() {
        let world = threeNodes()
        let partition = world.ring.partitions(ownedBy: "a")[0]
        let keys = (0...).lazy.map { "k\($0)" }.filter { world.ring.partition(bucket: self.bucket, key: Array($0.utf8)) == partition }
            .prefix(5)
        for key in keys {
            for node in ["a", "b", "c"] { world[node].put(bucket, key, tombstone(at: world.now - 61_000)) }
        }
        var bounds = AntiEntropyBounds.defaults
        bounds.rowsPerPage = 2
        let purger = world["a"].purger(bounds: bounds)
        var purged: [Int] = []
        for _ in 0..<3 {
            purger.tick()
            world.run()
            purged.append(purger.purged)
        }
        XCTAssertEqual(purged, [2, 4, 5], "pages of two rows, the third the last row of the partition")
    }

    func testNoPassRunsWhileTheRingChangesOrTheLastOneRuns() {
        let world = threeNodes()
        let key = key(ownedBy: "a", in: world)
        for node in ["a", "b", "c"] { world[node].put(bucket, key, tombstone(at: world.now - 61_000)) }
        let purger = world["a"].purger()
        world.target = Ring(members: ["a", "b", "c", "d"], partitionCount: world.ring.partitionCount)
        sweepAll(purger.tick, in: world)
        XCTAssertTrue(world.sent.isEmpty)
        world.target = world.ring
        for _ in 0..<world.ring.partitionCount where world.sent.isEmpty { purger.tick() }
        XCTAssertTrue(purger.isRunning, "the pass waits for the replicas' answers")
        let asked = world.sent.count
        purger.tick()
        XCTAssertEqual(world.sent.count, asked, "a tick during a pass starts nothing")
        world.run()
        XCTAssertFalse(purger.isRunning)
        XCTAssertEqual(purger.purged, 1)
    }
}

final class StrayCopyDriverTests: XCTestCase {
    private let bucket = "one"

    /// Three nodes; the bucket keeps one replica per key, so a copy anywhere else is stray.
    private func world() -> FakeWorld {
        FakeWorld(members: ["a", "b", "c"], props: [bucket: BucketProps(n: 1, conflict: .lww)])
    }

    /// A key whose one replica is `replica`, for a stray copy on another node.
    private func key(replicatedBy replica: String, in world: FakeWorld) -> String {
        (0...).lazy.map { "k\($0)" }.first { world.ring.owner(of: world.ring.partition(bucket: self.bucket, key: Array($0.utf8))) == replica }!
    }

    private func sweepAll(_ sweeper: StrayCopyDriver, in world: FakeWorld) {
        for _ in 0..<world.ring.partitionCount {
            sweeper.tick()
            world.run()
        }
    }

    func testACopyTheReplicaHoldsIsDeleted() {
        let world = world()
        let key = key(replicatedBy: "b", in: world)
        world["a"].put(bucket, key, lwwState("v", at: 100))
        world["b"].put(bucket, key, lwwState("v", at: 100))
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertNil(world["a"].state(bucket, key))
        XCTAssertEqual(world["b"].state(bucket, key), lwwState("v", at: 100))
        XCTAssertEqual(sweeper.removed, 1)
        XCTAssertEqual(sweeper.handedOff, 0)
    }

    func testARecentCopyTheReplicaLacksIsHandedOffThenDeleted() {
        let world = world()
        let key = key(replicatedBy: "b", in: world)
        let recent = lwwState("new", at: world.now - 1000)
        world["a"].put(bucket, key, recent)
        world["b"].put(bucket, key, lwwState("old", at: world.now - 5000))
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertEqual(world["b"].state(bucket, key), recent)
        XCTAssertNil(world["a"].state(bucket, key))
        XCTAssertEqual(sweeper.handedOff, 1)
        XCTAssertEqual(sweeper.removed, 1)
    }

    func testAnOldCopyNoReplicaHoldsIsDeletedWithoutAHandOff() {
        let world = world()
        let key = key(replicatedBy: "b", in: world)
        world["a"].put(bucket, key, lwwState("purged since", at: world.now - 120_000))
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertNil(world["a"].state(bucket, key))
        XCTAssertNil(world["b"].state(bucket, key), "a value deleted and purged since is not brought back")
        XCTAssertEqual(sweeper.handedOff, 0)
        XCTAssertEqual(sweeper.removed, 1)
    }

    func testACopyWaitsForASilentReplica() {
        let world = world()
        let key = key(replicatedBy: "b", in: world)
        world["a"].put(bucket, key, lwwState("v", at: world.now - 1000))
        world.down = ["b"]
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertNotNil(world["a"].state(bucket, key))
        XCTAssertEqual(sweeper.removed, 0)
        XCTAssertEqual(sweeper.handedOff, 0)
    }

    func testCopiesThisNodeReplicatesAreNotStray() {
        let world = world()
        let key = key(replicatedBy: "a", in: world)
        world["a"].put(bucket, key, lwwState("v", at: 100))
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertNotNil(world["a"].state(bucket, key))
        XCTAssertTrue(world.sent.isEmpty)
    }
}

final class BoundedStepsTests: XCTestCase {
    func testStepsThatFinishAtOnceDoNotNest() {
        var ran = 0
        var done = false
        BoundedSteps.run(count: 200_000, concurrency: 4, step: { _, finished in
            ran += 1
            finished()
        }, done: { done = true })
        XCTAssertEqual(ran, 200_000)
        XCTAssertTrue(done)
    }

    func testAtMostTheBoundRunAtOnceAndDoneComesOnceAfterTheLast() {
        var waiting: [() -> Void] = []
        var started: [Int] = []
        var doneCount = 0
        BoundedSteps.run(count: 5, concurrency: 2, step: { index, finished in
            started.append(index)
            waiting.append(finished)
        }, done: { doneCount += 1 })
        XCTAssertEqual(started, [0, 1])
        waiting.removeFirst()()
        XCTAssertEqual(started, [0, 1, 2])
        waiting.removeFirst()()
        waiting.removeFirst()()
        XCTAssertEqual(started, [0, 1, 2, 3, 4])
        XCTAssertEqual(doneCount, 0)
        waiting.removeFirst()()
        waiting[0]()
        waiting[0]()  // a second report of the same step counts once
        XCTAssertEqual(doneCount, 1)
    }

    func testNoStepsIsDoneAtOnce() {
        var done = false
        BoundedSteps.run(count: 0, step: { _, _ in XCTFail("no step to run") }, done: { done = true })
        XCTAssertTrue(done)
    }
}
