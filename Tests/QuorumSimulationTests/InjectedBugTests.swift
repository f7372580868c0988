import QuorumSimulation
import XCTest

/// The simulator bites: with a deliberate bug switched on in the simulated node's wiring,
/// some seed within a bounded range breaks a check; with it off, the same seeds pass.
final class InjectedBugTests: XCTestCase {
    func testReadRepairDroppingSiblingsIsFoundWithin100Seeds() {
        let found = firstSeed(violating: .siblings, in: 1...100, config: config(bug: .readRepairDropsSiblings))
        XCTAssertNotNil(found, "read repair that drops siblings went unnoticed for 100 seeds")
        if let found {
            let clean = Simulation.run(seed: found.seed, config: config())
            XCTAssertTrue(clean.passed, "seed \(found.seed) fails without the bug too: \(clean.violations)")
        }
    }

    func testAntiEntropyIgnoringTombstonesIsFoundWithin100Seeds() {
        let found = firstSeed(violating: .convergence, in: 1...100, config: config(bug: .antiEntropyIgnoresTombstones))
        XCTAssertNotNil(found, "anti-entropy that ignores tombstones went unnoticed for 100 seeds")
        if let found {
            let clean = Simulation.run(seed: found.seed, config: config())
            XCTAssertTrue(clean.passed, "seed \(found.seed) fails without the bug too: \(clean.violations)")
        }
    }

    func testPurgeAskingOnlyItselfIsFoundWithin200Seeds() {
        let found = firstSeed(violating: .convergence, in: 1...200, config: config(bug: .purgeAsksOnlyItself))
        XCTAssertNotNil(found, "a tombstone purge that asks only its own replica went unnoticed for 200 seeds")
        if let found {
            let clean = Simulation.run(seed: found.seed, config: config())
            XCTAssertTrue(clean.passed, "seed \(found.seed) fails without the bug too: \(clean.violations)")
            XCTAssertGreaterThan(clean.purged, 0, "seed \(found.seed): the clean run should purge tombstones too")
        }
    }

    func testAcknowledgingBeforeTheQuorumIsFoundWithin200CalmSeeds() {
        let found = firstSeed(violating: .quorumReads, in: 1...200, config: config(faults: .calm, bug: .acknowledgeBeforeQuorum))
        XCTAssertNotNil(found, "writes acknowledged before w replicas took them went unnoticed for 200 calm seeds")
        if let found {
            let clean = Simulation.run(seed: found.seed, config: config(faults: .calm))
            XCTAssertTrue(clean.passed, "seed \(found.seed) fails without the bug too: \(clean.violations)")
        }
    }

    // Bugs in the node's own request path (`RequestDriver`), which the simulator runs.

    func testReadAnsweringAfterOneReplyIsFoundWithin100CalmSeeds() {
        let found = firstSeed(violating: .quorumReads, in: 1...100, config: config(faults: .calm, bug: .readAnswersAfterOneReply))
        XCTAssertNotNil(found, "reads that answer before r replicas did went unnoticed for 100 calm seeds")
        if let found {
            let clean = Simulation.run(seed: found.seed, config: config(faults: .calm))
            XCTAssertTrue(clean.passed, "seed \(found.seed) fails without the bug too: \(clean.violations)")
        }
    }

    func testCountingFailedReplicasAsAcksIsFoundWithin100Seeds() {
        assertCaught(.failedReplicaCountsAsAck, within: 1...100, "writes that count failed copies as acknowledged")
    }

    // Bugs in the node's replica side (`ReplicaDriver`) and hinted handoff (`HintDriver`).

    func testACreateOnlyWriteThatSkipsTheExistenceCheckIsFoundWithin20Seeds() {
        let found = firstSeed(violating: .createOnly, in: 1...20, config: config(bug: .createOnlySkipsExistenceCheck))
        XCTAssertNotNil(found, "create-only writes over live values went unnoticed for 20 seeds")
        if let found {
            let clean = Simulation.run(seed: found.seed, config: config())
            XCTAssertTrue(clean.passed, "seed \(found.seed) fails without the bug too: \(clean.violations)")
        }
    }

    func testAHintAcknowledgedButNotKeptIsFoundWithin100Seeds() {
        assertCaught(.hintDroppedOnTake, within: 1...100, "hints acknowledged but never kept")
    }

    /// Some seed in `seeds` breaks some check with `bug` on, and the same seed passes without it.
    private func assertCaught(_ bug: InjectedBug, within seeds: ClosedRange<UInt64>, _ what: String, line: UInt = #line) {
        let found = seeds.lazy.map { Simulation.run(seed: $0, config: config(bug: bug)) }.first { !$0.passed }
        XCTAssertNotNil(found, "\(what) went unnoticed for \(seeds.count) seeds", line: line)
        if let found {
            let clean = Simulation.run(seed: found.seed, config: config())
            XCTAssertTrue(clean.passed, "seed \(found.seed) fails without the bug too: \(clean.violations)", line: line)
        }
    }

    func testDefaultConfigurationHasNoBugSwitchedOn() {
        XCTAssertEqual(SimulationConfig().bug, .none)
    }
}
