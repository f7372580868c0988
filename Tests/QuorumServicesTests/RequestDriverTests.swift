import QuorumCore
import XCTest

@testable import QuorumServices

/// The request path on the fake world: a schedule in (replies, silences, a deadline),
/// the client's answer and the messages sent out.
final class RequestDriverTests: XCTestCase {
    private final class Context: RequestContext {
        let world: FakeWorld
        var inFlight = 0
        var admitted = 0
        var repairs = 0
        var limit = 10
        var clock = HybridLogicalClock()

        init(world: FakeWorld) {
            self.world = world
        }

        var serving: Ring { world.ring }
        var target: Ring { world.target }
        func props(for bucket: String) -> BucketProps { world.props(for: bucket) }
        var unreachableReads = 0
        func unreachable() -> Set<String> {
            unreachableReads += 1
            return world.down
        }
        var unreachableGeneration: UInt64 { world.downGeneration }
        func tick() -> HLCTimestamp { clock.tick(nowMilliseconds: world.now) }
        func observe(_ timestamp: HLCTimestamp) { clock.observe(timestamp, nowMilliseconds: world.now) }
        var actorID: String { "n1.actor" }
        func admit() -> Bool {
            guard inFlight < limit else { return false }
            inFlight += 1
            admitted += 1
            return true
        }
        func release() { inFlight -= 1 }
        func readRepairSent(replicas: Int) { repairs += replicas }
    }

    private final class Random: RandomSource {
        var values: [UInt64] = []
        func next() -> UInt64 { values.isEmpty ? 0 : values.removeFirst() }
    }

    private func setUp(props: BucketProps = BucketProps(n: 3), faults: FaultPoints = .inert, readRepair: Double = 1)
        -> (FakeWorld, RequestDriver, Context)
    {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": props])
        let context = Context(world: world)
        let driver = RequestDriver(
            nodeID: "n1", limits: .defaults, readRepairProbability: readRepair, executor: FakeExecutor(world: world),
            replicas: FakeCaller(node: world["n1"]), context: context, random: Random(), faults: faults)
        return (world, driver, context)
    }

    /// A typed bucket is not truncated (its dots carry no timestamps): refused with a
    /// message that says what to do, and no member adopts a point.
    func testTruncatingATypedBucketIsRefusedBeforeAnyMemberIsAsked() {
        let (world, driver, _) = setUp(props: BucketProps(n: 3, datatype: .set))
        var answer: Result<TruncationOutcome, KVError>?
        driver.truncate(bucket: "b", timeoutMilliseconds: 1000) { answer = $0 }
        world.run()
        guard case .failure(.badParameter(_, let message))? = answer else { return XCTFail("\(String(describing: answer))") }
        XCTAssertTrue(message.contains("typed bucket b"), message)
        XCTAssertTrue(message.contains("DEL"), message)
        XCTAssertTrue(world.sent(from: "n1") { if case .truncate = $0 { return true } else { return false } }.isEmpty)
        XCTAssertNil(world["n1"].truncations.point(for: "b"))
    }

    /// A strong bucket is not truncated either (its keys change only through consensus).
    func testTruncatingAStrongBucketIsRefusedBeforeAnyMemberIsAsked() {
        let (world, driver, _) = setUp(props: BucketProps(n: 3, consistency: .strong))
        var answer: Result<TruncationOutcome, KVError>?
        driver.truncate(bucket: "b", timeoutMilliseconds: 1000) { answer = $0 }
        world.run()
        guard case .failure(.badParameter(_, let message))? = answer else { return XCTFail("\(String(describing: answer))") }
        XCTAssertTrue(message.contains("strong bucket b"), message)
        XCTAssertTrue(message.contains("delete strong keys one by one"), message)
        XCTAssertTrue(world.sent(from: "n1") { if case .truncate = $0 { return true } else { return false } }.isEmpty)
    }

    func testAWriteIsAnsweredOnceWReplicasHoldItAndTellsWhoAcknowledged() {
        let (world, driver, context) = setUp()
        var answer: Result<WriteOutcome, KVError>?
        let command = WriteCommand(
            bucket: "b", key: Array("k".utf8), intent: WriteIntent(value: Array("v".utf8), contentType: "text/plain", context: .empty),
            options: RequestOptions(w: .count(2)), sloppy: false)
        driver.write(command) { answer = $0 }
        world.run()
        let outcome = try? XCTUnwrap(answer).get()
        XCTAssertEqual(outcome?.acks, 2, "answered at w = 2")
        XCTAssertEqual(Set(outcome?.acknowledged.map(\.node) ?? []).count, 2)
        XCTAssertTrue(Set(outcome?.acknowledged.map(\.node) ?? []).isSubset(of: ["n1", "n2", "n3"]))
        for node in ["n1", "n2", "n3"] {
            XCTAssertEqual(world[node].state("b", "k")?.liveSiblings.map(\.value), [Array("v".utf8)], "\(node): the third copy lands too")
        }
        XCTAssertEqual(context.inFlight, 0, "the admission slot is given back")
    }

    func testAWriteTooBigOrToAnEmptyKeyIsRefusedBeforeAnyReplicaIsAsked() {
        let (world, driver, context) = setUp()
        var answers: [Result<WriteOutcome, KVError>] = []
        let big = WriteIntent(value: Array(repeating: 1, count: Limits.defaults.valueBytesMax + 1), contentType: "x", context: .empty)
        driver.write(WriteCommand(bucket: "b", key: [1], intent: big, options: RequestOptions(), sloppy: false)) { answers.append($0) }
        let small = WriteIntent(value: [1], contentType: "x", context: .empty)
        driver.write(WriteCommand(bucket: "b", key: [], intent: small, options: RequestOptions(), sloppy: false)) { answers.append($0) }
        world.run()
        XCTAssertEqual(answers.count, 2)
        XCTAssertTrue(answers.allSatisfy { if case .failure = $0 { true } else { false } })
        XCTAssertTrue(world.sent(from: "n1") { _ in true }.isEmpty)
        XCTAssertEqual(context.admitted, 0)
    }

    func testPastTheAdmissionBoundARequestIsOverloaded() {
        let (world, driver, context) = setUp()
        context.limit = 0
        var answer: Result<ReadOutcome, KVError>?
        driver.get(bucket: "b", key: [1], options: RequestOptions(), sloppy: false) { answer = $0 }
        world.run()
        guard case .failure(.overloaded)? = answer else { return XCTFail("\(String(describing: answer))") }
    }

    func testASilentReplicaFailsAReadAtAllWhenItsDeadlinePasses() {
        let (world, driver, context) = setUp()
        world.down = ["n3"]
        var answer: Result<ReadOutcome, KVError>?
        driver.get(bucket: "b", key: [1], options: RequestOptions(r: .all, timeoutMilliseconds: 200), sloppy: false) { answer = $0 }
        world.run()
        guard case .failure(let error)? = answer else { return XCTFail("\(String(describing: answer))") }
        XCTAssertEqual(error.code, "quorum_not_met")
        XCTAssertEqual(context.inFlight, 0)
    }

    func testAReadRepairsAStaleReplicaWithTheMergedState() {
        let (world, driver, context) = setUp(props: BucketProps(n: 3, conflict: .lww))
        let newer = lwwState("new", at: 20)
        world["n1"].put("b", "k", newer)
        world["n2"].put("b", "k", lwwState("old", at: 10))
        world["n3"].put("b", "k", newer)
        var answer: Result<ReadOutcome, KVError>?
        driver.get(bucket: "b", key: Array("k".utf8), options: RequestOptions(r: .all), sloppy: false) { answer = $0 }
        world.run()
        XCTAssertEqual(try? answer?.get().state, newer)
        XCTAssertEqual(world["n2"].state("b", "k"), newer, "the stale replica got the merged state")
        XCTAssertEqual(context.repairs, 1)
    }

    func testTheReadRepairShareIsDrawnFromTheRandomSource() {
        let (world, driver, context) = setUp(props: BucketProps(n: 3, conflict: .lww), readRepair: 0)
        world["n1"].put("b", "k", lwwState("new", at: 20))
        driver.get(bucket: "b", key: Array("k".utf8), options: RequestOptions(r: .all), sloppy: false) { _ in }
        world.run()
        XCTAssertEqual(context.repairs, 0, "a probability of 0 never repairs")
        XCTAssertNil(world["n2"].state("b", "k"))
    }

    func testACreateOnlyWriteIsRefusedOverALiveValueAndTheFaultPointSkipsTheCheck() {
        for bug in [InjectedBug.none, .createOnlySkipsExistenceCheck] {
            let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": BucketProps(n: 3)])
            for node in ["n1", "n2", "n3"] {
                let storage = FakeStorage(node: world[node])
                world[node].replaceReplica(ReplicaDriver(
                    nodeID: node, partitionCount: world.ring.partitionCount, limits: .defaults, storage: storage, trees: storage,
                    context: FakeReplicaContext(node: world[node]), clock: FakeClock(world: world),
                    faults: FaultPoints(bug: bug)))
            }
            let context = Context(world: world)
            let driver = RequestDriver(
                nodeID: "n1", limits: .defaults, readRepairProbability: 1, executor: FakeExecutor(world: world),
                replicas: FakeCaller(node: world["n1"]), context: context, random: Random())
            let intent = WriteIntent(value: [1], contentType: "x", context: .empty)
            driver.write(WriteCommand(bucket: "b", key: [7], intent: intent, options: RequestOptions(), sloppy: false)) { _ in }
            world.run()
            var answer: Result<WriteOutcome, KVError>?
            driver.write(WriteCommand(bucket: "b", key: [7], intent: intent, options: RequestOptions(), ifAbsent: true, sloppy: false)) {
                answer = $0
            }
            world.run()
            if bug == .none {
                guard case .failure(.preconditionFailed)? = answer else { return XCTFail("\(String(describing: answer))") }
            } else {
                XCTAssertNotNil(try? answer?.get(), "with the fault point the check is skipped")
            }
        }
    }

    // MARK: Deadlines

    private static let granularity = UInt64(ServiceDefaults.requestDeadlineGranularityMilliseconds)

    func testARequestNobodyAnswersFailsNoSoonerThanItsTimeoutAndAtMostTheGranularityAfter() {
        let (world, driver, context) = setUp()
        world.silent = ["n2", "n3"]
        // Reads and writes with different timeouts, started a few milliseconds apart, so the
        // tick armed for one request meets deadlines of others, shorter ones included.
        let timeouts = [200, 150, 300, 7, 200, 1, 2000, 9, 150]
        var finished: [(deadline: UInt64, at: UInt64, error: KVError?)] = []
        for (index, timeout) in timeouts.enumerated() {
            let deadline = world.now + UInt64(timeout)
            let record: (KVError?) -> Void = { finished.append((deadline, world.now, $0)) }
            if index.isMultiple(of: 2) {
                driver.get(bucket: "b", key: [UInt8(index)], options: RequestOptions(r: .all, timeoutMilliseconds: timeout), sloppy: false) {
                    record($0.failure)
                }
            } else {
                let command = WriteCommand(
                    bucket: "b", key: [UInt8(index)], intent: WriteIntent(value: [1], contentType: "x", context: .empty),
                    options: RequestOptions(w: .all, timeoutMilliseconds: timeout), sloppy: false)
                driver.write(command) { record($0.failure) }
            }
            world.run(for: 3)
        }
        world.run()
        XCTAssertEqual(finished.count, timeouts.count)
        for request in finished {
            XCTAssertGreaterThanOrEqual(request.at, request.deadline, "never before the timeout")
            XCTAssertLessThanOrEqual(request.at, request.deadline + Self.granularity, "at most one granularity late")
            XCTAssertEqual(request.error?.code, "quorum_not_met")
        }
        XCTAssertEqual(context.inFlight, 0)
        XCTAssertEqual(driver.sweep.waiting, 0)
        XCTAssertFalse(driver.sweep.isArmed, "nothing waits: no timer")
    }

    func testAFinishedRequestLeavesNothingInTheSweepAndTheTickStopsOnceNothingWaits() {
        let (world, driver, context) = setUp()
        context.limit = 100
        var answers = 0
        for key in 0..<20 {
            driver.get(bucket: "b", key: [UInt8(key)], options: RequestOptions(r: .all), sloppy: false) { _ in answers += 1 }
        }
        XCTAssertEqual(driver.sweep.waiting, 20, "remote replicas: each read waits")
        XCTAssertTrue(driver.sweep.isArmed)
        world.run(for: 10)
        XCTAssertEqual(answers, 20)
        XCTAssertEqual(driver.sweep.waiting, 0, "an answered request leaves the sweep at once")
        world.run()
        XCTAssertFalse(driver.sweep.isArmed, "the last tick found nothing and armed no other")
    }

    func testNoTickIsArmedForARequestAnsweredBeforeItsFirstCallsReturn() {
        let world = FakeWorld(members: ["n1"], props: ["b": BucketProps(n: 1)])
        let driver = RequestDriver(
            nodeID: "n1", limits: .defaults, readRepairProbability: 1, executor: FakeExecutor(world: world),
            replicas: FakeCaller(node: world["n1"]), context: Context(world: world), random: Random())
        XCTAssertFalse(driver.sweep.isArmed, "a new driver has no timer")
        var answer: Result<ReadOutcome, KVError>?
        driver.get(bucket: "b", key: [1], options: RequestOptions(), sloppy: false) { answer = $0 }
        XCTAssertNotNil(answer, "the local replica answered at once")
        XCTAssertEqual(driver.sweep.waiting, 0)
        XCTAssertFalse(driver.sweep.isArmed, "a request that never waited armed nothing")
    }

    // MARK: Replica plans

    func testReplicaPlansAreReusedUntilTheRingOrTheUnreachablePeersChange() {
        let (world, driver, context) = setUp()
        let key: [UInt8] = [42]
        func read(sloppy: Bool = false) {
            driver.get(bucket: "b", key: key, options: RequestOptions(), sloppy: sloppy) { _ in }
            world.run()
        }
        read()
        XCTAssertEqual([driver.plans.hits, driver.plans.misses], [0, 1])
        read()
        read()
        XCTAssertEqual([driver.plans.hits, driver.plans.misses], [2, 1], "nothing changed: the plan is reused")
        XCTAssertEqual(context.unreachableReads, 1, "the unreachable set is read once, not per request")

        read(sloppy: true)
        XCTAssertEqual(driver.plans.misses, 2, "a sloppy plan is another plan")

        world.ring = Ring(members: ["n1", "n2", "n3"], partitionCount: world.ring.partitionCount)
        read()
        XCTAssertEqual(driver.plans.misses, 2, "a ring rebuilt equal keeps the plans")

        world.ring = Ring(members: ["n3", "n1", "n2"], partitionCount: world.ring.partitionCount)
        read()
        XCTAssertEqual(driver.plans.misses, 3, "another ring: the plan is rebuilt")
        read()
        XCTAssertEqual(driver.plans.misses, 3)

        world.down = ["n2"]
        read()
        XCTAssertEqual(driver.plans.misses, 4, "other unreachable peers: the plan is rebuilt")
        XCTAssertEqual(context.unreachableReads, 3)
        world.down = ["n2"]
        read()
        XCTAssertEqual(driver.plans.misses, 4, "the same peers published again change nothing")
    }

    func testACachedPlanStartsOnTheStandInsOfTheUnreachablePeersOfItsGeneration() {
        let world = FakeWorld(members: ["n1", "n2", "n3", "n4"], props: ["b": BucketProps(n: 2)])
        let context = Context(world: world)
        let driver = RequestDriver(
            nodeID: "n1", limits: .defaults, readRepairProbability: 0, executor: FakeExecutor(world: world),
            replicas: FakeCaller(node: world["n1"]), context: context, random: Random())
        let key = (0...255).map { [UInt8($0)] }.first { world.ring.preferenceList(bucket: "b", key: $0, n: 2).first == "n2" }!
        let primaries = world.ring.preferenceList(bucket: "b", key: key, n: 2)
        func fetched() -> Set<String> {
            world.clearLog()
            driver.get(bucket: "b", key: key, options: RequestOptions(r: .one), sloppy: true) { _ in }
            world.run()
            return Set(world.sent(from: "n1") { if case .fetch = $0 { true } else { false } }.map(\.to))
        }
        XCTAssertEqual(fetched(), Set(primaries))
        world.down = ["n2"]
        let standIn = world.ring.fallbacks(partition: world.ring.partition(bucket: "b", key: key), n: 2).first!
        XCTAssertEqual(fetched(), Set(primaries).subtracting(["n2"]).union([standIn]), "n2's slot starts on its stand-in")
        world.down = []
        XCTAssertEqual(fetched(), Set(primaries), "back: the primary again")
    }

    func testThePlanCacheStaysWithinItsBound() {
        let world = FakeWorld(members: ["n1", "n2", "n3"], partitionCount: 64, props: ["b": BucketProps(n: 3)])
        let context = Context(world: world)
        context.limit = .max
        let driver = RequestDriver(
            nodeID: "n1", limits: .defaults, readRepairProbability: 0, executor: FakeExecutor(world: world),
            replicas: FakeCaller(node: world["n1"]), context: context, random: Random(), replicaPlansCachedMax: 16)
        for key in 0..<500 {
            for n in 1...3 {
                driver.get(bucket: "b", key: [UInt8(key & 0xFF), UInt8(key >> 8)], options: RequestOptions(n: n, r: .one), sloppy: key.isMultiple(of: 2)) { _ in }
            }
            world.run()
            XCTAssertLessThanOrEqual(driver.plans.count, 16)
        }
        XCTAssertEqual(driver.plans.hits + driver.plans.misses, 1500)
        XCTAssertGreaterThan(driver.plans.hits, 0)
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
