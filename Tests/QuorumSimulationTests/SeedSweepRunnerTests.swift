import Foundation
import QuorumSimulation
import XCTest

/// `SeedSweep`, the loop behind `quorumkv-sim --seeds` and `--seconds`: totals add up over
/// the seeds it ran, a time budget is asked between seeds, failures name their replay, and
/// `--summary-json` gets the document it promises.
final class SeedSweepRunnerTests: XCTestCase {
    func testTotalsAreTheSumsOfTheRunsReports() {
        var reports: [SimulationReport] = []
        let summary = SeedSweep(first: 1, config: config()).run(count: 6, observer: .init(didRun: { reports.append($0) }))
        XCTAssertEqual(reports.map(\.seed), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(summary.seeds, 6)
        XCTAssertEqual(summary.events, reports.reduce(0) { $0 + $1.events })
        let totals = summary.totals
        var summed = EventTotals()
        for report in reports { summed.add(report.counts) }
        XCTAssertEqual(totals, summed)
        XCTAssertEqual(totals.requests, 6 * config().requestsPerSeed)
        XCTAssertGreaterThan(totals.crashes, 0, "seeds 1...6 include a crashes and a chaos run")
        XCTAssertGreaterThan(totals.partitions, 0, "seeds 1...6 include a partitions and a chaos run")
        XCTAssertEqual(summary.document, .init(seeds: 6, failed: 0, events: totals))
        XCTAssertEqual(summary.render(), "seeds 1...6: 6 passed, 0 failed, \(summary.events) events")
    }

    func testTimeBudgetIsAskedBeforeEachSeed() {
        var asked = 0
        var started: [UInt64] = []
        let summary = SeedSweep(first: 40, config: config(faults: .calm)).run(
            until: {
                asked += 1
                return asked > 3
            }, observer: .init(willRun: { started.append($0) }))
        XCTAssertEqual(started, [40, 41, 42])
        XCTAssertEqual(asked, 4)
        XCTAssertEqual(summary.seeds, 3)
        XCTAssertEqual(summary.document.seeds, 3)
        XCTAssertTrue(summary.render(seconds: 60).hasPrefix("seeds 40...42 (3 in 60 s): 3 passed, 0 failed"), summary.render(seconds: 60))
    }

    func testBudgetSpentAtTheStartRunsNoSeed() {
        let summary = SeedSweep(config: config()).run(until: { true })
        XCTAssertEqual(summary.seeds, 0)
        XCTAssertEqual(summary.totals, EventTotals())
        XCTAssertEqual(summary.render(seconds: 1), "no seeds (0 in 1 s): 0 passed, 0 failed, 0 events")
    }

    func testFailuresAreCountedAndTheFirstKeptWhole() throws {
        let settings = config(bug: .readRepairDropsSiblings)
        var failing: [UInt64] = []
        let sweep = SeedSweep(first: 1, config: settings)
        let summary = sweep.run(count: 6, observer: .init(didRun: { if !$0.passed { failing.append($0.seed) } }))
        XCTAssertFalse(failing.isEmpty, "the read-repair bug went unnoticed for seeds 1...6; pick a bug or range that fails")
        XCTAssertEqual(summary.failedSeeds, failing)
        XCTAssertFalse(summary.passed)
        XCTAssertEqual(summary.document.failed, failing.count)
        let first = try XCTUnwrap(summary.firstFailure)
        XCTAssertEqual(first.seed, failing.first)
        XCTAssertTrue(
            sweep.failureLines(for: first).hasSuffix("  replay: quorumkv-sim --seed \(first.seed) --bug readRepairDropsSiblings --truncating-clients 0 --typed-clients 0 --strong-clients 0\n"),
            sweep.failureLines(for: first))
    }

    func testReplayFlagsNameOnlyWhatDiffersFromTheDefaults() {
        XCTAssertEqual(SimulationConfig().replayFlags, "")
        XCTAssertEqual(
            config(faults: .chaos, bug: .acknowledgeBeforeQuorum, truncatingClients: 1).replayFlags,
            " --faults chaos --bug acknowledgeBeforeQuorum --typed-clients 0 --strong-clients 0")
        var small = config()
        small.clientCount = 3
        small.operationsPerClient = 7
        XCTAssertEqual(small.replayFlags, " --operations 7 --clients 3 --truncating-clients 0 --typed-clients 0 --strong-clients 0")
    }

    func testSummaryDocumentEncodesAsTheCLIPromises() throws {
        var totals = EventTotals()
        totals.requests = 960
        totals.crashes = 3
        let document = SweepSummary.Document(seeds: 10, failed: 1, events: totals)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(document)) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["seeds", "failed", "events"])
        XCTAssertEqual(json["seeds"] as? Int, 10)
        XCTAssertEqual(json["failed"] as? Int, 1)
        let events = try XCTUnwrap(json["events"] as? [String: Int])
        XCTAssertEqual(
            events,
            ["requests": 960, "crashes": 3, "partitions": 0, "joins": 0, "leaves": 0, "storeErrors": 0, "wipedDisks": 0])
    }

    func testListedBugsAreEveryCaseButNone() {
        XCTAssertEqual(InjectedBug.deliberate.count, InjectedBug.allCases.count - 1)
        XCTAssertFalse(InjectedBug.deliberate.contains(.none))
        XCTAssertEqual(Set(InjectedBug.deliberate + [.none]), Set(InjectedBug.allCases))
    }
}
