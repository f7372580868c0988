import QuorumCore
@testable import QuorumSimulation
import XCTest

/// The typed checks (issue #16), fed hand-made histories: each reports the anomaly it is
/// for and stays quiet on the legitimate case beside it.
final class TypedCheckerTests: XCTestCase {
    private let counterKey = CheckInput.KeyName(bucket: SimulatedBuckets.counter, key: Array("k0".utf8))
    private let setKey = CheckInput.KeyName(bucket: SimulatedBuckets.set, key: Array("k0".utf8))
    private let mapKey = CheckInput.KeyName(bucket: SimulatedBuckets.map, key: Array("k0".utf8))

    private func counter(_ entries: [(actor: String, counter: UInt64, p: UInt64, n: UInt64)]) -> TypedState {
        var context = CausalContext()
        let member = Member(entries.map { entry in
            context.insert(Dot(actor: entry.actor, counter: entry.counter))
            return Member.Entry(dot: Dot(actor: entry.actor, counter: entry.counter), payload: .counter(p: entry.p, n: entry.n))
        })
        return TypedState(datatype: .counter, context: context, members: [TypedState.counterMember: member])
    }

    private func set(_ elements: [String]) -> TypedState {
        var context = CausalContext()
        var members: [[UInt8]: Member] = [:]
        for (offset, element) in elements.enumerated() {
            let dot = Dot(actor: "n1.sim", counter: UInt64(offset + 1))
            context.insert(dot)
            members[Array(element.utf8)] = Member([Member.Entry(dot: dot, payload: .present)])
        }
        return TypedState(datatype: .set, context: context, members: members)
    }

    private func update(_ history: inout History, _ name: CheckInput.KeyName, _ operation: TypedOperation, outcome: History.Outcome) {
        let id = history.begin(
            client: 0, kind: .typedUpdate, bucket: name.bucket, key: name.key, node: 0, options: RequestOptions(), sloppy: false,
            value: [], context: .empty, typed: operation, at: 0)
        history.complete(id, outcome: outcome, at: 5)
    }

    /// `keys`: the typed keys used (default: those with a final read).
    private func input(
        _ history: History, mix: FaultMix = .crashes, final: [CheckInput.KeyName: TypedState?], keys: [CheckInput.KeyName]? = nil
    ) -> CheckInput {
        CheckInput(
            history: history, mix: mix, keys: [], finalStates: [:], replicaStates: [:], nodeCount: 5,
            typedKeys: keys ?? final.keys.sorted(), typedFinalStates: final)
    }

    private let acknowledged = History.Outcome.typedUpdated(reply: .integer(0))
    /// A final read that found nothing (not a failed one, which has no entry).
    private let absent: TypedState? = nil

    func testCounterValueMustLieBetweenTheAcknowledgedAndTheAttemptedSums() {
        var history = History()
        update(&history, counterKey, .increment(by: 5, operationID: Array("a".utf8)), outcome: acknowledged)
        update(&history, counterKey, .increment(by: -2, operationID: Array("b".utf8)), outcome: acknowledged)
        update(&history, counterKey, .increment(by: 4, operationID: Array("c".utf8)), outcome: .indeterminate)
        update(&history, counterKey, .increment(by: -1, operationID: Array("d".utf8)), outcome: .failed(code: "quorum_not_met"))
        // Acknowledged: 3; unknown: +4 and -1, so 2...7.
        for value: UInt64 in [2, 3, 7] {
            XCTAssertEqual(CounterCheck.check(input(history, final: [counterKey: counter([("n1.sim", 1, value, 0)])])), [], "\(value)")
        }
        for value: UInt64 in [1, 8] {
            XCTAssertEqual(
                CounterCheck.check(input(history, final: [counterKey: counter([("n1.sim", 1, value, 0)])])).map(\.check),
                [.counterBounds], "\(value)")
        }
        XCTAssertEqual(CounterCheck.check(input(history, final: [counterKey: absent])).map(\.check), [.counterBounds])
        XCTAssertEqual(CounterCheck.check(input(history, final: [:], keys: [counterKey])).map(\.check), [.counterBounds], "a failed final read")
    }

    func testAnIncrementLostWithWipedDisksCountsAsUnknown() {
        var history = History()
        update(&history, counterKey, .increment(by: 5, operationID: nil), outcome: .typedLostWithWipedDisks(reply: .integer(5)))
        XCTAssertEqual(CounterCheck.check(input(history, final: [counterKey: absent])), [])
    }

    func testMapCounterFieldIsBoundedBelowAlwaysAndAboveOnlyWithoutDuplicatedMessages() {
        var history = History()
        let field = SimulatedTypedRequests.sharedCounterField
        update(&history, mapKey, .mapUpdate([.incrementCounter(field: field, by: 3)]), outcome: acknowledged)
        let doubled = TypedState(
            datatype: .map, context: CausalContext(vv: ["n1.sim": 2]),
            members: [field: Member([
                Member.Entry(dot: Dot(actor: "n1.sim", counter: 2), payload: .counter(p: 6, n: 0)),
            ])])
        XCTAssertEqual(CounterCheck.check(input(history, mix: .crashes, final: [mapKey: doubled])).map(\.check), [.counterBounds])
        XCTAssertEqual(CounterCheck.check(input(history, mix: .lossy, final: [mapKey: doubled])), [])
        XCTAssertEqual(CounterCheck.check(input(history, mix: .lossy, final: [mapKey: absent])).map(\.check), [.counterBounds])
    }

    func testAnAcknowledgedAddNoRemoveNamedMustBePresent() {
        var history = History()
        update(&history, setKey, .setAdd([Array("c0.1".utf8)]), outcome: acknowledged)
        update(&history, setKey, .setAdd([Array("c0.2".utf8)]), outcome: acknowledged)
        update(&history, setKey, .setAdd([Array("c0.3".utf8)]), outcome: .indeterminate)
        XCTAssertEqual(AddWinsCheck.check(input(history, final: [setKey: set(["c0.1", "c0.2"])])), [])
        XCTAssertEqual(AddWinsCheck.check(input(history, final: [setKey: set(["c0.1", "c0.3"])])).map(\.check), [.addWins])

        // A remove that names it (acknowledged or not) lets it go.
        update(&history, setKey, .setRemove([Array("c0.2".utf8)]), outcome: .failed(code: "timeout"))
        XCTAssertEqual(AddWinsCheck.check(input(history, final: [setKey: set(["c0.1"])])), [])
    }

    func testAnAcknowledgedMapFieldNeverRemovedMustHoldAValueSomeRequestSet() {
        var history = History()
        let field = SimulatedTypedRequests.ownField(client: 0)
        update(&history, mapKey, .mapUpdate([.setRegister(field: field, value: Array("v1".utf8))]), outcome: acknowledged)
        update(&history, mapKey, .mapUpdate([.setRegister(field: field, value: Array("v2".utf8))]), outcome: .indeterminate)
        func map(_ value: String) -> TypedState {
            let dot = Dot(actor: "n2.sim", counter: 1)
            let stamp = HLCTimestamp(physicalMilliseconds: 10, logical: 0)
            return TypedState(
                datatype: .map, context: CausalContext(vv: ["n2.sim": 1]),
                members: [field: Member([Member.Entry(dot: dot, payload: .register(stamp: stamp, value: Array(value.utf8)))])])
        }
        XCTAssertEqual(AddWinsCheck.check(input(history, final: [mapKey: map("v2")])), [])
        XCTAssertEqual(AddWinsCheck.check(input(history, final: [mapKey: map("v9")])).map(\.check), [.addWins])
        XCTAssertEqual(AddWinsCheck.check(input(history, final: [mapKey: absent])).map(\.check), [.addWins])
        update(&history, mapKey, .mapUpdate([.removeField(field: field)]), outcome: acknowledged)
        XCTAssertEqual(AddWinsCheck.check(input(history, final: [mapKey: absent])), [])
    }

    func testTypedReplicasThatDifferInAMemberRowDoNotConverge() {
        let header = TypedHeader(of: set(["a"])).encoded()
        let row = { (payload: UInt8) in StoredTyped(header: header, members: [StoredMember(member: Array("a".utf8), payload: [1, payload])]) }
        var replicas = CheckInput(history: History(), mix: .calm, keys: [], finalStates: [:], replicaStates: [:], nodeCount: 5)
        replicas.typedReplicaStates = [setKey: [("n0", row(0)), ("n1", row(0))]]
        XCTAssertEqual(ConvergenceCheck.check(replicas), [])
        replicas.typedReplicaStates = [setKey: [("n0", row(0)), ("n1", row(1)), ("n2", nil)]]
        XCTAssertEqual(ConvergenceCheck.check(replicas).map(\.check), [.convergence, .convergence])
    }
}
