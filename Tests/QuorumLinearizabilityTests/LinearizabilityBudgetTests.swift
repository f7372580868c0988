import QuorumLinearizability
import XCTest

/// The budget bounds the search, and a history the checker cannot decide in it fails.
final class LinearizabilityBudgetTests: XCTestCase {
    /// Many mutually concurrent writes and a concurrent read of a value none of them
    /// wrote: the search must try every subset of the writes before it can refute the
    /// read, 2^n memo entries.
    private func adversarial(writes: Int) -> [RegisterOperation] {
        var h = RegisterHistory()
        for index in 0..<writes { h.ok(index, .write("w\(index)"), .done, from: 0, to: 100) }
        h.ok(writes, .read, .value("nobody"), from: 0, to: 100)
        return h.operations
    }

    func testTinyBudgetLeavesAnAdversarialHistoryUndecided() {
        let budget = SearchBudget(maxSteps: 1_000, maxCacheEntries: 1_000_000)
        let result = LinearizabilityChecker(model: RegisterModel(), budget: budget).check(adversarial(writes: 16))
        guard case .undecided(let exhaustion) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(exhaustion.steps, 1_000)
        XCTAssertNotNil(result.failure, "an undecided history must count as a failure")
        XCTAssertFalse(result.isLinearizable)
    }

    func testMemoLimitAlsoBounds() {
        let budget = SearchBudget(maxSteps: 10_000_000, maxCacheEntries: 100)
        let result = LinearizabilityChecker(model: RegisterModel(), budget: budget).check(adversarial(writes: 16))
        guard case .undecided(let exhaustion) = result else { return XCTFail("\(result)") }
        XCTAssertGreaterThan(exhaustion.cacheEntries, 100)
    }

    func testUndecidedKeyFailsThePerKeyReport() {
        let budget = SearchBudget(maxSteps: 100, maxCacheEntries: 100)
        let report = LinearizabilityChecker(model: RegisterModel(), budget: budget).checkPerKey(adversarial(writes: 12)) {
            _ in "k"
        }
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.failures.count, 1)
        XCTAssertTrue(report.failures.first?.reason.hasPrefix("undecided") ?? false)
    }

    func testSmallAdversarialHistoryIsDecidedWithTheStandardBudget() {
        let result = LinearizabilityChecker(model: RegisterModel()).check(adversarial(writes: 10))
        guard case .notLinearizable = result else { return XCTFail("\(result)") }
    }
}
