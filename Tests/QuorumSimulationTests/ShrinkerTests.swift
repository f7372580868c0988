import QuorumSimulation
import XCTest

/// Shrinking keeps the failure and drops steps; the shrunk plan replays.
final class ShrinkerTests: XCTestCase {
    func testFailingPlanShrinksAndStillFailsTheSameCheck() throws {
        let settings = config(bug: .readRepairDropsSiblings)
        let failing = try XCTUnwrap(firstSeed(violating: .siblings, in: 1...100, config: settings), "no failing seed to shrink")
        let result = Shrinker.shrink(seed: failing.seed, config: settings, failing: failing, runsMax: 60)
        XCTAssertLessThan(result.kept.count, failing.plan.stepCount, "seed \(failing.seed): nothing was shrunk")
        // The shrinker keeps the first check the run broke.
        let target = try XCTUnwrap(failing.failedChecks.first)
        XCTAssertTrue(result.report.failedChecks.contains(target), "seed \(failing.seed): the shrunk plan passes")
        let replay = Simulation.run(seed: failing.seed, config: settings, plan: failing.plan.keeping(Set(result.kept)))
        XCTAssertEqual(replay.render(), result.report.render(), "seed \(failing.seed): the shrunk plan does not replay")
    }

    func testStepRangesRoundTrip() {
        let steps = [0, 1, 2, 3, 7, 9, 10, 11, 12]
        XCTAssertEqual(Shrinker.ranges(steps), "0-3,7,9-12")
        XCTAssertEqual(Shrinker.parseRanges("0-3,7,9-12"), steps)
        XCTAssertNil(Shrinker.parseRanges("3-1"))
        XCTAssertNil(Shrinker.parseRanges("x"))
    }
}
