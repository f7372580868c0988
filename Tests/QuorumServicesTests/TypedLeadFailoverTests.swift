import QuorumCore
import XCTest

@testable import QuorumServices

/// A typed update whose lead does not answer: an increment is not handed to the next lead
/// (which would count it again under its own actor), any other operation is.
final class TypedLeadFailoverTests: XCTestCase {
    /// Believes every node up, so a lead that does not answer is asked first.
    private final class Context: RequestContext {
        let world: FakeWorld
        var clock = HybridLogicalClock()

        init(world: FakeWorld) {
            self.world = world
        }

        var serving: Ring { world.ring }
        var target: Ring { world.target }
        func props(for bucket: String) -> BucketProps { world.props(for: bucket) }
        func unreachable() -> Set<String> { [] }
        var unreachableGeneration: UInt64 { 0 }
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

    /// A world of three nodes coordinated by n1, a key whose two replicas (n = 2) are other
    /// nodes, and the first of them not answering.
    private func setUp(_ datatype: DataType) -> (world: FakeWorld, driver: RequestDriver, key: [UInt8], silent: String, next: String) {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": BucketProps(n: 2, datatype: datatype)])
        let key = (0..<100).lazy.map { Array("k\($0)".utf8) }.first { key in
            !world.ring.preferenceList(partition: world.ring.partition(bucket: "b", key: key), n: 2).contains("n1")
        }!
        let replicas = world.ring.preferenceList(partition: world.ring.partition(bucket: "b", key: key), n: 2)
        world.down = [replicas[0]]  // calls to it time out; the coordinator still believes it up
        let driver = RequestDriver(
            nodeID: "n1", limits: .defaults, readRepairProbability: 1, executor: FakeExecutor(world: world),
            replicas: FakeCaller(node: world["n1"]), context: Context(world: world), random: Random())
        return (world, driver, key, replicas[0], replicas[1])
    }

    private func leadRequests(_ world: FakeWorld) -> [String] {
        world.sent(from: "n1") { if case .typedUpdate = $0 { return true } else { return false } }.map(\.to)
    }

    func testAnIncrementWhoseLeadDidNotAnswerFailsWithoutAskingAnotherLead() {
        let (world, driver, key, silent, _) = setUp(.counter)
        var answer: Result<TypedUpdateOutcome, KVError>?
        let command = TypedUpdateCommand(
            bucket: "b", key: key, operation: .increment(by: 5, operationID: Array("op".utf8)), options: RequestOptions(w: .count(1)),
            sloppy: false)
        driver.updateTyped(command) { answer = $0 }
        world.run()
        guard case .failure(.unavailable(let message))? = answer else { return XCTFail("\(String(describing: answer))") }
        XCTAssertTrue(message.contains("may or may not have been applied"), message)
        XCTAssertEqual(leadRequests(world), [silent], "no second lead counts it again")
    }

    func testASetAddWhoseLeadDidNotAnswerMovesToTheNextLead() throws {
        let (world, driver, key, silent, next) = setUp(.set)
        var answer: Result<TypedUpdateOutcome, KVError>?
        let command = TypedUpdateCommand(
            bucket: "b", key: key, operation: .setAdd([Array("e".utf8)]), options: RequestOptions(w: .count(1)), sloppy: false)
        driver.updateTyped(command) { answer = $0 }
        world.run()
        XCTAssertEqual(try XCTUnwrap(answer).get().lead, next)
        XCTAssertEqual(leadRequests(world), [silent, next])
    }
}
