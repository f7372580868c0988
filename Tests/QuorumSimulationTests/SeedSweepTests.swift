import QuorumSimulation
import XCTest

/// The CI sweep: 100 seeds of each fault mix, 600 in all, every check on every run.
/// Seeds differ per mix so the sweep covers 600 distinct plans. A failure names each
/// failing seed; `quorumkv-sim --seed S --faults M` replays it.
final class SeedSweepTests: XCTestCase {
    func testCalmRunsPassEveryCheck() {
        assertSeedsPass(1...100, config: config(faults: .calm))
    }

    func testLossyNetworkRunsPassEveryCheck() {
        assertSeedsPass(101...200, config: config(faults: .lossy))
    }

    func testPartitionedRunsPassEveryCheck() {
        assertSeedsPass(201...300, config: config(faults: .partitions))
    }

    func testCrashingRunsPassEveryCheck() {
        assertSeedsPass(301...400, config: config(faults: .crashes))
    }

    func testSkewedClockRunsPassEveryCheck() {
        assertSeedsPass(401...500, config: config(faults: .clocks))
    }

    func testChaosRunsPassEveryCheck() {
        assertSeedsPass(501...600, config: config(faults: .chaos))
    }
}
