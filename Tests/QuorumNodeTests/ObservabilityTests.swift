import QuorumCore
import XCTest

@testable import QuorumNode
import QuorumStorage

/// The status page, the metrics read from `/status`, and recent latency: what they show
/// for a known status, so a change that drops a figure fails here first.
final class ObservabilityTests: XCTestCase {
    private func status(down: Set<String> = ["n3"]) -> NodeStatus {
        let ring = Ring(members: ["n1", "n2", "n3"], partitionCount: 16)
        var antiEntropy = AntiEntropyStatus(enabled: true, partitionsExchanged: 12, failedExchanges: 1, keysRepaired: 4, treesReady: 16)
        antiEntropy.transfersPending = 3
        antiEntropy.transfersDone = 1
        let members = ring.members.map {
            MemberReport(node: $0, address: "10.0.0.1:9081", status: "up", reachable: !down.contains($0), phi: down.contains($0) ? 12.5 : 0.2, partitions: 5)
        }
        var rowCache = RowCacheStatistics()
        rowCache.entries = 40
        rowCache.entriesMax = 262_144
        rowCache.hits = 31
        return NodeStatus(
            node: "n1", version: "9.9.9", uptimeSeconds: 61, ring: RingReport(ring: ring), peers: [], hintsPending: 7,
            antiEntropy: antiEntropy, storage: StorageStatus(keys: 100, queuedWrites: 0, committedTransactions: 9, rowCache: rowCache),
            requestsInFlight: 0, repair: RepairStatus(readRepairs: 2, readRepairReplicas: 3),
            hints: HintStatus(pending: 7, pendingBytes: 700, delivered: 5, refused: 0, expired: 1), members: members,
            consensus: "relearning")
    }

    func testStatusMetricsReportBackgroundWork() {
        let text = StatusMetrics.exposition(status())
        for line in [
            #"quorumkv_member_up{member="n3"} 0"#, #"quorumkv_member_up{member="n1"} 1"#, "quorumkv_hints_pending 7",
            "quorumkv_hints_delivered_total 5", "quorumkv_read_repairs_total 2", "quorumkv_anti_entropy_exchanges_total 12",
            "quorumkv_anti_entropy_keys_repaired_total 4", "quorumkv_ring_transfers_pending 3", "# TYPE quorumkv_hints_expired_total counter",
            #"quorumkv_build_info{version="9.9.9"} 1"#, "quorumkv_member_phi{member=\"n3\"} 12.5",
            "quorumkv_row_cache_entries 40", "quorumkv_row_cache_entries_max 262144", "quorumkv_row_cache_hits_total 31",
            #"quorumkv_consensus_standing{standing="relearning"} 1"#, #"quorumkv_consensus_standing{standing="voting"} 0"#,
        ] {
            XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in\n\(text)")
        }
        XCTAssertEqual(StatusMetrics.escapeLabel("a\"b\\c\nd"), #"a\"b\\c\nd"#)
    }

    func testExpositionAppendsStatusMetricsAfterRequestMetrics() {
        let metrics = NodeMetrics()
        metrics.recordResponse(operation: "get", status: 200)
        let text = String(decoding: metrics.exposition(status: status()), as: UTF8.self)
        let requests = try? XCTUnwrap(text.range(of: "quorumkv_http_requests_total"))
        let hints = try? XCTUnwrap(text.range(of: "quorumkv_hints_pending"))
        XCTAssertNotNil(requests)
        XCTAssertLessThan(requests?.lowerBound ?? text.endIndex, hints?.lowerBound ?? text.startIndex)
        XCTAssertFalse(String(decoding: metrics.exposition(), as: UTF8.self).contains("quorumkv_hints_pending"))
    }

    func testRecentLatencyKeepsTheLastMinute() {
        let recent = RecentLatency()
        let now = ContinuousClock.now
        recent.record(operation: "get", duration: .seconds(5), at: now - .seconds(120))  // too old
        for milliseconds in 1...100 { recent.record(operation: "get", duration: .milliseconds(milliseconds), at: now) }
        recent.record(operation: "put", duration: .milliseconds(3), at: now)
        let summaries = recent.summaries(now: now)
        XCTAssertEqual(summaries.map(\.operation), ["get", "put"])
        XCTAssertEqual(summaries[0], RecentLatencySummary(operation: "get", count: 100, p50: 50, p95: 95, p99: 99, max: 100))
        XCTAssertEqual(summaries[1].count, 1)
        XCTAssertEqual(recent.summaries(now: now + .seconds(61)), [])
    }

    func testRecentLatencyIsBounded() {
        let recent = RecentLatency()
        let now = ContinuousClock.now
        for _ in 0..<(RecentLatency.samplesMax + 10) { recent.record(operation: "get", duration: .milliseconds(1), at: now) }
        XCTAssertEqual(recent.summaries(now: now).first?.count, RecentLatency.samplesMax)
    }

    func testStatusPageShowsRingMembersHintsAntiEntropyAndLatency() {
        let latency = [RecentLatencySummary(operation: "put", count: 3, p50: 1.234, p95: 12.34, p99: 123.4, max: 200)]
        let html = HTTPStatusPage.render(status(), latency: latency)
        XCTAssertEqual(html.components(separatedBy: "class=\"cell\"").count - 1, 16, "one ring sector per partition")
        let fadedSectors = html.components(separatedBy: "data-owner=\"n3\" data-owner-state=\"down\"").count - 1
        XCTAssertEqual(fadedSectors, RingReport(ring: Ring(members: ["n1", "n2", "n3"], partitionCount: 16)).ownership["n3"])
        XCTAssertTrue(html.contains(#"<b id="members-up">2 of 3</b>"#))
        XCTAssertTrue(html.contains(#"data-node="n3" data-state="down""#))
        XCTAssertTrue(html.contains(#"id="hints-pending">7<"#))
        XCTAssertTrue(html.contains(#"id="ae-exchanges">12<"#))
        XCTAssertTrue(html.contains(#"<progress id="transfers" value="1" max="4">"#))
        XCTAssertTrue(html.contains(#"data-operation="put" data-count="3""#))
        XCTAssertTrue(html.contains(">1.23<") && html.contains(">12.3<") && html.contains(">123<"), html)
        XCTAssertFalse(html.contains("<script"))
        let quiet = HTTPStatusPage.render(status(down: []), latency: [])
        XCTAssertTrue(quiet.contains("no key requests in the last 60 s"))
        XCTAssertTrue(quiet.contains(#"id="members-up">3 of 3<"#))
    }

    func testRingSectorOfASinglePartitionIsAFullRing() {
        let path = HTTPStatusRing.sector(center: 130, from: 0, to: 2 * .pi)
        XCTAssertTrue(path.hasPrefix("M 130.00 10.00 A"), path)
        XCTAssertTrue(path.contains("130.00 250.00"), "passes through the bottom: \(path)")
    }

    func testReplicaCallLabels() {
        XCTAssertEqual(ReplicaCallMetrics.reasonLabel(PeerError.timeout), "timeout")
        XCTAssertEqual(ReplicaCallMetrics.reasonLabel(PeerError.unreachable("x")), "unreachable")
        XCTAssertEqual(ReplicaCallMetrics.requestLabel(.fetch(bucket: "b", key: [1])), "fetch")
        XCTAssertEqual(ReplicaCallMetrics.requestLabel(.ping), "ping")
    }

    func testAFailedReplicaCallIsCountedOnTheProcessRegistry() {
        let registry = ProcessMetrics.bootstrap()
        let node = "observability-\(UInt32.random(in: 0...UInt32.max))"
        ReplicaCallMetrics.count(ReplicaCallMetrics.requestLabel(.fetch(bucket: "b", key: [1])), from: node, PeerError.timeout)
        ReplicaCallMetrics.count("fetch", from: node, PeerError.timeout)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix(ReplicaCallMetrics.failures) && $0.contains(node) }
        XCTAssertNotNil(line, text)
        XCTAssertTrue(line?.contains(#"request="fetch""#) ?? false)
        XCTAssertTrue(line?.contains(#"reason="timeout""#) ?? false)
        XCTAssertTrue(line?.hasSuffix(" 2") ?? false, String(line ?? ""))
    }
}
