import QuorumLinearizability
import XCTest

/// The search is not tied to the register: the counter model goes through it unchanged.
final class LinearizabilityCounterModelTests: XCTestCase {
    private typealias Operation = LinearizabilityOperation<CounterModel.Input, CounterModel.Output>

    private func history(readAfterBoth: Int64, indeterminateThird: Bool = false) -> [Operation] {
        var operations: [Operation] = [
            Operation(id: 0, client: 0, invokedAt: 0, input: .add(1), outcome: .ok(.done, respondedAt: 10)),
            Operation(id: 1, client: 1, invokedAt: 0, input: .add(2), outcome: .ok(.done, respondedAt: 10)),
            Operation(id: 2, client: 2, invokedAt: 20, input: .read, outcome: .ok(.value(readAfterBoth), respondedAt: 30)),
        ]
        if indeterminateThird {
            operations.append(Operation(id: 3, client: 3, invokedAt: 5, input: .add(4), outcome: .indeterminate))
        }
        return operations
    }

    func testConcurrentAdditionsBothCount() {
        let checker = LinearizabilityChecker(model: CounterModel())
        XCTAssertTrue(checker.check(history(readAfterBoth: 3)).isLinearizable)
        XCTAssertFalse(checker.check(history(readAfterBoth: 1)).isLinearizable)
    }

    func testAnIndeterminateAdditionMayOrMayNotCount() {
        let checker = LinearizabilityChecker(model: CounterModel())
        XCTAssertTrue(checker.check(history(readAfterBoth: 3, indeterminateThird: true)).isLinearizable)
        XCTAssertTrue(checker.check(history(readAfterBoth: 7, indeterminateThird: true)).isLinearizable)
        XCTAssertFalse(checker.check(history(readAfterBoth: 5, indeterminateThird: true)).isLinearizable)
    }
}
