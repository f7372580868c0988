import QuorumCore
import XCTest

@testable import QuorumServices

/// Typed keys (issue #16) through the background paths on the fake world, with the real
/// `ReplicaDriver` and stores keeping them decomposed: anti-entropy exchanges and
/// ring-change transfers ship whole states, stray copies move whole, hints deliver deltas,
/// purges never touch them, key listings count those with members, truncation refuses.
final class TypedRepairServiceTests: XCTestCase {
    private let bucket = "tags"
    private let limits = Limits.defaults

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func setProps(n: Int) -> BucketProps { BucketProps(n: n, conflict: .lww, datatype: .set) }

    /// `op` applied by `actor` on `state`: the delta and the state after it.
    private func apply(_ op: TypedOperation, by actor: String, on state: TypedState, at time: UInt64 = 1) throws -> (delta: TypedState, state: TypedState) {
        let made = try TypedState.delta(
            applying: op, actor: actor, stamp: HLCTimestamp(physicalMilliseconds: time, logical: 0), current: state, limits: limits)
        return (made.delta, state.joined(with: made.delta, isFull: made.isFull))
    }

    private func exchangeEverything(_ drivers: [AntiEntropyDriver], in world: FakeWorld) {
        for driver in drivers {
            for _ in driver.pairs {
                driver.tick()
                world.run()
            }
        }
    }

    private func typedEntries(_ request: PeerRequest) -> [TypedState] {
        guard case .mergeBatch(let bytes, _) = request, let batch = try? RepairBatch(decoding: bytes) else { return [] }
        return batch.entries.compactMap { entry in
            if case .typed(let state) = entry.payload { return state }
            return nil
        }
    }

    // MARK: Anti-entropy

    /// One replica removed an element, the other added one, and each holds a key the other
    /// lacks: exchanges push and pull whole states, and both end with the same rows.
    func testAntiEntropyRepairsATypedKeyBothWays() throws {
        let world = FakeWorld(members: ["a", "b"], props: [bucket: setProps(n: 2), "plain": BucketProps(n: 2, conflict: .lww)])
        let base = try apply(.setAdd([bytes("x"), bytes("y")]), by: "a@1", on: TypedState(datatype: .set)).state
        let onA = try apply(.setRemove([bytes("x")]), by: "a@1", on: base, at: 2).state
        let onB = try apply(.setAdd([bytes("z")]), by: "b@1", on: base, at: 3).state
        world["a"].putTyped(bucket, "shared", onA)
        world["b"].putTyped(bucket, "shared", onB)
        world["a"].putTyped(bucket, "only-a", try apply(.setAdd([bytes("p")]), by: "a@1", on: TypedState(datatype: .set)).state)
        world["b"].putTyped(bucket, "only-b", try apply(.setAdd([bytes("q")]), by: "b@1", on: TypedState(datatype: .set)).state)
        world["a"].put("plain", "k", lwwState("v", at: 100))

        exchangeEverything([world["a"].antiEntropy(), world["b"].antiEntropy()], in: world)

        for node in ["a", "b"] {
            XCTAssertEqual(world[node].typed(bucket, "shared")?.setElements, [bytes("y"), bytes("z")], "\(node): x removed, z added")
            XCTAssertEqual(world[node].typed(bucket, "only-a")?.setElements, [bytes("p")], node)
            XCTAssertEqual(world[node].typed(bucket, "only-b")?.setElements, [bytes("q")], node)
        }
        XCTAssertEqual(world["b"].state("plain", "k"), lwwState("v", at: 100), "plain keys are repaired beside typed ones")
        XCTAssertEqual(world["a"].rows, world["b"].rows, "headers agree byte for byte")
        XCTAssertEqual(world["a"].members, world["b"].members, "member rows agree")
        let shipped = ["a", "b"].flatMap { world.sent(from: $0) { if case .mergeBatch = $0 { return true } else { return false } } }
        XCTAssertTrue(shipped.flatMap { typedEntries($0.request) }.contains { $0.members.count >= 2 }, "whole states travel")
        // Converged: a further exchange repairs nothing.
        world.clearLog()
        exchangeEverything([world["a"].antiEntropy(), world["b"].antiEntropy()], in: world)
        XCTAssertTrue(["a", "b"].allSatisfy { world.sent(from: $0) { if case .mergeBatch = $0 { return true } else { return false } }.isEmpty })
    }

    /// A ring-change transfer moves a typed key whole to a node that had none of it.
    func testATransferShipsATypedKeyWhole() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: setProps(n: 1)])
        let partition = world.ring.partitions(ownedBy: "a")[0]
        let key = (0...).lazy.map { "k\($0)" }.first { world.ring.partition(bucket: self.bucket, key: Array($0.utf8)) == partition }!
        let state = try apply(.setAdd([bytes("e1"), bytes("e2"), bytes("e3")]), by: "a@1", on: TypedState(datatype: .set)).state
        world["a"].putTyped(bucket, key, state)
        let driver = world["a"].antiEntropy()
        let peer = world.ring.preferenceList(partition: partition, n: 2)[1]
        driver.plan(transfers: [RingChange.Transfer(partition: partition, peer: peer)])
        driver.tick()
        world.run()
        XCTAssertEqual(world[peer].typed(bucket, key), state)
        XCTAssertEqual(driver.figures.transfersDone, 1)
    }

    // MARK: Stray copies

    private func key(replicatedBy replica: String, in world: FakeWorld) -> String {
        (0...).lazy.map { "k\($0)" }.first { world.ring.owner(of: world.ring.partition(bucket: self.bucket, key: Array($0.utf8))) == replica }!
    }

    private func sweepAll(_ sweeper: StrayCopyDriver, in world: FakeWorld) {
        for _ in 0..<world.ring.partitionCount {
            sweeper.tick()
            world.run()
        }
    }

    /// A stray typed copy the replica lacks part of is handed off whole, then deleted with
    /// its member rows; an old copy is handed off too (typed keys are never purged, so
    /// nothing it holds can be a removal the replica forgot).
    func testAStrayTypedCopyIsHandedOffWholeThenDeleted() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: setProps(n: 1)])
        let key = key(replicatedBy: "b", in: world)
        let base = try apply(.setAdd([bytes("old")]), by: "a@1", on: TypedState(datatype: .set)).state
        let copy = try apply(.setAdd([bytes("late")]), by: "a@1", on: base, at: 2).state
        world["a"].putTyped(bucket, key, copy)
        world["b"].putTyped(bucket, key, base)
        world.advance(byMilliseconds: world.limits.tombstoneGraceMilliseconds * 10)
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertEqual(world["b"].typed(bucket, key)?.setElements, [bytes("late"), bytes("old")])
        XCTAssertNil(world["a"].typed(bucket, key))
        XCTAssertTrue(world["a"].members.isEmpty, "the copy's member rows went with its header")
        XCTAssertEqual(sweeper.handedOff, 1)
        XCTAssertEqual(sweeper.removed, 1)
    }

    func testAStrayTypedCopyTheReplicaCoversIsDeletedAndOneWaitsForASilentReplica() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: setProps(n: 1)])
        let key = key(replicatedBy: "b", in: world)
        let copy = try apply(.setAdd([bytes("x")]), by: "a@1", on: TypedState(datatype: .set)).state
        let removed = try apply(.setRemove([bytes("x")]), by: "b@1", on: copy, at: 2).state
        world["a"].putTyped(bucket, key, copy)
        world["b"].putTyped(bucket, key, removed)
        world.down = ["b"]
        world["a"].unreachable = ["b"]
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertNotNil(world["a"].typed(bucket, key), "waits while the replica is silent")
        world.down = []
        world["a"].unreachable = []
        sweepAll(sweeper, in: world)
        XCTAssertNil(world["a"].typed(bucket, key))
        XCTAssertEqual(world["b"].typed(bucket, key)?.setElements, [], "the removal stands: nothing handed off")
        XCTAssertEqual(sweeper.handedOff, 0)
        XCTAssertEqual(sweeper.removed, 1)
    }

    // MARK: Hints

    private final class Rows: HintStorage {
        var stored: [UInt64: Hint] = [:]
        func putHint(_ hint: Hint, completion: @escaping (Result<Void, StorageFailure>) -> Void) {
            stored[hint.id] = hint
            completion(.success(()))
        }
        func deleteHints(ids: [UInt64], completion: @escaping (Result<Void, StorageFailure>) -> Void) {
            for id in ids { stored[id] = nil }
            completion(.success(()))
        }
    }

    private final class Log: ServiceLog {
        func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {}
    }

    /// Two typed deltas taken for a down target coalesce into one hint, delivered as one
    /// delta merge once it is up: an add and a remove of what the target held both land.
    func testAHintDeliversATypedDelta() throws {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: [bucket: setProps(n: 3)])
        let held = try apply(.setAdd([bytes("gone")]), by: "n3@1", on: TypedState(datatype: .set)).state
        world["n3"].putTyped(bucket, "k", held)
        let add = try apply(.setAdd([bytes("new")]), by: "n1@1", on: held, at: 2)
        let remove = try apply(.setRemove([bytes("gone")]), by: "n1@1", on: add.state, at: 3)
        let rows = Rows()
        let hints = HintDriver(
            restored: [], limits: .defaults, storage: rows, replicas: FakeCaller(node: world["n1"]), clock: FakeClock(world: world),
            log: Log(), deliveryTimeoutMilliseconds: 1000)
        var answers: [PeerResponse] = []
        for delta in [add.delta, remove.delta] {
            hints.takeTyped(target: "n3", bucket: bucket, key: bytes("k"), delta: delta) { answers.append($0) }
        }
        XCTAssertEqual(answers, [.ack, .ack])
        XCTAssertEqual(rows.stored.count, 1, "the second delta joined the first hint")
        hints.deliver(down: [])
        world.run()
        let merges = world.sent(from: "n1") { if case .typedMerge(_, _, _, false) = $0 { return true } else { return false } }
        XCTAssertEqual(merges.count, 1, "delivered as one delta merge")
        XCTAssertEqual(world["n3"].typed(bucket, "k")?.setElements, [bytes("new")])
        XCTAssertTrue(rows.stored.isEmpty)
        XCTAssertEqual(hints.queue.deliveredCount, 1)
    }

    // MARK: Purge, listing, truncation

    /// A typed key reset to no members keeps its header: purges never remove it (its
    /// context is what keeps a late delta from bringing the removed elements back).
    func testThePurgeNeverRemovesATypedKey() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: setProps(n: 3)])
        let added = try apply(.setAdd([bytes("x")]), by: "a@1", on: TypedState(datatype: .set)).state
        let reset = try apply(.reset, by: "a@1", on: added, at: 2).state
        for node in ["a", "b", "c"] { world[node].putTyped(bucket, "k", reset) }
        world.advance(byMilliseconds: world.limits.tombstoneGraceMilliseconds * 10)
        for node in ["a", "b", "c"] {
            let purger = world[node].purger()
            for _ in 0..<world.ring.partitionCount {
                purger.tick()
                world.run()
            }
            XCTAssertEqual(purger.purged, 0)
        }
        for node in ["a", "b", "c"] { XCTAssertEqual(world[node].typed(bucket, "k"), reset.withoutEmptyMembers) }
        // The late delta of the add the reset removed changes nothing.
        world["a"].replica.handle(.typedMerge(bucket: bucket, key: bytes("k"), state: added, isFull: false)) { _ in }
        world.run()
        XCTAssertEqual(world["a"].typed(bucket, "k")?.setElements, [])
    }

    func testListingCountsTypedKeysWithMembers() throws {
        let world = FakeWorld(members: ["a"], partitionCount: 1, props: [bucket: setProps(n: 1)])
        let live = try apply(.setAdd([bytes("x")]), by: "a@1", on: TypedState(datatype: .set)).state
        world["a"].putTyped(bucket, "live", live)
        world["a"].putTyped(bucket, "reset", try apply(.reset, by: "a@1", on: live, at: 2).state)
        var answer: PeerResponse?
        world["a"].replica.handle(.listKeys(bucket: bucket, partition: 0, after: nil, limit: 10)) { answer = $0 }
        world.run()
        XCTAssertEqual(answer, .keys([bytes("live")], resumeAfter: nil))
    }
}
