import QuorumCore
import XCTest

@testable import QuorumServices

/// Expiry in the node's services on the fake world: replicas strip what expired by their
/// clock (in answers and in storage), a touch merges into what it read and never
/// overwrites a value written meanwhile.
final class ExpiryServiceTests: XCTestCase {
    private final class Context: RequestContext {
        let world: FakeWorld
        var clock = HybridLogicalClock()
        init(world: FakeWorld) { self.world = world }
        var serving: Ring { world.ring }
        var target: Ring { world.target }
        func props(for bucket: String) -> BucketProps { world.props(for: bucket) }
        func unreachable() -> Set<String> { world.down }
        var unreachableGeneration: UInt64 { world.downGeneration }
        func tick() -> HLCTimestamp { clock.tick(nowMilliseconds: world.now) }
        func observe(_ timestamp: HLCTimestamp) { clock.observe(timestamp, nowMilliseconds: world.now) }
        var actorID: String { "n1.actor" }
        func admit() -> Bool { true }
        func release() {}
        func readRepairSent(replicas: Int) {}
    }

    private final class Random: RandomSource {
        func next() -> UInt64 { 0 }
    }

    private func setUp(mode: ConflictMode) -> (FakeWorld, RequestDriver) {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": BucketProps(n: 3, conflict: mode)])
        let driver = RequestDriver(
            nodeID: "n1", limits: .defaults, readRepairProbability: 1, executor: FakeExecutor(world: world),
            replicas: FakeCaller(node: world["n1"]), context: Context(world: world), random: Random())
        return (world, driver)
    }

    private func write(_ driver: RequestDriver, _ world: FakeWorld, _ value: String, deadline: UInt64?) throws -> WriteOutcome {
        var answer: Result<WriteOutcome, KVError>?
        let intent = WriteIntent(value: Array(value.utf8), contentType: "text/plain", expiresAtMilliseconds: deadline)
        driver.write(WriteCommand(bucket: "b", key: Array("k".utf8), intent: intent, options: RequestOptions(w: .all), sloppy: false)) {
            answer = $0
        }
        world.run()
        return try XCTUnwrap(answer).get()
    }

    private func read(_ driver: RequestDriver, _ world: FakeWorld) throws -> KeyState? {
        var answer: Result<ReadOutcome, KVError>?
        driver.get(bucket: "b", key: Array("k".utf8), options: RequestOptions(r: .all), sloppy: false) { answer = $0 }
        world.run()
        return try XCTUnwrap(answer).get().state
    }

    func testReplicasAnswerAndStoreExpiredVersionsStripped() throws {
        let (world, driver) = setUp(mode: .lww)
        // The fake world's clock moves while requests run: a deadline well after them.
        _ = try write(driver, world, "v", deadline: world.now + 60_000)
        XCTAssertEqual(try read(driver, world)?.liveSiblings(atMilliseconds: world.now).count, 1)
        world.advance(byMilliseconds: 60_000)
        let state = try XCTUnwrap(try read(driver, world))
        XCTAssertEqual(state.siblings.map(\.isTombstone), [true], "every replica answered the stripped form")
        XCTAssertEqual(state.siblings.first?.value, [], "no expired value crosses the wire")
        world.run()
        for node in ["n1", "n2", "n3"] {
            XCTAssertEqual(world[node].state("b", "k")?.siblings.map(\.isTombstone), [true], "\(node) stored the stripped form")
        }
    }

    func testATouchAppliesOnceAndAnswersWhetherItDid() throws {
        let (world, driver) = setUp(mode: .vclock)
        _ = try write(driver, world, "v", deadline: nil)
        var applied: [Bool] = []
        let deadline = world.now + 60_000
        for condition in [ExpiryCondition.xx, .nx, .nx] {
            let command = TouchCommand(
                bucket: "b", key: Array("k".utf8), change: .at(milliseconds: deadline), conditions: [condition],
                options: RequestOptions(r: .all, w: .all), sloppy: false)
            driver.touch(command, nowMilliseconds: world.now) { applied.append((try? $0.get()) ?? false) }
            world.run()
        }
        XCTAssertEqual(applied, [false, true, false], "XX without a ttl; NX sets one; NX again finds it")
        for node in ["n1", "n2", "n3"] {
            XCTAssertEqual(
                world[node].state("b", "k")?.deadlineMilliseconds(atMilliseconds: world.now), deadline, "\(node) holds the deadline")
        }
    }

    /// The read of a touch happened before a new write; the touch's merge leaves the new
    /// write's value and (absent) expiry alone.
    func testATouchDoesNotOverwriteAWriteThatCameAfterItsRead() throws {
        for mode in ConflictMode.allCases {
            let (world, driver) = setUp(mode: mode)
            _ = try write(driver, world, "old", deadline: nil)
            let before = try XCTUnwrap(try read(driver, world))
            world.advance(byMilliseconds: 10)
            _ = try write(driver, world, "new", deadline: nil)
            let touched = try XCTUnwrap(ExpiryTouch.plan(
                read: before, change: .at(milliseconds: world.now + 1), conditions: [], nowMilliseconds: world.now,
                stamp: HLCTimestamp(physicalMilliseconds: world.now + 50, logical: 0)))
            for node in ["n1", "n2", "n3"] { world[node].put("b", "k", world[node].state("b", "k")!.merged(with: touched, mode: mode)) }
            world.advance(byMilliseconds: 100)
            let after = try XCTUnwrap(try read(driver, world))
            XCTAssertEqual(after.liveSiblings(atMilliseconds: world.now).map(\.value), [Array("new".utf8)], "\(mode)")
        }
    }
}
