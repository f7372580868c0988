import Foundation
@testable import QuorumSimulation
import XCTest

/// What keeps runs replayable: the simulator and the node services it runs import only the
/// core (no clocks, no threads, no locks, no system randomness), and its agenda orders equal times by scheduling order.
final class SimulatorHygieneTests: XCTestCase {
    /// And the linearizability checker, which is pure too (standard library only, its
    /// budget counted in steps, not time).
    func testSimulatorImportsOnlyTheCoreTheNodeServicesAndTheChecker() throws {
        try checkSources("QuorumSimulation", allowedImports: ["import QuorumCore", "import QuorumServices", "import QuorumLinearizability"])
    }

    func testLinearizabilityCheckerIsPure() throws {
        try checkSources("QuorumLinearizability", allowedImports: [])
    }

    /// The node's services run on an executor their world supplies: no threads, locks,
    /// clocks or system randomness of their own, or the simulator could not step them.
    func testNodeServicesImportOnlyTheCore() throws {
        try checkSources("QuorumServices", allowedImports: ["import QuorumCore"])
    }

    private func checkSources(_ module: String, allowedImports: Set<String>) throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/\(module)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: sources.path)
            .filter { $0.hasSuffix(".swift") }.map { sources.appendingPathComponent($0) }
        XCTAssertFalse(files.isEmpty, "no \(module) sources found")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                XCTAssertTrue(allowedImports.contains(String(line)), "\(file.lastPathComponent) imports \(line)")
            }
            for banned in ["SystemRandomNumberGenerator", ".random(", "Date()", "DispatchQueue", "Task {", "Mutex", "Atomic<"] {
                XCTAssertFalse(text.contains(banned), "\(file.lastPathComponent) uses \(banned), which a seed cannot replay")
            }
        }
    }

    func testAgendaRunsEqualTimesInSchedulingOrder() {
        var queue = EventQueue(eventsMax: 16)
        var ran: [Int] = []
        for (index, time) in [5, 3, 5, 1, 3].enumerated() {
            queue.schedule(at: UInt64(time)) { ran.append(index) }
        }
        while let event = queue.popFirst() { event.action() }
        XCTAssertEqual(ran, [3, 1, 4, 0, 2])
    }
}
