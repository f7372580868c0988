import Foundation
@testable import QuorumSimulation
import XCTest

/// What keeps runs replayable: the simulator imports only the core (no clocks, no threads,
/// no system randomness), and its agenda orders equal times by scheduling order.
final class SimulatorHygieneTests: XCTestCase {
    func testSimulatorImportsOnlyTheCore() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/QuorumSimulation")
        let files = try FileManager.default.contentsOfDirectory(at: sources, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "swift" }
        XCTAssertFalse(files.isEmpty, "no simulator sources found")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                XCTAssertEqual(line, "import QuorumCore", "\(file.lastPathComponent) imports more than the core")
            }
            for banned in ["SystemRandomNumberGenerator", ".random(", "Date()", "DispatchQueue", "Task {"] {
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
