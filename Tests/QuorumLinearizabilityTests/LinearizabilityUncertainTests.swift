import QuorumLinearizability
import XCTest

/// Operations the client could not be sure of: a timed-out one may take effect at any
/// point after its invocation, however late, or never; a failed one never did.
final class LinearizabilityUncertainTests: XCTestCase {
    func testIndeterminateWriteMayTakeEffectLate() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 0, to: 10)
        h.indeterminate(1, .write("2"), from: 20)
        h.ok(2, .read, .value("1"), from: 30, to: 40)
        h.ok(2, .read, .value("2"), from: 1_000, to: 1_010)
        XCTAssertEqual(h.check(), .linearizable(witness: [0, 2, 1, 3]))
    }

    func testIndeterminateWriteMayNeverTakeEffect() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 0, to: 10)
        h.indeterminate(1, .write("2"), from: 20)
        h.ok(2, .read, .value("1"), from: 30, to: 40)
        h.ok(2, .read, .value("1"), from: 1_000, to: 1_010)
        guard case .linearizable(let witness) = h.check() else { return XCTFail("\(h.check())") }
        XCTAssertFalse(witness.contains(1))
    }

    func testIndeterminateWriteTakesEffectOnlyOnce() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 0, to: 10)
        h.indeterminate(1, .write("2"), from: 20)
        h.ok(2, .read, .value("2"), from: 30, to: 40)
        h.ok(0, .write("3"), .done, from: 50, to: 60)
        h.ok(2, .read, .value("2"), from: 70, to: 80)
        XCTAssertFalse(h.check().isLinearizable)
    }

    func testIndeterminateWriteCannotTakeEffectBeforeItsInvocation() {
        var h = RegisterHistory()
        h.ok(0, .read, .value("2"), from: 0, to: 10)
        h.indeterminate(1, .write("2"), from: 20)
        XCTAssertFalse(h.check().isLinearizable)
    }

    func testIndeterminateCompareAndSetAppliesOnlyIfItsConditionHolds() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 0, to: 10)
        h.indeterminate(1, .compareAndSet(expected: "1", new: "2"), from: 20)
        h.ok(2, .read, .value("2"), from: 500, to: 510)
        XCTAssertTrue(h.check().isLinearizable)

        var wrong = RegisterHistory()
        wrong.ok(0, .write("1"), .done, from: 0, to: 10)
        wrong.indeterminate(1, .compareAndSet(expected: "0", new: "2"), from: 20)
        wrong.ok(2, .read, .value("2"), from: 500, to: 510)
        XCTAssertFalse(wrong.check().isLinearizable)
    }

    func testOnlyIndeterminateOperationsIsLinearizable() {
        var h = RegisterHistory()
        h.indeterminate(0, .write("1"), from: 0)
        h.indeterminate(1, .read, from: 5)
        XCTAssertEqual(h.check(), .linearizable(witness: []))
    }

    func testFailedOperationsAreIgnored() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 0, to: 10)
        h.failed(1, .write("2"), from: 20)
        h.ok(2, .read, .value("1"), from: 30, to: 40)
        XCTAssertEqual(h.check(), .linearizable(witness: [0, 2]))

        // A failed write had no effect, so nobody can have read its value.
        var seen = RegisterHistory()
        seen.ok(0, .write("1"), .done, from: 0, to: 10)
        seen.failed(1, .write("2"), from: 20)
        seen.ok(2, .read, .value("2"), from: 30, to: 40)
        XCTAssertFalse(seen.check().isLinearizable)
    }

    func testResponseRecordedBeforeInvocationIsReadAsAnInstant() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 10, to: 5)
        h.ok(1, .read, .value("1"), from: 20, to: 30)
        XCTAssertTrue(h.check().isLinearizable)
    }
}
