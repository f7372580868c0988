import QuorumCore
import XCTest

@testable import QuorumServices

/// Hinted handoff on the fake world: a hint is acknowledged once stored, delivered when its
/// target is believed up, deleted once the target took it, and refused past the bound.
final class HintDriverTests: XCTestCase {
    private final class Rows: HintStorage {
        var stored: [UInt64: Hint] = [:]
        var failPuts = false

        func putHint(_ hint: Hint, completion: @escaping (Result<Void, StorageFailure>) -> Void) {
            if failPuts { return completion(.failure(.failed("disk trouble"))) }
            stored[hint.id] = hint
            completion(.success(()))
        }

        func deleteHints(ids: [UInt64], completion: @escaping (Result<Void, StorageFailure>) -> Void) {
            for id in ids { stored[id] = nil }
            completion(.success(()))
        }
    }

    private final class Log: ServiceLog {
        var lines: [String] = []
        func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) { lines.append(message) }
    }

    private func driver(_ world: FakeWorld, rows: Rows, limits: HintLimits = .defaults, faults: FaultPoints = .inert) -> HintDriver {
        HintDriver(
            restored: [], limits: limits, storage: rows, replicas: FakeCaller(node: world["n1"]), clock: FakeClock(world: world),
            log: Log(), deliveryTimeoutMilliseconds: 1000, faults: faults)
    }

    private func take(_ hints: HintDriver, key: String) -> PeerResponse? {
        var answer: PeerResponse?
        hints.take(target: "n3", bucket: "b", key: Array(key.utf8), state: lwwState(key, at: 10), mode: .lww) { answer = $0 }
        return answer
    }

    func testAHintIsKeptUntilItsTargetIsUpAndTookIt() {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": BucketProps(n: 3, conflict: .lww)])
        let rows = Rows()
        let hints = driver(world, rows: rows)
        XCTAssertEqual(take(hints, key: "k"), .ack)
        XCTAssertEqual(rows.stored.count, 1, "acknowledged only once stored")
        hints.deliver(down: ["n3"])
        world.run()
        XCTAssertNil(world["n3"].state("b", "k"), "nothing goes to a target believed down")
        XCTAssertEqual(hints.queue.pendingCount, 1)
        hints.deliver(down: [])
        world.run()
        XCTAssertEqual(world["n3"].state("b", "k"), lwwState("k", at: 10))
        XCTAssertEqual(hints.queue.pendingCount, 0)
        XCTAssertTrue(rows.stored.isEmpty, "a delivered hint's row is deleted")
    }

    func testAFailedDeliveryKeepsTheHintForALaterPass() {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": BucketProps(n: 3, conflict: .lww)])
        let rows = Rows()
        let hints = driver(world, rows: rows)
        _ = take(hints, key: "k")
        world.down = ["n3"]  // the transport cannot reach it, though the detector thinks it up
        hints.deliver(down: [])
        world.run()
        XCTAssertEqual(hints.queue.pendingCount, 1)
        XCTAssertEqual(rows.stored.count, 1)
        world.down = []
        hints.targetsReachable(["n3"])
        hints.deliver(down: [])
        world.run()
        XCTAssertEqual(hints.queue.pendingCount, 0, "back: delivered without waiting out the backoff")
    }

    func testPastItsBoundOrWhenItCannotStoreAHintIsRefused() {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": BucketProps(n: 3, conflict: .lww)])
        var limits = HintLimits.defaults
        limits.countMax = 1
        let rows = Rows()
        let hints = driver(world, rows: rows, limits: limits)
        XCTAssertEqual(take(hints, key: "a"), .ack)
        guard case .failure(let code, _)? = take(hints, key: "b") else { return XCTFail("a second hint fits no bound of 1") }
        XCTAssertEqual(code, "overloaded")
        let failing = Rows()
        failing.failPuts = true
        guard case .failure(let failed, _)? = take(driver(world, rows: failing), key: "c") else { return XCTFail("not stored, not acked") }
        XCTAssertEqual(failed, "internal")
    }

    func testTheDroppedHintFaultPointAcknowledgesWithoutKeeping() {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: ["b": BucketProps(n: 3, conflict: .lww)])
        let rows = Rows()
        let hints = driver(world, rows: rows, faults: FaultPoints(bug: .hintDroppedOnTake))
        XCTAssertEqual(take(hints, key: "k"), .ack)
        XCTAssertTrue(rows.stored.isEmpty)
        hints.deliver(down: [])
        world.run()
        XCTAssertNil(world["n3"].state("b", "k"), "the write never reaches its primary")
    }
}
