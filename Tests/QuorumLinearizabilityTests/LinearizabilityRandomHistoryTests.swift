import QuorumLinearizability
import XCTest

/// Larger histories: random ones that are linearizable by construction must be decided
/// as such within the standard budget, and one changed read must be caught.
final class LinearizabilityRandomHistoryTests: XCTestCase {
    private let checker = LinearizabilityChecker(model: RegisterModel())

    private func timed<T>(_ body: () -> T) -> (T, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = body()
        return (result, clock.now - start)
    }

    func testRandom200OperationHistoriesAreLinearizable() {
        for seed in UInt64(1)...10 {
            let history = RandomRegisterHistory.make(seed: seed, operations: 200, clients: 5)
            let (result, elapsed) = timed { checker.check(history) }
            XCTAssertTrue(result.isLinearizable, "seed \(seed): \(result.failure ?? "")")
            print("linearizability: seed \(seed), 200 operations, 5 clients: linearizable in \(elapsed)")
        }
    }

    func testChangingOneReadIsCaught() {
        for seed in UInt64(1)...10 {
            var history = RandomRegisterHistory.make(seed: seed, operations: 200, clients: 5)
            // The last definite read now claims a value nobody wrote.
            guard
                let index = history.indices.last(where: {
                    guard case .ok = history[$0].outcome else { return false }
                    return history[$0].input == .read
                }),
                case .ok(_, let at) = history[index].outcome
            else { return XCTFail("seed \(seed): no read") }
            history[index].outcome = .ok(.value("never written"), respondedAt: at)
            let (result, elapsed) = timed { checker.check(history) }
            guard case .notLinearizable(let counterexample) = result else {
                return XCTFail("seed \(seed): \(result)")
            }
            XCTAssertTrue(counterexample.couldNotPlace.contains(history[index].id), "seed \(seed): \(counterexample)")
            print("linearizability: seed \(seed), 200 operations, one read changed: refuted in \(elapsed)")
        }
    }

    func testManyKeysSplitAndPass() {
        let perKey = (0..<8).flatMap { key in
            RandomRegisterHistory.make(seed: 100 + UInt64(key), operations: 60, clients: 4).map { operation in
                var copy = operation
                copy.id = key * 1_000 + operation.id
                return copy
            }
        }
        let (report, elapsed) = timed { checker.checkPerKey(perKey) { $0.id / 1_000 } }
        XCTAssertTrue(report.passed, "\(report.failures)")
        XCTAssertEqual(report.results.count, 8)
        print("linearizability: 8 keys x 60 operations: checked in \(elapsed)")
    }
}
