import QuorumSimulation
import XCTest

/// The CI sweep: 100 seeds of each fault mix, 600 in all, every check on every run, with a
/// truncating client, a typed client (counters, sets, maps) and two strong clients (a
/// strongly consistent bucket, checked for linearizability) as `quorumkv-sim` runs by default.
/// Seeds differ per mix so the sweep covers 600 distinct plans. A failure names each
/// failing seed; `quorumkv-sim --seed S --faults M` replays it.
final class SeedSweepTests: XCTestCase {
    func testCalmRunsPassEveryCheck() {
        assertSeedsPass(1...100, config: config(faults: .calm, truncatingClients: 1, typedClients: 1, strongClients: 2))
    }

    func testLossyNetworkRunsPassEveryCheck() {
        assertSeedsPass(101...200, config: config(faults: .lossy, truncatingClients: 1, typedClients: 1, strongClients: 2))
    }

    func testPartitionedRunsPassEveryCheck() {
        assertSeedsPass(201...300, config: config(faults: .partitions, truncatingClients: 1, typedClients: 1, strongClients: 2))
    }

    func testCrashingRunsPassEveryCheck() {
        assertSeedsPass(301...400, config: config(faults: .crashes, truncatingClients: 1, typedClients: 1, strongClients: 2))
    }

    func testSkewedClockRunsPassEveryCheck() {
        assertSeedsPass(401...500, config: config(faults: .clocks, truncatingClients: 1, typedClients: 1, strongClients: 2))
    }

    /// One strong key under heavy contention: six strong clients of 48 operations on one key,
    /// with crashes. Interleavings of interrupted, completed and re-completed proposals that
    /// two clients rarely produce (it found a proposer forgetting its own proposal, about
    /// once in 300 seeds; `StrongCoordinatorTests` keeps that interleaving).
    func testContendedStrongKeyRunsPassEveryCheck() {
        var settings = config(faults: .crashes, strongClients: 6)
        settings.strongKeys = 1
        settings.operationsPerClient = 48
        assertSeedsPass(601...660, config: settings)
    }

    /// Chaos draws every kind of fault, so its runs must have met each of them.
    func testChaosRunsPassEveryCheckAndMeetEveryKindOfEvent() {
        let sweep = SeedSweep(first: 501, config: config(faults: .chaos, truncatingClients: 1, typedClients: 1, strongClients: 2))
        var failures: [String] = []
        let summary = sweep.run(count: 100, observer: .init(didRun: { if !$0.passed { failures.append(sweep.failureLines(for: $0)) } }))
        XCTAssertTrue(summary.passed, "\(failures.count) of 100 chaos seeds failed:\n" + failures.joined())
        let totals = summary.totals
        let kinds = [
            ("requests", totals.requests), ("crashes", totals.crashes), ("partitions", totals.partitions), ("joins", totals.joins),
            ("leaves", totals.leaves), ("storeErrors", totals.storeErrors), ("wipedDisks", totals.wipedDisks),
        ]
        for (kind, count) in kinds { XCTAssertGreaterThan(count, 0, "100 chaos seeds met no \(kind)") }
    }
}
