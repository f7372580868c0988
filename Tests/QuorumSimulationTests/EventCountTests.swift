import QuorumCore
import QuorumSimulation
import XCTest

/// A report's event counts are what the run did: the requests its clients issued, the
/// crashes that took a node down and the partitions applied.
final class EventCountTests: XCTestCase {
    func testCountsOfAHandWrittenPlan() {
        let get = SimulationPlan.Operation(kind: .get, bucket: SimulatedBuckets.vclock, key: Array("k0".utf8), node: 0)
        let put = SimulationPlan.Operation(kind: .put, bucket: SimulatedBuckets.lww, key: Array("k1".utf8), node: 3)
        let plan = SimulationPlan(
            operations: [[get, put, get], [put, put]],
            faults: [
                .init(atMilliseconds: 100, fault: .crash(node: 1)),
                .init(atMilliseconds: 200, fault: .crash(node: 1)),  // already down: does nothing
                .init(atMilliseconds: 300, fault: .partition(side: [0, 1])),
                .init(atMilliseconds: 400, fault: .restart(node: 1)),
                .init(atMilliseconds: 500, fault: .healPartitions),
                .init(atMilliseconds: 600, fault: .cutOneWay(from: 3, to: 4)),
                .init(atMilliseconds: 700, fault: .crash(node: 2)),
                .init(atMilliseconds: 800, fault: .jumpClock(node: 2, deltaMilliseconds: 50)),
                .init(atMilliseconds: 900, fault: .healPartitions),
            ])
        var settings = config(faults: .chaos)
        settings.clientCount = 2
        let report = Simulation.run(seed: 1, config: settings, plan: plan)
        XCTAssertEqual(report.counts.requests, 5)
        XCTAssertEqual(report.counts.crashes, 2)
        XCTAssertEqual(report.counts.partitions, 2)
        XCTAssertEqual([report.counts.joins, report.counts.leaves, report.counts.storeErrors, report.counts.wipedDisks], [0, 0, 0, 0])

        let noFaults = Simulation.run(seed: 1, config: settings, plan: SimulationPlan(operations: plan.operations, faults: []))
        XCTAssertEqual([noFaults.counts.requests, noFaults.counts.crashes, noFaults.counts.partitions], [5, 0, 0])
    }

    func testCountsOfDrawnPlansFollowTheirFaults() {
        for seed: UInt64 in 1...6 {
            let report = Simulation.run(seed: seed)
            XCTAssertEqual(report.counts.requests, SimulationConfig().requestsPerSeed, "seed \(seed)")
            XCTAssertEqual(report.counts.crashes, Self.crashesTakingEffect(report.plan), "seed \(seed) (\(report.mix.rawValue))")
            XCTAssertEqual(report.counts.partitions, report.plan.faults.filter { Self.isPartition($0.fault) }.count, "seed \(seed)")
        }
    }

    /// The plan's crashes of a node that is up at the time, walking the faults in order
    /// (the order the world applies them in, ties included).
    private static func crashesTakingEffect(_ plan: SimulationPlan) -> Int {
        var down = Set<Int>()
        var crashes = 0
        for timed in plan.faults {
            switch timed.fault {
            case .crash(let node): if down.insert(node).inserted { crashes += 1 }
            case .restart(let node), .restartWiped(let node): down.remove(node)
            default: break
            }
        }
        return crashes
    }

    private static func isPartition(_ fault: SimulationPlan.Fault) -> Bool {
        switch fault {
        case .partition, .cutOneWay: return true
        default: return false
        }
    }
}
