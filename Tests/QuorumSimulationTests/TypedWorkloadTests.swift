import QuorumCore
import QuorumSimulation
import XCTest

/// The typed client (issue #16): drawn after every other request and fault, so adding it
/// changes no one else's plan; and its runs do what the checks need them to do.
final class TypedWorkloadTests: XCTestCase {
    func testTypedClientsAreDrawnAfterEverythingElse() {
        let without = Simulation.run(seed: 9, config: config(truncatingClients: 1)).plan
        let with = Simulation.run(seed: 9, config: config(truncatingClients: 1, typedClients: 2)).plan
        XCTAssertEqual(Array(with.operations.prefix(without.operations.count)), without.operations)
        XCTAssertEqual(with.faults, without.faults)
        XCTAssertEqual(with.operations.count, without.operations.count + 2)
        for operation in with.operations.suffix(2).joined() {
            XCTAssertTrue(operation.kind.isTyped, "\(operation.kind)")
            XCTAssertTrue(SimulatedBuckets.typedNames.contains(operation.bucket))
        }
        XCTAssertEqual(config(typedClients: 2).replayFlags, " --truncating-clients 0 --typed-clients 2 --strong-clients 0")
    }

    /// Over a few seeds the typed client's requests are acknowledged and refused, add and
    /// remove, and every typed key gets a final whole read.
    func testTypedRunsExerciseEveryKindOfUpdateAndReadEveryKeyAtTheEnd() {
        var acknowledged: [String: Int] = [:]
        var failed = 0
        var removes = 0
        var finalReads = 0
        for seed: UInt64 in 1...6 {
            let report = Simulation.run(seed: seed, config: config(typedClients: 2))
            XCTAssertTrue(report.passed, "seed \(seed): \(report.violations)")
            for entry in report.history.entries where SimulatedBuckets.typedNames.contains(entry.bucket) {
                if entry.client == History.checkerClient {
                    if case .typedRead = entry.outcome { finalReads += 1 }
                    continue
                }
                switch entry.outcome {
                case .typedUpdated: acknowledged[entry.bucket, default: 0] += 1
                case .failed, .indeterminate: failed += 1
                default: break
                }
                switch entry.typed {
                case .setRemove?, .setRemoveObserved?: removes += 1
                default: break
                }
            }
        }
        for bucket in SimulatedBuckets.typedNames {
            XCTAssertGreaterThan(acknowledged[bucket] ?? 0, 5, "acknowledged updates of \(bucket)")
        }
        XCTAssertGreaterThan(failed, 0, "some typed requests fail under faults")
        XCTAssertGreaterThan(removes, 0, "clients remove elements they read")
        XCTAssertGreaterThanOrEqual(finalReads, 6, "each seed reads its typed keys at the end")
    }
}
