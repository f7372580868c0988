import Foundation
import Logging
import QuorumCore
import QuorumStorage
import XCTest

@testable import QuorumNode

/// The replica's clock starts above every timestamp an earlier run issued, whatever the
/// wall clock says, because each run saves a floor ahead of the timestamps it issues.
final class ClockFloorTests: XCTestCase {
    private let logger = Logger(label: "clock-floor-test") { _ in SwiftLogNoOpLogHandler() }

    private func replica(_ store: ReplicaStore) throws -> NodeClock {
        try NodeClock(store: store, logger: logger)
    }

    func testARestartedReplicaNeverIssuesATimestampBelowTheLastRunsOnes() throws {
        let directory = NSTemporaryDirectory() + "clock-floor-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var store = try ReplicaStore(directory: directory, logger: logger)
        let issued = try replica(store).tick()
        let floor = try XCTUnwrap(store.metaValue("hlc_floor").flatMap { UInt64($0) })
        XCTAssertGreaterThan(floor, issued.physicalMilliseconds, "the saved floor is ahead of what was issued")
        store.close()

        // A floor far in the future stands for a wall clock stepped back since the last run.
        store = try ReplicaStore(directory: directory, logger: logger)
        defer { store.close() }
        let ahead = WallClock.nowMilliseconds() + 3_600_000
        try store.setMetaValue("hlc_floor", String(ahead))
        let restarted = try replica(store)
        let first = restarted.tick()
        XCTAssertGreaterThan(first, HLCTimestamp(physicalMilliseconds: ahead, logical: 0))
        XCTAssertGreaterThan(restarted.tick(), first)
    }
}
