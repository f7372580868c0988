import QuorumCore
import XCTest

@testable import QuorumServices

/// The strong path (issue #17) on the fake world: the node's own proposer driver and
/// acceptor handler, their messages, what each replica stores, and what the client hears.
final class StrongRequestTests: XCTestCase {
    private final class Context: RequestContext {
        let world: FakeWorld
        var inFlight = 0
        var clock = HybridLogicalClock()

        init(world: FakeWorld) {
            self.world = world
        }

        var serving: Ring { world.ring }
        var target: Ring { world.target }
        func props(for bucket: String) -> BucketProps { world.props(for: bucket) }
        func unreachable() -> Set<String> { world.down }
        var unreachableGeneration: UInt64 { world.downGeneration }
        func tick() -> HLCTimestamp { clock.tick(nowMilliseconds: world.now) }
        func observe(_ timestamp: HLCTimestamp) { clock.observe(timestamp, nowMilliseconds: world.now) }
        var actorID: String { "\(world.ring.members.first!).actor" }
        func admit() -> Bool {
            inFlight += 1
            return true
        }
        func release() { inFlight -= 1 }
        func readRepairSent(replicas: Int) {}
    }

    private final class Random: RandomSource {
        var state: UInt64 = 7
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return state
        }
    }

    private var world: FakeWorld!
    private var contexts: [String: Context] = [:]
    private var drivers: [String: RequestDriver] = [:]

    override func setUp() {
        world = FakeWorld(members: ["n1", "n2", "n3"], props: ["s": BucketProps(n: 3, consistency: .strong), "e": BucketProps(n: 3)])
        for node in ["n1", "n2", "n3"] {
            let context = Context(world: world)
            contexts[node] = context
            drivers[node] = RequestDriver(
                nodeID: node, limits: .defaults, readRepairProbability: 0, executor: FakeExecutor(world: world),
                replicas: FakeCaller(node: world[node]), context: context, random: Random())
        }
    }

    private let key = Array("k".utf8)

    private func value(_ text: String) -> StrongValue { .value(bytes: Array(text.utf8), contentType: "text/plain") }

    @discardableResult
    private func run(
        _ operation: StrongOperation, at node: String = "n1", options: RequestOptions = RequestOptions(), bucket: String = "s"
    ) -> Result<StrongAnswer, KVError>? {
        var answer: Result<StrongAnswer, KVError>?
        drivers[node]!.strong(StrongCommand(bucket: bucket, key: key, operation: operation, options: options)) { answer = $0 }
        world.run()
        return answer
    }

    private func record(on node: String) -> PaxosCommit? {
        let partition = world.ring.partition(bucket: "s", key: key)
        var stored: StoredPaxos?
        FakeStorage(node: world[node]).readPaxos(partition: partition, bucket: "s", key: key) { stored = try? $0.get() }
        return try? stored?.acceptorState().committed
    }

    func testAWriteIsReadBackWithItsEtagFromAnotherCoordinator() throws {
        guard case .done(let written, let etag?)? = try run(.write(value("v1")))?.get() else { return XCTFail("no etag") }
        XCTAssertEqual(written, value("v1"))
        guard case .done(let read, let readEtag)? = try run(.read, at: "n2")?.get() else { return XCTFail("read failed") }
        XCTAssertEqual(read, value("v1"))
        XCTAssertEqual(readEtag, etag, "the etag a write answers is the one reads see, with no second read")
        for node in ["n1", "n2", "n3"] {
            XCTAssertEqual(record(on: node)?.value, value("v1"), "\(node) learned the commit in its kv row")
        }
        XCTAssertEqual(contexts["n1"]!.inFlight, 0, "the admission slot is given back")
    }

    func testAReadTakesOneRoundAndAWriteTwo() {
        run(.write(value("v1")))
        world.clearLog()
        run(.read, at: "n2")
        let prepares = world.sent(from: "n2") { if case .paxosPrepare = $0 { true } else { false } }
        let proposes = world.sent(from: "n2") { if case .paxosPropose = $0 { true } else { false } }
        XCTAssertEqual(prepares.count, 3)
        XCTAssertEqual(proposes.count, 0, "a read that finds nothing in flight proposes nothing")
        world.clearLog()
        run(.write(value("v2")), at: "n2")
        XCTAssertEqual(world.sent(from: "n2") { if case .paxosPrepare = $0 { true } else { false } }.count, 3)
        XCTAssertEqual(world.sent(from: "n2") { if case .paxosPropose = $0 { true } else { false } }.count, 3)
    }

    func testCompareAndSetAppliesOnlyWhenItsConditionHolds() throws {
        guard case .done(_, let first?)? = try run(.compareAndSet(.ifAbsent, value("a")))?.get() else { return XCTFail() }
        guard case .conditionFailed(let current, let etag)? = try run(.compareAndSet(.ifAbsent, value("b")), at: "n3")?.get()
        else { return XCTFail("a second create-only write must fail") }
        XCTAssertEqual(current, value("a"))
        XCTAssertEqual(etag, first)
        guard case .done(_, let second?)? = try run(.compareAndSet(.ifMatch(first), value("c")), at: "n2")?.get() else {
            return XCTFail("If-Match with the current etag applies")
        }
        guard case .conditionFailed(let now, let nowEtag)? = try run(.compareAndSet(.ifMatch(first), value("d")))?.get() else {
            return XCTFail("If-Match with a stale etag fails")
        }
        XCTAssertEqual(now, value("c"))
        XCTAssertEqual(nowEtag, second)
        guard case .done? = try run(.compareAndSet(.ifEquals(Array("c".utf8)), .tombstone))?.get() else { return XCTFail() }
        guard case .done(nil, nil)? = try run(.read, at: "n3")?.get() else { return XCTFail("deleted") }
        guard case .conditionFailed? = try run(.compareAndSet(.ifPresent, value("e")))?.get() else { return XCTFail() }
    }

    func testWithoutAMajorityAnOperationFailsUnavailableWithCountsAndNothingIsChosen() {
        world.down = ["n2", "n3"]
        guard case .failure(.unavailable(let message))? = run(.write(value("v")), options: RequestOptions(timeoutMilliseconds: 400))
        else { return XCTFail("no majority") }
        XCTAssertTrue(message.contains("needed 2 of 3"), message)
        XCTAssertTrue(message.contains("not applied"), message)
        world.down = []
        guard case .done(nil, nil)? = try? run(.read)?.get() else { return XCTFail("nothing was chosen") }
    }

    func testOneReplicaDownLeavesAMajority() throws {
        world.down = ["n3"]
        guard case .done? = try run(.write(value("v")), options: RequestOptions(timeoutMilliseconds: 400))?.get() else {
            return XCTFail()
        }
        XCTAssertNil(record(on: "n3"), "no stand-in, no hint: the down primary just misses it")
    }

    func testPerRequestQuorumsAreRefusedAndEventualBucketsRefuseConditions() {
        for options in [RequestOptions(n: 1), RequestOptions(r: .count(1)), RequestOptions(w: .count(1))] {
            guard case .failure(.badParameter(_, let message))? = run(.read, options: options) else { return XCTFail("\(options)") }
            XCTAssertTrue(message.contains("strongly consistent"), message)
        }
        guard case .failure(.badParameter(_, let message))? = run(.compareAndSet(.ifAbsent, value("x")), bucket: "e") else {
            return XCTFail("a condition on an eventual bucket")
        }
        XCTAssertTrue(message.contains("consistency strong"), message)
        XCTAssertTrue(world.sent.isEmpty, "refused before any replica is asked")
    }

    func testAPlainWriteToAStrongBucketIsRefused() {
        var answer: Result<WriteOutcome, KVError>?
        let intent = WriteIntent(value: [1], contentType: "x", context: .empty)
        drivers["n1"]!.write(WriteCommand(bucket: "s", key: key, intent: intent, options: RequestOptions(), sloppy: false)) {
            answer = $0
        }
        world.run()
        guard case .failure(.wrongType)? = answer else { return XCTFail("\(String(describing: answer))") }
    }

    func testACatchingUpReplicaDoesNotVoteButStillLearnsCommits() throws {
        world["n3"].consensusFloor = .catchingUp(floor: nil)
        world.down = ["n2"]
        guard case .failure(.unavailable)? = run(.write(value("v")), options: RequestOptions(timeoutMilliseconds: 400)) else {
            return XCTFail("n3 does not vote, so n1 alone is no majority")
        }
        world.down = []
        guard case .done? = try run(.write(value("w")))?.get() else { return XCTFail() }
        XCTAssertEqual(record(on: "n3")?.value, value("w"), "commits are learned while catching up")
    }

    func testCatchUpEndsAboveEveryMembersClockOnceAllAnswered() {
        world["n3"].consensusFloor = .catchingUp(floor: nil)
        let catchUp = PaxosCatchUpDriver(
            nodeID: "n3", replicas: FakeCaller(node: world["n3"]), context: FakeReplicaContext(node: world["n3"]),
            members: { ["n1", "n2", "n3"] }, timeoutMilliseconds: 100)
        world.down = ["n2"]
        catchUp.tick()
        world.run()
        XCTAssertTrue(catchUp.isCatchingUp, "one member did not answer: no floor yet")
        XCTAssertEqual(catchUp.incompleteRounds, 1)
        world.down = []
        world.clearLog()
        let asked = world.now
        catchUp.tick()
        world.run()
        let clockReads = world.sent(from: "n3") { if case .paxosFloor = $0 { true } else { false } }
        XCTAssertEqual(clockReads.map(\.to), ["n2"], "n1's clock, read before, stays good: only the missing member is asked")
        guard case .voting(let floor?) = world["n3"].consensusFloor else {
            return XCTFail("no member held strong values, so n3 simply votes: \(world["n3"].consensusFloor)")
        }
        XCTAssertGreaterThan(floor.timestamp, HLCTimestamp(physicalMilliseconds: asked, logical: 0))
        for node in ["n1", "n2"] {
            XCTAssertEqual(world[node].consensusFloor, .voting(floor: floor), "\(node) was fenced at n3's floor")
        }
    }

    private func catchUp(_ node: String) -> PaxosCatchUpDriver {
        let driver = PaxosCatchUpDriver(
            nodeID: node, replicas: FakeCaller(node: world[node]), context: FakeReplicaContext(node: world[node]),
            members: { ["n1", "n2", "n3"] }, timeoutMilliseconds: 100)
        driver.tick()
        world.run()
        return driver
    }

    /// The gap a floor alone leaves: a value chosen by n1 and n3 while n2 was away lives on
    /// n1 alone once n3's disk is wiped, and a prepare answered by n2 and an empty n3 would
    /// read the older value. n3 relearns instead: it promises for the key only once it
    /// knows it again, so without n1 the key is unavailable, never stale.
    func testAReplicaThatLostAVoteRelearnsTheKeyBeforeItPromisesForIt() throws {
        guard case .done? = try run(.write(value("old")))?.get() else { return XCTFail() }
        world.down = ["n2"]
        guard case .done? = try run(.write(value("new")))?.get() else { return XCTFail("n1 and n3 are a majority") }
        world.down = ["n3"]
        world.run()
        world["n3"].wipe()
        world.down = ["n1"]
        XCTAssertTrue(catchUp("n3").isCatchingUp, "n1 did not answer: no floor yet")
        world.down = []
        world.run()
        let driver = catchUp("n3")
        XCTAssertFalse(driver.isCatchingUp)
        guard case .relearning(let floor) = world["n3"].consensusFloor else {
            return XCTFail("n1 and n2 held strong values: \(world["n3"].consensusFloor)")
        }
        XCTAssertEqual(world["n1"].consensusFloor, .voting(floor: floor), "fenced before it said what it holds")

        world.down = ["n1"]
        let read = run(.read, at: "n2", options: RequestOptions(timeoutMilliseconds: 400))
        guard case .failure(.unavailable)? = read else {
            return XCTFail("n3 must not promise for a key it lost: \(String(describing: read))")
        }
        world.down = []
        guard case .done(let current, _)? = try run(.read, at: "n2")?.get() else { return XCTFail() }
        XCTAssertEqual(current, value("new"), "the value chosen with n3's lost vote survives")
        world.down = ["n1"]
        guard case .done(let taught, _)? = try run(.read, at: "n2")?.get() else {
            return XCTFail("the read n3 could not promise for taught it the value above its floor")
        }
        XCTAssertEqual(taught, value("new"))
        world.down = []
        guard case .done? = try run(.write(value("newer")), at: "n2")?.get() else { return XCTFail() }
        world.down = ["n1"]
        guard case .done(let after, _)? = try run(.read, at: "n2")?.get() else { return XCTFail() }
        XCTAssertEqual(after, value("newer"))
    }

    /// A write made by the other two replicas teaches a relearning replica the key as well:
    /// it votes for the proposal, above its floor.
    func testARelearningReplicaLearnsAKeyFromAWriteItVotesFor() throws {
        guard case .done? = try run(.write(value("elsewhere")))?.get() else { return XCTFail() }
        world["n3"].consensusFloor = .relearning(
            floor: PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: world.now, logical: 1), node: "n3"))
        world.down = ["n1"]
        guard case .failure(.unavailable)? = run(.read, at: "n2", options: RequestOptions(timeoutMilliseconds: 400)) else {
            return XCTFail("n3 does not know the key")
        }
        world.down = []
        guard case .done? = try run(.write(value("v")), at: "n2")?.get() else { return XCTFail() }
        world.down = ["n1"]
        guard case .done(let read, _)? = try run(.read, at: "n2")?.get() else { return XCTFail("n3 voted for the write") }
        XCTAssertEqual(read, value("v"))
    }

    func testAnAcceptorRefusesABallotBelowTheFloorItCaughtUpTo() throws {
        let partition = world.ring.partition(bucket: "s", key: key)
        let floor = PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: world.now + 60_000, logical: 0), node: "n3")
        world["n3"].consensusFloor = .voting(floor: floor)
        let low = PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: world.now, logical: 0), node: "n1")
        var reply: PeerResponse?
        world.call(from: "n1", to: "n3", .paxosPrepare(bucket: "s", key: key, ballot: low), timeoutMilliseconds: 100) { reply = $0 }
        world.run()
        XCTAssertEqual(reply, .paxos(.rejected(promised: floor)))
        _ = partition
    }
}
