import QuorumLinearizability
import XCTest

/// Small hand-made histories whose verdicts are known: the textbook anomalies a strong
/// bucket must never show, each beside the legitimate history next to it.
final class LinearizabilityClassicTests: XCTestCase {
    func testEmptyHistoryIsLinearizable() {
        XCTAssertEqual(RegisterHistory().check(), .linearizable(witness: []))
    }

    func testReadAfterWriteSeesIt() {
        var h = RegisterHistory()
        h.ok(0, .write("a"), .done, from: 0, to: 10)
        h.ok(1, .read, .value("a"), from: 20, to: 30)
        XCTAssertEqual(h.check(), .linearizable(witness: [0, 1]))
    }

    func testStaleReadAfterCompletedWriteIsNotLinearizable() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 0, to: 10)
        h.ok(0, .write("2"), .done, from: 20, to: 30)
        let read = h.ok(1, .read, .value("1"), from: 40, to: 50)
        guard case .notLinearizable(let counterexample) = h.check() else { return XCTFail("\(h.check())") }
        XCTAssertEqual(counterexample.longestPrefix, [0, 1])
        XCTAssertEqual(counterexample.stateAfterPrefix, RegisterModel.State(Array("2".utf8)))
        XCTAssertEqual(counterexample.couldNotPlace, [read])
        XCTAssertEqual(counterexample.blockedBy, read)
    }

    func testReadConcurrentWithWriteMaySeeEitherValue() {
        for seen in ["1", "2"] {
            var h = RegisterHistory()
            h.ok(0, .write("1"), .done, from: 0, to: 10)
            h.ok(0, .write("2"), .done, from: 20, to: 40)
            h.ok(1, .read, .value(seen), from: 30, to: 50)
            XCTAssertTrue(h.check().isLinearizable, seen)
        }
    }

    func testReadsOfConcurrentWritesMustAgreeOnOneOrder() {
        // Both writes overlap everything; reads in sequence may see b then a ...
        var ok = RegisterHistory()
        ok.ok(0, .write("a"), .done, from: 0, to: 100)
        ok.ok(1, .write("b"), .done, from: 0, to: 100)
        ok.ok(2, .read, .value("b"), from: 10, to: 20)
        ok.ok(2, .read, .value("a"), from: 30, to: 40)
        ok.ok(3, .read, .value("a"), from: 110, to: 120)
        XCTAssertEqual(ok.check(), .linearizable(witness: [1, 2, 0, 3, 4]))

        // ... but not a, then b, then a again: each write happens once.
        var flipFlop = RegisterHistory()
        flipFlop.ok(0, .write("a"), .done, from: 0, to: 100)
        flipFlop.ok(1, .write("b"), .done, from: 0, to: 100)
        flipFlop.ok(2, .read, .value("a"), from: 10, to: 20)
        flipFlop.ok(2, .read, .value("b"), from: 30, to: 40)
        flipFlop.ok(2, .read, .value("a"), from: 50, to: 60)
        XCTAssertFalse(flipFlop.check().isLinearizable)

        // After both writes complete, two readers in sequence cannot see different winners.
        var split = RegisterHistory()
        split.ok(0, .write("a"), .done, from: 0, to: 100)
        split.ok(1, .write("b"), .done, from: 0, to: 100)
        split.ok(2, .read, .value("a"), from: 110, to: 120)
        split.ok(3, .read, .value("b"), from: 130, to: 140)
        XCTAssertFalse(split.check().isLinearizable)
    }

    func testTwoCompareAndSetsFromTheSameValueCannotBothSucceed() {
        var both = RegisterHistory()
        both.ok(0, .write("0"), .done, from: 0, to: 10)
        both.ok(1, .compareAndSet(expected: "0", new: "1"), .applied(true), from: 20, to: 40)
        both.ok(2, .compareAndSet(expected: "0", new: "2"), .applied(true), from: 20, to: 40)
        XCTAssertFalse(both.check().isLinearizable)

        var one = RegisterHistory()
        one.ok(0, .write("0"), .done, from: 0, to: 10)
        one.ok(1, .compareAndSet(expected: "0", new: "1"), .applied(true), from: 20, to: 40)
        one.ok(2, .compareAndSet(expected: "0", new: "2"), .applied(false), from: 20, to: 40)
        one.ok(3, .read, .value("1"), from: 50, to: 60)
        XCTAssertEqual(one.check(), .linearizable(witness: [0, 1, 2, 3]))
    }

    func testLostUpdateIsNotLinearizable() {
        // Two compare-and-set increments succeed one after the other; a later read that
        // sees only the first has lost the second.
        var h = RegisterHistory()
        h.ok(0, .compareAndSet(expected: nil, new: "1"), .applied(true), from: 0, to: 10)
        h.ok(1, .compareAndSet(expected: "1", new: "2"), .applied(true), from: 20, to: 30)
        h.ok(2, .read, .value("1"), from: 40, to: 50)
        XCTAssertFalse(h.check().isLinearizable)
    }

    func testCreateOnlyWritesCannotBothSucceed() {
        var h = RegisterHistory()
        h.ok(0, .writeIfAbsent("a"), .applied(true), from: 0, to: 30)
        h.ok(1, .writeIfAbsent("b"), .applied(true), from: 10, to: 40)
        XCTAssertFalse(h.check().isLinearizable)

        var fine = RegisterHistory()
        fine.ok(0, .writeIfAbsent("a"), .applied(true), from: 0, to: 30)
        fine.ok(1, .writeIfAbsent("b"), .applied(false), from: 10, to: 40)
        fine.ok(0, .delete, .done, from: 50, to: 60)
        fine.ok(1, .read, .value(nil as String?), from: 70, to: 80)
        fine.ok(1, .writeIfAbsent("c"), .applied(true), from: 90, to: 100)
        XCTAssertTrue(fine.check().isLinearizable)
    }

    func testAnOutputOfTheWrongKindIsIllegal() {
        var h = RegisterHistory()
        h.ok(0, .write("a"), .value("a"), from: 0, to: 10)
        XCTAssertFalse(h.check().isLinearizable)
    }

    func testPerKeyChecksEachKeyApartAndNamesTheBadOne() {
        var h = RegisterHistory()
        h.ok(0, .write("1"), .done, from: 0, to: 10)  // key x
        h.ok(1, .read, .value(nil as String?), from: 20, to: 30)  // key y: fine, y was never written
        h.ok(1, .read, .value("2"), from: 40, to: 50)  // key x: never written
        let keys = ["x", "y", "x"]
        let checker = LinearizabilityChecker(model: RegisterModel())
        let report = checker.checkPerKey(h.operations) { keys[$0.id] }
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.results.map(\.key), ["x", "y"])
        XCTAssertEqual(report.failures.map(\.key), ["x"])
        XCTAssertTrue(report.results[1].result.isLinearizable)

        // Together on one key the read of y would have seen x's write.
        XCTAssertFalse(h.check().isLinearizable)
    }
}
