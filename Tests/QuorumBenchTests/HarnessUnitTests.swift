import Foundation
import NIOCore
import QuorumCore
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import QuorumBench

final class HarnessUnitTests: XCTestCase {
    func testReplyParserIsIncrementalAndDecodesEveryType() throws {
        let wire = "+OK\r\n-QUORUM write needed 2\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n_\r\n"
        let bytes = Array(wire.utf8)
        var replies: [RESPReply] = []
        var buffer = ByteBuffer()
        for byte in bytes {  // one byte at a time: every prefix must wait, not fail
            buffer.writeInteger(byte)
            while let reply = try RESPReplyParser.decode(&buffer) { replies.append(reply) }
        }
        XCTAssertEqual(replies.count, 7)
        XCTAssertEqual(replies[0], .simple("OK"))
        XCTAssertEqual(replies[1].errorKind, "QUORUM")
        XCTAssertEqual(replies[2], .integer(42))
        XCTAssertEqual(replies[3], .bulk(ByteBuffer(string: "hello")))
        XCTAssertEqual(replies[4], .bulk(nil))
        XCTAssertEqual(replies[5], .array([.bulk(ByteBuffer(string: "a")), .array([.integer(1)])]))
        XCTAssertEqual(replies[6], .bulk(nil))
        var bad = ByteBuffer(string: "?what\r\n")
        XCTAssertThrowsError(try RESPReplyParser.decode(&bad))
    }

    func testVersionedValuesRoundTripAtTheirSize() {
        for (sequence, size) in [(UInt32(0), 12), (7, 100), (123_456, 1_000), (UInt32.max, 12)] {
            var buffer = ByteBuffer()
            VersionedValue.encode(sequence: sequence, size: size, into: &buffer)
            XCTAssertEqual(buffer.readableBytes, VersionedValue.encodedLength(sequence: sequence, size: size))
            XCTAssertEqual(buffer.readableBytes, size)
            XCTAssertEqual(VersionedValue.decode(buffer), sequence)
        }
        XCTAssertNil(VersionedValue.decode(ByteBuffer(string: "hello")))
    }

    func testZipfianFavoursLowIndicesAndStaysInRange() {
        let zipf = ZipfianGenerator(count: 1_000)
        var random = SplitMix64(seed: 7)
        var counts = [Int](repeating: 0, count: 1_000)
        for _ in 0..<100_000 {
            let index = zipf.next(uniform: Double(random.next() >> 11) * 0x1.0p-53)
            XCTAssertTrue((0..<1_000).contains(index))
            counts[index] += 1
        }
        // theta 0.99 over 1000 items: item 0 takes about 13%, the top 10 about 38%.
        XCTAssertGreaterThan(counts[0], 10_000)
        XCTAssertGreaterThan(counts[0], counts[10] * 5)
        XCTAssertGreaterThan(counts[..<10].reduce(0, +), 30_000)
        for _ in 0..<1_000 {
            XCTAssertTrue((0..<1_000).contains(zipf.nextScrambled(uniform: Double(random.next() >> 11) * 0x1.0p-53)))
        }
    }

    func testLatestReadsFavourRecentWrites() {
        var chooser = KeyChooser(recordCount: 10_000, distribution: .latest, seed: 1)
        for key in 0..<100 { chooser.noteWritten(key) }
        var recent = 0
        for _ in 0..<1_000 where chooser.keyForRead() >= 90 { recent += 1 }
        XCTAssertGreaterThan(recent, 300, "the ten newest of 100 written keys should take a large share")
    }

    func testStalenessFollowsTheDefinition() {
        let tracker = StalenessTracker(recordCount: 2)
        // Write 1 of key 0: started at 10, acknowledged at 20.
        let first = tracker.beginWrite(key: 0)
        tracker.writeAcknowledged(key: 0, sequence: first, startedAt: 10, at: 20)
        // Write 2 starts at 30 (after write 1 was acknowledged), acknowledged at 40.
        let second = tracker.beginWrite(key: 0)
        tracker.writeAcknowledged(key: 0, sequence: second, startedAt: 30, at: 40)
        let afterBoth = tracker.snapshot(key: 0, at: 50)
        XCTAssertTrue(tracker.isStale(key: 0, returned: first, snapshot: afterBoth))
        XCTAssertTrue(tracker.isStale(key: 0, returned: 0, snapshot: afterBoth))  // the preloaded value
        XCTAssertTrue(tracker.isStale(key: 0, returned: nil, snapshot: afterBoth))
        XCTAssertFalse(tracker.isStale(key: 0, returned: second, snapshot: afterBoth))
        // Concurrent writes: 3 and 4 overlap; either may win under last-writer-wins.
        let third = tracker.beginWrite(key: 0)
        let fourth = tracker.beginWrite(key: 0)
        tracker.writeAcknowledged(key: 0, sequence: fourth, startedAt: 60, at: 70)
        tracker.writeAcknowledged(key: 0, sequence: third, startedAt: 60, at: 75)
        let afterConcurrent = tracker.snapshot(key: 0, at: 80)
        XCTAssertFalse(tracker.isStale(key: 0, returned: third, snapshot: afterConcurrent))
        XCTAssertFalse(tracker.isStale(key: 0, returned: fourth, snapshot: afterConcurrent))
        XCTAssertTrue(tracker.isStale(key: 0, returned: second, snapshot: afterConcurrent))
        // A read that began before write 5 was acknowledged may miss it.
        let fifth = tracker.beginWrite(key: 0)
        let during = tracker.snapshot(key: 0, at: 85)
        tracker.writeAcknowledged(key: 0, sequence: fifth, startedAt: 84, at: 90)
        XCTAssertFalse(tracker.isStale(key: 0, returned: third, snapshot: during))
        // A key never written in the run: the preloaded value is fresh.
        XCTAssertFalse(tracker.isStale(key: 1, returned: 0, snapshot: tracker.snapshot(key: 1, at: 100)))
        XCTAssertNil(StalenessTracker.pbsBin(snapshot: tracker.snapshot(key: 1, at: 100)))
        XCTAssertEqual(StalenessTracker.pbsBin(snapshot: tracker.snapshot(key: 0, at: 90 + 1_500)), 1)  // 1.5 ms
    }

    func testVersionsPushedOutOfTheRingAreJudgedByTheirBound() {
        let tracker = StalenessTracker(recordCount: 1)
        let first = tracker.beginWrite(key: 0)
        tracker.writeAcknowledged(key: 0, sequence: first, startedAt: 10, at: 20)
        // More concurrent writes than the ring holds, all started before `first` was acked:
        // returning `first` afterwards is not stale, even though it left the ring.
        let overlapping = (0..<(tracker.ringSize + 8)).map { _ in tracker.beginWrite(key: 0) }
        for sequence in overlapping { tracker.writeAcknowledged(key: 0, sequence: sequence, startedAt: 15, at: 25) }
        XCTAssertFalse(tracker.isStale(key: 0, returned: first, snapshot: tracker.snapshot(key: 0, at: 30)))
        // One more write that started after all of those were acked: now `first` is stale.
        let later = tracker.beginWrite(key: 0)
        tracker.writeAcknowledged(key: 0, sequence: later, startedAt: 40, at: 50)
        XCTAssertTrue(tracker.isStale(key: 0, returned: first, snapshot: tracker.snapshot(key: 0, at: 60)))
        XCTAssertFalse(tracker.isStale(key: 0, returned: later, snapshot: tracker.snapshot(key: 0, at: 60)))
    }

    func testSweepForNThreeIsTheIssuesSevenSettings() throws {
        let sweep = QuorumSetting.defaultSweep(n: 3).map { "\($0.w),\($0.r)" }
        XCTAssertEqual(sweep, ["1,1", "1,2", "2,1", "2,2", "3,1", "1,3", "3,3"])
        XCTAssertEqual(QuorumSetting.defaultSweep(n: 1).count, 1)
        XCTAssertEqual(try QuorumSetting.parse("2,2", n: 3), QuorumSetting(n: 3, w: 2, r: 2))
        XCTAssertThrowsError(try QuorumSetting.parse("4,1", n: 3))
        XCTAssertThrowsError(try QuorumSetting.parse("two", n: 3))
    }

    func testWorkloadMixes() {
        XCTAssertEqual(Workload.c.operation(draw: 0.99), .read)
        XCTAssertEqual(Workload.a.operation(draw: 0.49), .read)
        XCTAssertEqual(Workload.a.operation(draw: 0.5), .update)
        XCTAssertEqual(Workload.b.operation(draw: 0.96), .update)
        XCTAssertEqual(Workload.f.operation(draw: 0.7), .readModifyWrite)
        XCTAssertEqual(Workload.w.operation(draw: 0), .update)
        XCTAssertEqual(try Workload.parse("f"), .f)
        XCTAssertThrowsError(try Workload.parse("Z"))
    }

    func testSelfCheckCatchesMissingSettingsNegativeFiguresAndStaleQuorumReads() throws {
        var configuration = BenchConfiguration.quick()
        configuration.workloads = [.a]
        let good = Self.result(w: 2, r: 2, stale: 0)
        var report = BenchReport(startedAt: Date(), configuration: configuration, redisVersion: nil, results: [good])
        let sweep = [QuorumSetting(n: 3, w: 2, r: 2), QuorumSetting(n: 3, w: 1, r: 1)]
        XCTAssertEqual(BenchSelfCheck.problems(in: report, expected: sweep), ["workload A n=3 w=1 r=1: not reported"])
        report.results = [good, Self.result(w: 1, r: 1, stale: 5)]
        XCTAssertEqual(BenchSelfCheck.problems(in: report, expected: sweep), [], "stale reads are allowed when w + r <= n")
        report.results = [Self.result(w: 2, r: 2, stale: 1), Self.result(w: 1, r: 1, stale: 0)]
        XCTAssertEqual(BenchSelfCheck.problems(in: report, expected: sweep).count, 1)
        var negative = good
        negative.throughput = -1
        negative.latency.p99 = .nan
        report.results = [negative, Self.result(w: 1, r: 1, stale: 0)]
        XCTAssertEqual(BenchSelfCheck.problems(in: report, expected: sweep).count, 2)
    }

    func testFiguresAreWellFormedSVG() throws {
        var configuration = BenchConfiguration.quick()
        configuration.workloads = [.a]
        let report = BenchReport(
            startedAt: Date(), configuration: configuration, redisVersion: nil,
            results: [Self.result(w: 1, r: 1, stale: 3), Self.result(w: 2, r: 2, stale: 0)])
        let figures = BenchFigures.render(report)
        XCTAssertEqual(figures.map(\.name), ["A-throughput.svg", "A-p99.svg", "A-latency-cdf.svg", "A-staleness.svg"])
        for figure in figures {
            XCTAssertTrue(figure.svg.hasPrefix("<svg"))
            XCTAssertTrue(figure.svg.hasSuffix("</svg>\n"))
            XCTAssertFalse(figure.svg.contains("nan"), figure.name)
            XCTAssertFalse(figure.svg.contains("inf"), figure.name)
            XCTAssertNotNil(try? XMLDocument(xmlString: figure.svg), "\(figure.name) is not well-formed XML")
        }
        XCTAssertTrue(BenchTable.render(report).contains("n=3 w=2 r=2"))
        XCTAssertEqual(report.csv().split(separator: "\n").count, 3)
    }

    static func result(w: Int, r: Int, stale: Int) -> SettingResult {
        var histogram = LoadOutcome.makeHistogram()
        for micros in [500, 800, 1_200, 3_000, 9_000] { _ = histogram.record(UInt64(micros)) }
        var outcome = LoadOutcome()
        outcome.all = histogram
        outcome.byKind[.read] = histogram
        outcome.succeeded[.read] = 5
        outcome.measuredSeconds = 1
        outcome.readsChecked = 100
        outcome.staleReads = stale
        outcome.pbsReads[0] = 50
        outcome.pbsStale[0] = stale
        outcome.pbsReads[3] = 50
        return SettingResult(
            outcome: outcome, target: .quorumkv, nodes: 3, workload: .a, distribution: .latest,
            setting: QuorumSetting(n: 3, w: w, r: r), pausedNodes: [], connections: 8, targetRate: nil,
            nodeUsage: [.init(node: "node1", cpuCores: 0.5, residentMiB: 40, paused: false)], clientCPUCores: 0.3)
    }
}
