import XCTest
@testable import QuorumCore

final class ClockFloorRuleTests: XCTestCase {
    func testAFloorIsSavedInTheBackgroundHalfAStepBeforeTimestampsReachIt() {
        var floor = ClockFloor(saved: 10_000, stepMilliseconds: 1_000)
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 9_000), .none)
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 9_499), .none)
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 9_500), .saveAhead(10_500))
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 9_600), .none, "one save at a time")
        floor.saved(10_500)
        XCTAssertEqual(floor.saved, 10_500)
        XCTAssertNil(floor.saving)
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 10_000), .saveAhead(11_000))
    }

    func testATimestampAtOrPastTheSavedFloorWaitsForASave() {
        var floor = ClockFloor(saved: 10_000, stepMilliseconds: 1_000)
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 10_000), .saveBeforeIssuing(11_000))
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 9_700), .saveAhead(10_700))
        // The clock jumps while that save is on its way: wait for one at least as far.
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 50_000), .saveBeforeIssuing(51_000))
        floor.saved(51_000)
        floor.saved(10_700)  // the older save lands late: the floor doesn't go back
        XCTAssertEqual(floor.saved, 51_000)
        XCTAssertNil(floor.saving)
    }

    func testAFailedBackgroundSaveIsAskedForAgain() {
        var floor = ClockFloor(saved: 10_000, stepMilliseconds: 1_000)
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 9_800), .saveAhead(10_800))
        floor.saveFailed(10_800)
        XCTAssertEqual(floor.issuing(physicalMilliseconds: 9_801), .saveAhead(10_801))
        XCTAssertEqual(floor.saved, 10_000)
    }
}
