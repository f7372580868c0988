import QuorumCore
import QuorumSimulation
import XCTest

/// The workload exercises expiry: writes with short ttls and expiry changes in the
/// `expiring` bucket, reads that find versions expired, and runs that pass check (i).
final class ExpiryWorkloadTests: XCTestCase {
    func testTheWorkloadWritesWithTTLsChangesThemAndReadsExpiredKeys() {
        var ttlWrites = 0
        var touches = 0
        var expiredReads = 0
        for seed: UInt64 in 1...5 {
            let report = Simulation.run(seed: seed)
            XCTAssertTrue(report.passed, "seed \(seed): \(report.violations)")
            ttlWrites += report.plan.operations.joined().filter { $0.ttlMilliseconds != nil && $0.kind != .expire }.count
            touches += report.history.entries.filter { $0.kind == .expire }.count
            // A read of an expiring key that found only its stripped form: a version expired.
            expiredReads += report.history.entries.filter { entry in
                guard entry.kind == .get, entry.bucket == SimulatedBuckets.expiring, case .read(let state?) = entry.outcome else {
                    return false
                }
                return state.siblings.contains { $0.isTombstone && $0.expiry.deadlineMilliseconds != nil }
            }.count
        }
        XCTAssertGreaterThan(ttlWrites, 10)
        XCTAssertGreaterThan(touches, 3)
        XCTAssertGreaterThan(expiredReads, 3, "reads meet expired versions")
    }

    func testWithoutTheExpiringBucketPlansAreDrawnAsBefore() {
        var settings = SimulationConfig()
        settings.expiryWorkload = false
        let report = Simulation.run(seed: 7, config: settings)
        XCTAssertFalse(report.plan.operations.joined().contains { $0.bucket == SimulatedBuckets.expiring || $0.ttlMilliseconds != nil })
        XCTAssertEqual(settings.replayFlags, " --no-expiry")
    }
}
