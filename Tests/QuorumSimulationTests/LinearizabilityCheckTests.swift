import QuorumCore
@testable import QuorumSimulation
import XCTest

/// The linearizability check (m), fed hand-made strong histories: it reports what is not
/// linearizable (or not decidable) with the entries involved, and stays quiet on the
/// legitimate case beside it.
final class LinearizabilityCheckTests: XCTestCase {
    private let key = CheckInput.KeyName(bucket: SimulatedBuckets.strong, key: Array("k0".utf8))
    private let ballot = PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0), node: "n1")

    private func value(_ text: String) -> StrongValue { .value(bytes: Array(text.utf8), contentType: "text/plain") }

    @discardableResult
    private func record(
        _ history: inout History, _ operation: StrongOperation, etagValue: String? = nil, client: Int = 0, from start: UInt64,
        to end: UInt64?, outcome: History.Outcome
    ) -> Int {
        let id = history.begin(
            client: client, kind: .strong, bucket: key.bucket, key: key.key, node: 0, options: RequestOptions(), sloppy: false,
            value: [], context: .empty, strong: operation, etagValue: etagValue.map { Array($0.utf8) }, at: start)
        if let end { history.complete(id, outcome: outcome, at: end) }
        return id
    }

    private func input(_ history: History, exempt: [CheckInput.KeyName: [String]] = [:]) -> CheckInput {
        CheckInput(
            history: history, mix: .crashes, keys: [], finalStates: [:], replicaStates: [:], nodeCount: 5, strongKeys: [key],
            strongExempt: exempt)
    }

    private func done(_ text: String?) -> History.Outcome {
        .strongAnswered(.done(value: text.map(value), etag: text == nil ? nil : StrongETag(ballot: ballot)))
    }

    func testAStaleReadAfterAnAnsweredWriteIsReportedWithItsEntries() {
        var history = History()
        record(&history, .write(value("a")), from: 0, to: 5, outcome: done("a"))
        record(&history, .write(value("b")), from: 6, to: 10, outcome: done("b"))
        let stale = record(&history, .read, client: 1, from: 11, to: 12, outcome: done("a"))
        let violations = LinearizabilityCheck.check(input(history))
        XCTAssertEqual(violations.map(\.check), [.linearizable])
        XCTAssertTrue(violations[0].message.contains("strong/k0: not linearizable"), violations[0].message)
        XCTAssertTrue(violations[0].message.contains("  * #\(stale) "), violations[0].message)

        // Exempt (a majority of its replicas wiped): not judged.
        XCTAssertEqual(LinearizabilityCheck.check(input(history, exempt: [key: ["n1", "n2"]])), [])
    }

    func testAnIndeterminateWriteMayTakeEffectLateOrNeverAndAFailedOneNever() {
        var history = History()
        record(&history, .write(value("a")), from: 0, to: 5, outcome: done("a"))
        record(&history, .write(value("b")), from: 6, to: 8, outcome: .indeterminate)
        record(&history, .read, client: 1, from: 20, to: 21, outcome: done("a"))
        record(&history, .read, client: 1, from: 22, to: 23, outcome: done("b"))
        record(&history, .write(value("c")), client: 2, from: 24, to: nil, outcome: .pending)  // never answered
        XCTAssertEqual(LinearizabilityCheck.check(input(history)), [])

        var failed = History()
        record(&failed, .write(value("b")), from: 0, to: 8, outcome: .failed(code: "unavailable"))
        record(&failed, .read, client: 1, from: 20, to: 21, outcome: done("b"))
        XCTAssertEqual(LinearizabilityCheck.check(input(failed)).map(\.check), [.linearizable])
    }

    func testCompareAndSetsMapToTheRegisterModel() {
        var history = History()
        record(&history, .write(value("a")), from: 0, to: 5, outcome: done("a"))
        record(&history, .compareAndSet(.ifEquals(Array("a".utf8)), value("b")), from: 6, to: 8, outcome: done("b"))
        // Refused: a read of the current value.
        record(&history, .compareAndSet(.ifAbsent, value("x")), client: 1, from: 9, to: 10,
               outcome: .strongAnswered(.conditionFailed(current: value("b"), etag: StrongETag(ballot: ballot))))
        record(&history, .compareAndSet(.ifMatch(StrongETag(ballot: ballot)), value("c")), etagValue: "b", from: 11, to: 12, outcome: done("c"))
        record(&history, .delete, from: 13, to: 14, outcome: done(nil))
        record(&history, .compareAndSet(.ifAbsent, value("d")), client: 1, from: 15, to: 16, outcome: done("d"))
        record(&history, .read, from: 17, to: 18, outcome: done("d"))
        XCTAssertEqual(LinearizabilityCheck.check(input(history)), [])

        // A refusal that reports the value it was waiting for.
        var refused = History()
        record(&refused, .compareAndSet(.ifEquals(Array("a".utf8)), value("b")), from: 0, to: 1,
               outcome: .strongAnswered(.conditionFailed(current: value("a"), etag: StrongETag(ballot: ballot))))
        let violations = LinearizabilityCheck.check(input(refused))
        XCTAssertEqual(violations.map(\.check), [.linearizable])
        XCTAssertTrue(violations[0].message.contains("the condition holds"), violations[0].message)

        // An ifMatch that succeeded although the value its etag stood for was replaced.
        var lost = History()
        record(&lost, .write(value("a")), from: 0, to: 5, outcome: done("a"))
        record(&lost, .write(value("b")), from: 6, to: 7, outcome: done("b"))
        record(&lost, .compareAndSet(.ifMatch(StrongETag(ballot: ballot)), value("c")), etagValue: "a", from: 8, to: 9, outcome: done("c"))
        XCTAssertEqual(LinearizabilityCheck.check(input(lost)).map(\.check), [.linearizable])
    }

    func testAHistoryTheCheckerCannotDecideFails() {
        var history = History()
        for client in 0..<6 { record(&history, .write(value("v\(client)")), client: client, from: 0, to: 100, outcome: done("v\(client)")) }
        record(&history, .read, from: 101, to: 102, outcome: done("nothing written"))
        let violations = LinearizabilityCheck.check(input(history), budget: LinearizabilityCheck.Budget(maxSteps: 5, maxCacheEntries: 5))
        XCTAssertEqual(violations.map(\.check), [.linearizable])
        XCTAssertTrue(violations[0].message.contains("undecided"), violations[0].message)
    }
}

/// Check (a) on strong keys: replicas whose latest commits differ after repair are reported.
final class StrongConvergenceCheckTests: XCTestCase {
    func testReplicasWhoseCommitsDifferAreReported() {
        let key = CheckInput.KeyName(bucket: SimulatedBuckets.strong, key: Array("k0".utf8))
        let old = PaxosCommit(
            ballot: PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0), node: "n1"),
            value: .value(bytes: [1], contentType: "text/plain"))
        var new = old
        new.ballot = PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 2, logical: 0), node: "n2")
        var input = CheckInput(history: History(), mix: .crashes, keys: [], finalStates: [:], replicaStates: [:], nodeCount: 3)
        input.strongReplicaCommits = [key: [("n0", old), ("n1", old), ("n2", old)]]
        XCTAssertEqual(ConvergenceCheck.check(input), [])
        input.strongReplicaCommits = [key: [("n0", old), ("n1", new), ("n2", nil)]]
        let violations = ConvergenceCheck.check(input)
        XCTAssertEqual(violations.map(\.check), [.convergence, .convergence])
        XCTAssertTrue(violations[1].message.contains("n2 holds no commit"), violations[1].message)
    }
}
