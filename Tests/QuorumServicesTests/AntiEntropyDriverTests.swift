import QuorumCore
@testable import QuorumServices
import XCTest

/// `AntiEntropyDriver` in a fake world: ticks in, requests sent and stores after out.
final class AntiEntropyDriverTests: XCTestCase {
    private let bucket = "b"

    /// Two nodes, every key on both (n = 2).
    private func twoNodes() -> FakeWorld {
        FakeWorld(members: ["a", "b"], props: [bucket: BucketProps(n: 2, conflict: .lww)])
    }

    /// Ticks `driver` once and lets everything it started finish.
    private func tick(_ driver: AntiEntropyDriver, in world: FakeWorld) {
        driver.tick()
        world.run()
    }

    /// Ticks every node's driver through all its pairs.
    private func exchangeEverything(_ drivers: [AntiEntropyDriver], in world: FakeWorld) {
        for driver in drivers {
            for _ in driver.pairs { tick(driver, in: world) }
        }
    }

    private func isMergeBatch(_ request: PeerRequest) -> Bool {
        if case .mergeBatch = request { return true }
        return false
    }

    private func isMerge(_ request: PeerRequest) -> Bool {
        if case .merge = request { return true }
        return false
    }

    private func batchEntries(_ request: PeerRequest) -> [RepairBatch.Entry] {
        guard case .mergeBatch(let bytes, _) = request else { return [] }
        return (try? RepairBatch(decoding: bytes).entries) ?? []
    }

    /// One replica holds an expired version in full, the other stripped to its tombstone
    /// form: their stored bytes (and Merkle digests) differ, and exchanges make them equal
    /// on the stripped form, the value gone from both.
    func testStrippedAndFullCopiesOfAnExpiredVersionConverge() {
        let world = twoNodes()
        // Expired a moment ago: well within the tombstone grace, so no purge takes it.
        let written = world.now - 1000
        var full = lwwState("v", at: written)
        full.siblings[0].expiry = ExpiryRegister(
            deadlineMilliseconds: world.now - 1, stamp: HLCTimestamp(physicalMilliseconds: written, logical: 0))
        let stripped = full.strippingExpired(atMilliseconds: world.now)
        world["a"].put(bucket, "k", full)
        world["b"].put(bucket, "k", stripped)
        XCTAssertNotEqual(world["a"].rows, world["b"].rows)
        let drivers = [world["a"].antiEntropy(), world["b"].antiEntropy()]
        for _ in 0..<2 { exchangeEverything(drivers, in: world) }
        XCTAssertEqual(world["a"].rows, world["b"].rows, "the replicas' stored bytes agree")
        XCTAssertEqual(world["a"].state(bucket, "k"), stripped)
    }

    func testRoutineExchangesRepairBothSidesInBatches() {
        let world = twoNodes()
        for index in 0..<12 { world["a"].put(bucket, "only-a-\(index)", lwwState("a\(index)", at: 100)) }
        for index in 0..<6 { world["b"].put(bucket, "only-b-\(index)", lwwState("b\(index)", at: 100)) }
        world["a"].put(bucket, "both", lwwState("old", at: 100))
        world["b"].put(bucket, "both", lwwState("new", at: 200))
        let drivers = [world["a"].antiEntropy(), world["b"].antiEntropy()]

        exchangeEverything(drivers, in: world)

        XCTAssertEqual(world["a"].keyCount, 19)
        XCTAssertEqual(world["a"].rows, world["b"].rows, "both replicas hold the merge of every key")
        XCTAssertEqual(world["a"].state(bucket, "both"), lwwState("new", at: 200))
        for node in ["a", "b"] {
            XCTAssertTrue(world.sent(from: node, isMerge).isEmpty, "\(node) repairs in batches, not one merge per key")
            XCTAssertFalse(world.sent(from: node, isMergeBatch).isEmpty, "\(node) shipped no batch")
        }
        let shipped = ["a", "b"].flatMap { world.sent(from: $0, isMergeBatch) }
        XCTAssertTrue(shipped.contains { $0.to == "a" } && shipped.contains { $0.to == "b" }, "batches go both ways")
        let figures = drivers.map(\.figures)
        XCTAssertEqual(figures.map(\.keysRepaired).reduce(0, +), 19)
        XCTAssertEqual(figures.map(\.failedExchanges), [0, 0])
        XCTAssertEqual(figures.map(\.partitionsExchanged).reduce(0, +), world.ring.partitionCount)
        XCTAssertGreaterThan(figures.map(\.bytesShipped).reduce(0, +), 0)

        // Agreeing replicas: the next round moves only roots.
        world.clearLog()
        exchangeEverything(drivers, in: world)
        XCTAssertTrue(world.sent.allSatisfy { if case .treeRoot = $0.request { return true } else { return false } })
        XCTAssertEqual(drivers.map(\.figures.keysRepaired).reduce(0, +), 19)
    }

    func testRepairFetchesAtMostTheBoundAtOnceAndCutsBatchesByBytes() {
        let world = twoNodes()
        let partition = 0
        let owner = world.ring.owner(of: partition)
        let peer = owner == "a" ? "b" : "a"
        var keys: [String] = []
        var index = 0
        while keys.count < 40 {
            let key = "k\(index)"
            index += 1
            guard world.ring.partition(bucket: bucket, key: Array(key.utf8)) == partition else { continue }
            keys.append(key)
            world[owner].put(bucket, key, lwwState(String(repeating: "v", count: 100), at: 100))
        }
        var bounds = AntiEntropyBounds.defaults
        bounds.fetchConcurrency = 3
        bounds.batchBytesMax = 1000
        let driver = world[owner].antiEntropy(bounds: bounds)
        while world[peer].keyCount < keys.count, driver.figures.partitionsExchanged < 10 { tick(driver, in: world) }

        XCTAssertEqual(world[peer].keyCount, keys.count, "every key reached the peer")
        XCTAssertEqual(world.fetchesInFlightMax[owner], 3, "fetches from the peer run three at a time")
        let batches = world.sent(from: owner, isMergeBatch)
        XCTAssertGreaterThan(batches.count, 1, "40 states of ~130 bytes need several batches of 1000 bytes")
        for batch in batches {
            let entries = batchEntries(batch.request)
            let bytes = entries.map { $0.key.count + $0.bucket.utf8.count + $0.stateBytes }.reduce(0, +)
            XCTAssertTrue(entries.count == 1 || bytes <= bounds.batchBytesMax, "a batch of \(bytes) bytes")
        }
        XCTAssertEqual(batches.map { batchEntries($0.request).count }.reduce(0, +), keys.count, "each key shipped once")
    }

    func testKeysOfBucketsNotPlacedOnBothSidesWaitForATransfer() {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: BucketProps(n: 1, conflict: .lww), "wide": BucketProps(n: 3, conflict: .lww)])
        let partition = world.ring.partitions(ownedBy: "a")[0]
        let key = (0...).lazy.map { "k\($0)" }.first { world.ring.partition(bucket: self.bucket, key: Array($0.utf8)) == partition }!
        world["a"].put(bucket, key, lwwState("v", at: 100))
        let driver = world["a"].antiEntropy()

        exchangeEverything([driver], in: world)
        XCTAssertNil(world["b"].state(bucket, key), "n = 1 keeps the key on its owner alone")
        XCTAssertNil(world["c"].state(bucket, key))

        let peer = world.ring.preferenceList(partition: partition, n: 2)[1]
        driver.plan(transfers: [RingChange.Transfer(partition: partition, peer: peer)])
        XCTAssertEqual(driver.figures.transfersPending, 1)
        tick(driver, in: world)
        XCTAssertEqual(world[peer].state(bucket, key), lwwState("v", at: 100), "a transfer ships every differing key")
        XCTAssertEqual(world["a"].transfersDoneCalls, 1)
        XCTAssertEqual(driver.figures.transfersPending, 0)
        XCTAssertEqual(driver.figures.transfersDone, 1)
    }

    func testTransfersComeFirstAndAFailedOneIsRetriedOnALaterTick() {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: BucketProps(n: 3, conflict: .lww)])
        world["b"].put(bucket, "k", lwwState("v", at: 100))
        let partition = world.ring.partition(bucket: bucket, key: Array("k".utf8))
        let driver = world["a"].antiEntropy()
        world.down = ["c"]
        driver.plan(transfers: [.init(partition: partition, peer: "c"), .init(partition: partition, peer: "b")])

        tick(driver, in: world)
        let roots = world.sent(from: "a") { if case .treeRoot = $0 { return true } else { return false } }
        XCTAssertEqual(roots.map(\.to), ["c"], "the first transfer fails and stops the run; no routine exchange starts")
        XCTAssertEqual(driver.figures.transfersPending, 2)
        XCTAssertEqual(world["a"].transfersDoneCalls, 0)

        tick(driver, in: world)  // b (the failed one went to the back), then c again: still down
        XCTAssertEqual(world["a"].state(bucket, "k"), lwwState("v", at: 100))
        XCTAssertEqual(driver.figures.transfersPending, 1)
        XCTAssertEqual(driver.figures.transfersDone, 1)

        world.down = []
        tick(driver, in: world)
        XCTAssertEqual(driver.figures.transfersPending, 0)
        XCTAssertEqual(world["a"].transfersDoneCalls, 1)
        XCTAssertEqual(world["c"].state(bucket, "k"), lwwState("v", at: 100))
    }

    func testAPlanWithNothingLeftToDoIsDoneAtOnce() {
        let world = twoNodes()
        let driver = world["a"].antiEntropy()
        driver.plan(transfers: [])
        XCTAssertEqual(world["a"].transfersDoneCalls, 1)
    }

    func testOneExchangeAtATime() {
        let world = twoNodes()
        world["a"].put(bucket, "k", lwwState("v", at: 100))
        let driver = world["a"].antiEntropy()
        driver.tick()
        driver.tick()
        XCTAssertTrue(driver.isExchanging)
        XCTAssertEqual(world.sent.count, 1, "the second tick starts nothing while the first exchange waits for its root")
        XCTAssertEqual(world["a"].buildMissingCalls, 2, "every tick asks for missing trees")
        world.run()
        XCTAssertFalse(driver.isExchanging)
    }

    func testAPartitionWithoutAReadyTreeIsSkipped() {
        let world = twoNodes()
        world["a"].treesMissing = Set(0..<world.ring.partitionCount)
        let driver = world["a"].antiEntropy()
        tick(driver, in: world)
        XCTAssertTrue(world.sent.isEmpty)
        XCTAssertFalse(driver.isExchanging)
    }

    func testAnUnreachablePeerFailsTheExchange() {
        let world = twoNodes()
        world.down = ["b"]
        let driver = world["a"].antiEntropy()
        guard !driver.pairs.isEmpty else { return XCTFail("a owns no partition") }
        tick(driver, in: world)
        XCTAssertEqual(driver.figures.failedExchanges, 1)
        XCTAssertTrue(world["a"].logged.contains { $0.level == .warning && $0.message.contains("exchange failed") })
    }

    func testRoutineExchangesOffStillRunTransfers() {
        let world = twoNodes()
        world["b"].put(bucket, "k", lwwState("v", at: 100))
        let driver = world["a"].antiEntropy(routine: false)
        tick(driver, in: world)
        XCTAssertTrue(world.sent.isEmpty)
        driver.plan(transfers: [.init(partition: world.ring.partition(bucket: bucket, key: Array("k".utf8)), peer: "b")])
        tick(driver, in: world)
        XCTAssertEqual(world["a"].state(bucket, "k"), lwwState("v", at: 100))
    }

    // MARK: Fault points

    func testIgnoringTombstonesLeavesADeleteUnrepaired() {
        for (faults, repaired) in [(FaultPoints.inert, true), (FaultPoints(bug: .antiEntropyIgnoresTombstones), false)] {
            let world = twoNodes()
            world["a"].put(bucket, "gone", tombstone(at: 200))
            world["b"].put(bucket, "gone", lwwState("old", at: 100))
            world["a"].put(bucket, "kept", lwwState("v", at: 100))
            let drivers = [world["a"].antiEntropy(faults: faults), world["b"].antiEntropy(faults: faults)]
            exchangeEverything(drivers, in: world)
            XCTAssertEqual(world["b"].state(bucket, "gone") == tombstone(at: 200), repaired, "\(faults.bug)")
            XCTAssertEqual(world["b"].state(bucket, "kept"), lwwState("v", at: 100), "\(faults.bug): live values are repaired")
        }
    }

    func testThreeReplicasDeepPairsOnlyTheNextTwoReplicas() {
        let world = FakeWorld(members: ["a", "b", "c", "d", "e"], partitionCount: 16, props: ["wide": BucketProps(n: 5)])
        let owned = world.ring.partitions(ownedBy: "a").count
        XCTAssertGreaterThan(owned, 0)
        XCTAssertEqual(world["a"].antiEntropy().pairs.count, owned * 4)
        XCTAssertEqual(world["a"].antiEntropy(faults: FaultPoints(bug: .antiEntropyThreeReplicasDeep)).pairs.count, owned * 2)
    }

    func testMergeBatchDroppingItsLastStateLeavesOneKeyPerBatchForTheNextExchange() {
        let world = twoNodes()
        let owner = world.ring.owner(of: 0)
        let peer = owner == "a" ? "b" : "a"
        var keys: [String] = []
        var index = 0
        while keys.count < 3 {
            let key = "k\(index)"
            index += 1
            guard world.ring.partition(bucket: bucket, key: Array(key.utf8)) == 0 else { continue }
            keys.append(key)
            world[owner].put(bucket, key, lwwState("v", at: 100))
        }
        // The bug is the receiving replica's (`ReplicaDriver`), switched on for every node here.
        let bugged = FaultPoints(bug: .mergeBatchDropsLast)
        let storage = FakeStorage(node: world[peer])
        world[peer].replaceReplica(ReplicaDriver(
            nodeID: peer, partitionCount: world.ring.partitionCount, limits: .defaults, storage: storage, trees: storage,
            context: FakeReplicaContext(node: world[peer]), clock: FakeClock(world: world),
            faults: bugged))
        let driver = world[owner].antiEntropy()
        let pairs = driver.pairs.count
        for _ in 0..<pairs { tick(driver, in: world) }
        XCTAssertEqual(world[peer].keyCount, 2, "the batch's last state was dropped, yet acknowledged")
        for _ in 0..<pairs { tick(driver, in: world) }
        XCTAssertEqual(world[peer].keyCount, 3, "alone in the next batch, it goes through")
    }
}
