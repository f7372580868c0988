import QuorumCore
import QuorumSimulation
import XCTest

/// The strong clients (issue #17): drawn after every other request and fault, so adding
/// them changes no one else's plan; and their runs meet every kind of outcome the
/// linearizability check (m) has to read.
final class StrongWorkloadTests: XCTestCase {
    func testStrongClientsAreDrawnAfterEverythingElse() {
        let without = Simulation.run(seed: 9, config: config(truncatingClients: 1, typedClients: 1)).plan
        let with = Simulation.run(seed: 9, config: config(truncatingClients: 1, typedClients: 1, strongClients: 2)).plan
        XCTAssertEqual(Array(with.operations.prefix(without.operations.count)), without.operations)
        XCTAssertEqual(with.faults, without.faults)
        XCTAssertEqual(with.operations.count, without.operations.count + 2)
        for operation in with.operations.suffix(2).joined() {
            XCTAssertTrue(operation.kind.isStrong, "\(operation.kind)")
            XCTAssertEqual(operation.bucket, SimulatedBuckets.strong)
            XCTAssertNil(operation.options.n, "a strong bucket refuses n")
        }
        XCTAssertEqual(config(strongClients: 3).replayFlags, " --truncating-clients 0 --typed-clients 0 --strong-clients 3")
        XCTAssertEqual(SimulatedBuckets.props[SimulatedBuckets.strong]?.consistency, .strong)
    }

    /// Over a few seeds of faults, strong operations are answered done and condition
    /// failed, end indeterminate and fail, compare-and-sets on every kind of condition are
    /// sent, and every strong key gets a final read; every seed passes (m).
    func testStrongRunsMeetEveryOutcomeAndReadEveryKeyAtTheEnd() {
        var outcomes: [String: Int] = [:]
        var conditions: Set<String> = []
        var finalReads = 0
        for seed: UInt64 in 1...12 {
            let report = Simulation.run(seed: seed, config: config(strongClients: 2))
            XCTAssertTrue(report.passed, "seed \(seed): \(report.violations)")
            for entry in report.history.entries where entry.bucket == SimulatedBuckets.strong {
                if entry.client == History.checkerClient {
                    if case .strongAnswered(.done) = entry.outcome { finalReads += 1 }
                    continue
                }
                switch entry.outcome {
                case .strongAnswered(.done): outcomes["done", default: 0] += 1
                case .strongAnswered(.conditionFailed): outcomes["conditionFailed", default: 0] += 1
                case .indeterminate: outcomes["indeterminate", default: 0] += 1
                case .failed: outcomes["failed", default: 0] += 1
                default: outcomes["other", default: 0] += 1
                }
                if case .compareAndSet(let condition, _)? = entry.strong {
                    switch condition {
                    case .ifMatch: conditions.insert("ifMatch")
                    case .ifEquals: conditions.insert("ifEquals")
                    case .ifAbsent: conditions.insert("ifAbsent")
                    case .ifPresent: conditions.insert("ifPresent")
                    }
                }
            }
        }
        XCTAssertGreaterThan(outcomes["done"] ?? 0, 100, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["conditionFailed"] ?? 0, 5, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["indeterminate"] ?? 0, 0, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["failed"] ?? 0, 0, "\(outcomes)")
        XCTAssertNil(outcomes["other"], "\(outcomes)")
        XCTAssertEqual(conditions, ["ifMatch", "ifEquals", "ifAbsent"])
        XCTAssertGreaterThanOrEqual(finalReads, 12, "each seed reads its strong keys at the end")
    }
}
