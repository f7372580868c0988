import QuorumSimulation
import XCTest

/// A seed is a complete description of a run: replaying it gives the same bytes.
final class ReplayTests: XCTestCase {
    func testSameSeedGivesIdenticalHistoryBytes() {
        for seed: UInt64 in [7, 42, 1005, 99_999] {
            for mix in FaultMix.allCases {
                let first = Simulation.run(seed: seed, config: config(faults: mix)).render()
                let second = Simulation.run(seed: seed, config: config(faults: mix)).render()
                XCTAssertEqual(Array(first.utf8), Array(second.utf8), "seed \(seed) (\(mix.rawValue)) did not replay byte for byte")
            }
        }
    }

    func testDifferentSeedsGiveDifferentHistories() {
        let histories = Set((1...20 as ClosedRange<UInt64>).map { Simulation.run(seed: $0).history.render(origin: 0) })
        XCTAssertEqual(histories.count, 20, "seeds should draw different plans")
    }

    func testRunsDoRealWork() {
        // Guards the sweep against passing vacuously: runs issue requests, most succeed,
        // and the checkers read the final state of every key.
        let report = Simulation.run(seed: 3, config: config(faults: .calm))
        let acknowledged = report.history.entries.filter { entry in
            if case .written = entry.outcome { return true }
            return false
        }
        let workload = config().requestsPerSeed
        XCTAssertEqual(report.counts.requests, workload, "seed 3: every client issues every request")
        XCTAssertGreaterThan(report.history.entries.count, workload, "seed 3: the requests plus the final reads")
        XCTAssertGreaterThan(acknowledged.count, 5, "seed 3: a calm run acknowledges most writes")
        XCTAssertTrue(report.history.entries.contains { $0.client == History.checkerClient }, "seed 3: final reads are recorded")
    }

    func testSeedPicksEachFaultMixInTurn() {
        XCTAssertEqual(Set((0..<UInt64(FaultMix.allCases.count)).map(FaultMix.forSeed)), Set(FaultMix.allCases))
    }
}
