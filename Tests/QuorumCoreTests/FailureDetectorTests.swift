import XCTest
@testable import QuorumCore

final class FailureDetectorTests: XCTestCase {
    /// Steps virtual time in 10 ms ticks from `start` until `node` is unavailable; returns that time.
    private func timeMarkedDown(
        _ detector: FailureDetector, _ node: String, from start: UInt64, limitMilliseconds: UInt64 = 60_000
    ) -> UInt64? {
        var now = start
        while now <= start + limitMilliseconds {
            if !detector.isAvailable(node, nowMilliseconds: now) { return now }
            now += 10
        }
        return nil
    }

    func testElementaryFunctionsMatchKnownValues() {
        XCTAssertEqual(Elementary.exp(0), 1)
        XCTAssertEqual(Elementary.exp(1), 2.718_281_828_459_045, accuracy: 1e-15)
        XCTAssertEqual(Elementary.exp(-1), 0.367_879_441_171_442_3, accuracy: 1e-15)
        XCTAssertEqual(Elementary.exp(10), 22026.465_794_806_718, accuracy: 1e-10)
        XCTAssertEqual(Elementary.exp(-20), 2.061_153_622_438_557_8e-9, accuracy: 1e-23)
        XCTAssertEqual(Elementary.exp(-800), 0)
        XCTAssertEqual(Elementary.exp(800), .infinity)
        XCTAssertGreaterThan(Elementary.exp(-740), 0, "subnormal results are reached")
        XCTAssertEqual(Elementary.log(1), 0)
        XCTAssertEqual(Elementary.log(2), Elementary.ln2, accuracy: 1e-16)
        XCTAssertEqual(Elementary.log(10), Elementary.ln10, accuracy: 1e-15)
        XCTAssertEqual(Elementary.log(0.5), -Elementary.ln2, accuracy: 1e-16)
        XCTAssertEqual(Elementary.log10(1000), 3, accuracy: 1e-15)
        XCTAssertEqual(Elementary.log10(1e-8), -8, accuracy: 1e-14)
        XCTAssertEqual(Elementary.log(0), -.infinity)
        XCTAssertTrue(Elementary.log(-1).isNaN)
        for x in stride(from: -30.0, through: 30.0, by: 0.37) {
            XCTAssertEqual(Elementary.log(Elementary.exp(x)), x, accuracy: 1e-13, "log(exp(\(x)))")
        }
    }

    func testPhiIsLog2AtTheExpectedArrivalAndRisesAfter() {
        var detector = FailureDetector()
        detector.heartbeat(from: "a", atMilliseconds: 0)
        // Mean 500 (the first estimate) plus the 1000 ms acceptable pause.
        XCTAssertEqual(detector.phi(of: "a", nowMilliseconds: 1500), Elementary.log10(2), accuracy: 1e-12)
        var previous = -1.0
        for now in stride(from: UInt64(0), through: 20_000, by: 50) {
            let phi = detector.phi(of: "a", nowMilliseconds: now)
            XCTAssertGreaterThanOrEqual(phi, previous, "phi never falls while no heartbeat arrives (t=\(now))")
            XCTAssertTrue(phi.isFinite, "phi stays finite (t=\(now))")
            previous = phi
        }
        XCTAssertGreaterThan(previous, 1000, "after 20 s phi is far past any threshold")
    }

    func testRegularHeartbeatsStayUpAndAStoppedNodeIsDownWithinFiveSeconds() {
        var detector = FailureDetector()
        var now: UInt64 = 1_000
        var last = now
        while now <= 61_000 {
            if now % 500 == 0 {
                detector.heartbeat(from: "b", atMilliseconds: now)
                last = now
            }
            XCTAssertTrue(detector.isAvailable("b", nowMilliseconds: now), "marked down at \(now) with regular heartbeats")
            now += 10
        }
        let down = timeMarkedDown(detector, "b", from: last)
        XCTAssertNotNil(down)
        let delay = down! - last
        XCTAssertLessThanOrEqual(delay, 5_000, "a stopped node must be down within 5 s, took \(delay) ms")
        XCTAssertGreaterThanOrEqual(delay, 1_500, "the acceptable pause is honoured, took \(delay) ms")
        // Back up on the next heartbeat.
        detector.heartbeat(from: "b", atMilliseconds: down! + 3_000)
        XCTAssertTrue(detector.isAvailable("b", nowMilliseconds: down! + 3_000))
    }

    func testJitteryHeartbeatsAreNotMarkedDown() {
        var random = MembershipTestRandom(seed: 42)
        var detector = FailureDetector()
        var next: UInt64 = 0
        var last: UInt64 = 0
        var beats = 0
        var now: UInt64 = 0
        while now <= 10 * 60_000 {
            if now >= next {
                detector.heartbeat(from: "c", atMilliseconds: now)
                last = now
                beats += 1
                // 500 ms ± 200 ms, and every 40th heartbeat a full second late.
                next = now + 300 + UInt64(random.below(401)) + (beats % 40 == 0 ? 1000 : 0)
            }
            XCTAssertTrue(detector.isAvailable("c", nowMilliseconds: now), "false suspicion at \(now) ms")
            if !detector.isAvailable("c", nowMilliseconds: now) { return }
            now += 10
        }
        let down = timeMarkedDown(detector, "c", from: last)!
        XCTAssertLessThanOrEqual(down - last, 5_000, "jitter widens the timeout but it stays within 5 s: \(down - last) ms")
    }

    func testANodeHeardOnceGoesDownAndComesBack() {
        var detector = FailureDetector()
        detector.heartbeat(from: "d", atMilliseconds: 10_000)
        XCTAssertTrue(detector.isAvailable("d", nowMilliseconds: 11_000))
        let down = timeMarkedDown(detector, "d", from: 10_000)!
        XCTAssertLessThanOrEqual(down - 10_000, 5_000)
        detector.heartbeat(from: "d", atMilliseconds: down + 10)
        XCTAssertTrue(detector.isAvailable("d", nowMilliseconds: down + 10))
    }

    func testALongPauseDoesNotEnterTheHistory() {
        var detector = FailureDetector()
        for beat in 0...100 { detector.heartbeat(from: "e", atMilliseconds: UInt64(beat) * 500) }
        let before = detector.statuses(nowMilliseconds: 50_000).first!.meanIntervalMilliseconds
        // A 30 s stop (the node was SIGSTOPped), then it resumes.
        XCTAssertFalse(detector.isAvailable("e", nowMilliseconds: 80_000))
        detector.heartbeat(from: "e", atMilliseconds: 80_000)
        XCTAssertTrue(detector.isAvailable("e", nowMilliseconds: 80_000))
        XCTAssertEqual(detector.statuses(nowMilliseconds: 80_000).first!.meanIntervalMilliseconds, before, accuracy: 1e-9)
        for beat in 1...20 { detector.heartbeat(from: "e", atMilliseconds: 80_000 + UInt64(beat) * 500) }
        let down = timeMarkedDown(detector, "e", from: 90_000)!
        XCTAssertLessThanOrEqual(down - 90_000, 5_000, "detection after the resume is as quick as before")
    }

    func testUnknownNodesAreAvailableAndWatchedSilentNodesGoDown() {
        var detector = FailureDetector()
        XCTAssertEqual(detector.phi(of: "ghost", nowMilliseconds: 1_000_000), 0)
        XCTAssertTrue(detector.isAvailable("ghost", nowMilliseconds: 1_000_000))
        detector.watch("silent", nowMilliseconds: 2_000)
        let down = timeMarkedDown(detector, "silent", from: 2_000)!
        XCTAssertLessThanOrEqual(down - 2_000, 5_000)
        XCTAssertFalse(detector.statuses(nowMilliseconds: down).first!.heard)
        // The first real heartbeat does not count the time since watching as an interval.
        detector.heartbeat(from: "silent", atMilliseconds: 2_300)
        XCTAssertEqual(detector.statuses(nowMilliseconds: 2_300).first!.meanIntervalMilliseconds, 500)
        detector.watch("silent", nowMilliseconds: 9_999)  // already tracked: no change
        XCTAssertTrue(detector.statuses(nowMilliseconds: 2_300).first!.heard)
        detector.remove("silent")
        XCTAssertEqual(detector.trackedNodes, [])
        XCTAssertTrue(detector.isAvailable("silent", nowMilliseconds: 100_000))
    }

    func testTheSampleWindowIsBounded() {
        var settings = FailureDetectorSettings()
        settings.sampleWindowCount = 200
        var detector = FailureDetector(settings: settings)
        var now: UInt64 = 0
        detector.heartbeat(from: "f", atMilliseconds: now)
        // 300 intervals of 300 ms, then 200 of 450 ms: only the last 200 count.
        for _ in 0..<300 { now += 300; detector.heartbeat(from: "f", atMilliseconds: now) }
        for _ in 0..<200 { now += 450; detector.heartbeat(from: "f", atMilliseconds: now) }
        XCTAssertEqual(detector.statuses(nowMilliseconds: now).first!.meanIntervalMilliseconds, 450, accuracy: 1e-9)
    }

    func testTrackedNodesAreBounded() {
        var settings = FailureDetectorSettings()
        settings.nodesMax = 2
        var detector = FailureDetector(settings: settings)
        XCTAssertTrue(detector.heartbeat(from: "a", atMilliseconds: 0))
        XCTAssertTrue(detector.heartbeat(from: "b", atMilliseconds: 0))
        XCTAssertFalse(detector.heartbeat(from: "c", atMilliseconds: 0))
        detector.watch("d", nowMilliseconds: 0)
        XCTAssertEqual(detector.trackedNodes, ["a", "b"])
        XCTAssertTrue(detector.heartbeat(from: "a", atMilliseconds: 500), "known nodes still count")
    }

    func testClockGoingBackwardsIsHarmless() {
        var detector = FailureDetector()
        detector.heartbeat(from: "g", atMilliseconds: 10_000)
        detector.heartbeat(from: "g", atMilliseconds: 9_000)
        XCTAssertEqual(detector.statuses(nowMilliseconds: 5_000).first!.millisecondsSinceHeartbeat, 0)
        XCTAssertTrue(detector.isAvailable("g", nowMilliseconds: 5_000))
        XCTAssertEqual(detector.statuses(nowMilliseconds: 10_000).first!.meanIntervalMilliseconds, 500)
    }

    func testStatusesAreSortedAndConsistent() {
        var detector = FailureDetector()
        detector.heartbeat(from: "zeta", atMilliseconds: 0)
        detector.heartbeat(from: "alpha", atMilliseconds: 9_000)
        let statuses = detector.statuses(nowMilliseconds: 10_000)
        XCTAssertEqual(statuses.map(\.node), ["alpha", "zeta"])
        XCTAssertEqual(statuses.map(\.isAvailable), [true, false])
        XCTAssertEqual(statuses.map(\.millisecondsSinceHeartbeat), [1_000, 10_000])
        XCTAssertEqual(statuses[1].phi, detector.phi(of: "zeta", nowMilliseconds: 10_000))
    }
}
