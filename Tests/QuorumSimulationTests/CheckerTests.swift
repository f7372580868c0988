import QuorumCore
@testable import QuorumSimulation
import XCTest

/// Each checker, fed a hand-made history, reports the anomaly it is for and stays quiet
/// on the legitimate case next to it.
final class CheckerTests: XCTestCase {
    private let vclockKey = CheckInput.KeyName(bucket: SimulatedBuckets.vclock, key: Array("k0".utf8))
    private let lwwKey = CheckInput.KeyName(bucket: SimulatedBuckets.lww, key: Array("k0".utf8))

    private func sibling(_ value: String, _ actor: String, _ counter: UInt64, at time: UInt64, tombstone: Bool = false) -> Sibling {
        Sibling(
            dot: Dot(actor: actor, counter: counter), value: Array(value.utf8), contentType: "text/plain", isTombstone: tombstone,
            timestamp: HLCTimestamp(physicalMilliseconds: time, logical: 0))
    }

    private func state(_ siblings: [Sibling]) -> KeyState {
        var clock = VersionVector()
        for sibling in siblings { clock.advance(sibling.dot.actor, to: sibling.dot.counter) }
        return KeyState(clock: clock, siblings: siblings)
    }

    @discardableResult
    private func record(
        _ history: inout History, _ kind: History.Kind, _ name: CheckInput.KeyName, context: VersionVector = .empty,
        options: RequestOptions = RequestOptions(), from start: UInt64, to end: UInt64, outcome: History.Outcome
    ) -> Int {
        let id = history.begin(
            client: 0, kind: kind, bucket: name.bucket, key: name.key, node: 0, options: options, sloppy: false, value: [],
            context: context, at: start)
        history.complete(id, outcome: outcome, at: end)
        return id
    }

    private func input(
        _ history: History, mix: FaultMix = .lossy, final: [CheckInput.KeyName: KeyState?],
        replicas: [CheckInput.KeyName: [(node: String, state: KeyState?)]] = [:]
    ) -> CheckInput {
        CheckInput(
            history: history, mix: mix, keys: final.keys.sorted(), finalStates: final, replicaStates: replicas, nodeCount: 5)
    }

    func testLostAcknowledgedWriteIsReportedUnlessACoveringWriteSupersededIt() {
        let written = sibling("a", "n1.sim", 1, at: 10)
        var history = History()
        record(&history, .put, vclockKey, from: 0, to: 5, outcome: .written(version: written, state: state([written])))
        let other = sibling("b", "n2.sim", 1, at: 20)
        XCTAssertEqual(DurabilityCheck.check(input(history, final: [vclockKey: state([other])])).map(\.check), [.durability])

        var covering = VersionVector()
        covering.advance("n1.sim", to: 1)
        record(&history, .put, vclockKey, context: covering, from: 6, to: 9, outcome: .failed(code: "quorum_not_met"))
        XCTAssertEqual(DurabilityCheck.check(input(history, final: [vclockKey: state([other])])), [])
    }

    func testSiblingThatSurvivedACoveringAcknowledgedWriteIsReported() {
        let old = sibling("a", "n1.sim", 1, at: 10)
        let new = sibling("b", "n1.sim", 2, at: 20)
        var context = VersionVector()
        context.advance("n1.sim", to: 1)
        var history = History()
        record(&history, .put, vclockKey, from: 0, to: 5, outcome: .written(version: old, state: state([old])))
        record(&history, .put, vclockKey, context: context, from: 6, to: 9, outcome: .written(version: new, state: state([new])))
        let violations = SiblingCheck.check(input(history, final: [vclockKey: state([old, new])]))
        XCTAssertEqual(violations.map(\.check), [.siblings])
        XCTAssertEqual(SiblingCheck.check(input(history, final: [vclockKey: state([new])])), [])
    }

    func testDeletedValueOnAReplicaIsAResurrection() {
        let value = sibling("a", "n1.sim", 0, at: 10)
        let tombstone = sibling("", "n2.sim", 0, at: 20, tombstone: true)
        var history = History()
        record(&history, .put, lwwKey, from: 0, to: 5, outcome: .written(version: value, state: state([value])))
        record(&history, .delete, lwwKey, from: 15, to: 25, outcome: .written(version: tombstone, state: state([tombstone])))
        let stale: [(node: String, state: KeyState?)] = [("n1", state([tombstone])), ("n3", state([value]))]
        let violations = ResurrectionCheck.check(input(history, final: [lwwKey: state([tombstone])], replicas: [lwwKey: stale]))
        XCTAssertEqual(violations.map(\.check), [.resurrection])
        let newer = sibling("c", "n3.sim", 0, at: 30)
        let rewritten: [(node: String, state: KeyState?)] = [("n1", state([newer])), ("n3", state([newer]))]
        XCTAssertEqual(ResurrectionCheck.check(input(history, final: [lwwKey: state([newer])], replicas: [lwwKey: rewritten])), [])
    }

    func testReplicasThatDifferAreReported() {
        let value = sibling("a", "n1.sim", 0, at: 10)
        let differing: [(node: String, state: KeyState?)] = [("n1", state([value])), ("n2", nil)]
        XCTAssertEqual(
            ConvergenceCheck.check(input(History(), final: [lwwKey: nil], replicas: [lwwKey: differing])).map(\.check), [.convergence])
        let agreeing: [(node: String, state: KeyState?)] = [("n1", state([value])), ("n2", state([value]))]
        XCTAssertEqual(ConvergenceCheck.check(input(History(), final: [lwwKey: nil], replicas: [lwwKey: agreeing])), [])
    }

    func testQuorumReadThatMissesAnAcknowledgedWriteIsReportedOnlyWhenCalm() {
        let written = sibling("a", "n1.sim", 1, at: 10)
        var history = History()
        let all = RequestOptions(r: .count(2), w: .count(2))
        record(&history, .put, vclockKey, options: all, from: 0, to: 5, outcome: .written(version: written, state: state([written])))
        record(&history, .get, vclockKey, options: all, from: 6, to: 9, outcome: .read(nil))
        XCTAssertEqual(QuorumReadCheck.check(input(history, mix: .calm, final: [vclockKey: state([written])])).map(\.check), [.quorumReads])
        XCTAssertEqual(QuorumReadCheck.check(input(history, mix: .lossy, final: [vclockKey: state([written])])), [])
    }

    func testLWWFinalStateOlderThanARead() {
        let older = sibling("a", "n1.sim", 0, at: 10)
        let newer = sibling("b", "n2.sim", 0, at: 20)
        var history = History()
        record(&history, .get, lwwKey, from: 0, to: 5, outcome: .read(state([newer])))
        XCTAssertEqual(LWWOrderCheck.check(input(history, final: [lwwKey: state([older])])).map(\.check), [.lwwOrder])
        var skewed = input(history, mix: .clocks, final: [lwwKey: state([older])])
        skewed.clocksExact = false
        XCTAssertEqual(LWWOrderCheck.check(skewed), [], "skewed runs are exempt")
    }
}
