import Foundation
import QuorumCore
import XCTest

/// Sloppy quorum and hinted handoff with real processes: a frozen primary's writes go to
/// a stand-in as hints and reach the primary once it thaws.
final class HandoffTests: XCTestCase {
    private var cluster: ClusterHarness!

    override func setUp() async throws {
        // Four nodes with n=3: every key has one node past its preference list to stand in.
        cluster = try await ClusterHarness(nodes: 4)
    }

    override func tearDown() async throws {
        cluster?.shutdown()
    }

    private func hintCounts() async throws -> (pending: Int, delivered: Int) {
        var pending = 0
        var delivered = 0
        for index in 0..<3 {
            let status = try await cluster.client(index).request("GET", "/status")
            let hints = status.json["hints"] as? [String: Any] ?? [:]
            pending += hints["pending"] as? Int ?? 0
            delivered += hints["delivered"] as? Int ?? 0
        }
        return (pending, delivered)
    }

    func testWritesForAFrozenPrimaryBecomeHintsThatDrainWhenItThaws() async throws {
        let ring = Ring(members: cluster.nodes.map(\.id))
        let keys = (0..<200).map { "hinted-\($0)" }.filter {
            ring.preferenceList(bucket: "default", key: Array($0.utf8), n: 3).contains("node4")
        }.prefix(12)
        XCTAssertEqual(keys.count, 12)

        cluster.signal(3, SIGSTOP)
        var thawed = false
        defer { if !thawed { cluster.signal(3, SIGCONT) } }
        let writer = cluster.client(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask {
                    // w=3 needs the stand-in: node 4 answers nothing, so after half the
                    // timeout its slot moves to the node past the preference list.
                    let response = try await writer.put(key, "v-\(key)", query: [("w", "3"), ("timeout", "3000")])
                    guard response.status == 204 else { throw HarnessError("\(key): \(response.status) \(response.text)") }
                }
            }
            try await group.waitForAll()
        }
        let held = try await hintCounts()
        XCTAssertEqual(held.pending, keys.count, "one hint per key, held by the stand-ins")

        // pw=3 refuses stand-ins: with a primary frozen the write fails with the quorum error.
        let strict = try await writer.put(keys.first!, "strict", query: [("w", "3"), ("pw", "3"), ("timeout", "1000")])
        XCTAssertEqual(strict.status, 503, strict.text)
        XCTAssertEqual(strict.json["error"] as? String, "quorum_not_met")
        XCTAssertTrue(strict.text.contains("primaries"), strict.text)

        cluster.signal(3, SIGCONT)
        thawed = true
        let thawedAt = Date()
        try await eventually("every hint is delivered", seconds: 30) {
            let counts = try await self.hintCounts()
            return counts.pending == 0 && counts.delivered >= keys.count
        }
        print("recovery: \(keys.count) hints drained \(String(format: "%.2f", Date().timeIntervalSince(thawedAt))) s after SIGCONT")
        // Node 4 alone now answers for every key it missed.
        for index in 0..<3 { cluster.signal(index, SIGKILL) }
        let primary = cluster.client(3)
        for key in keys {
            let read = try await primary.get(key, query: [("r", "1"), ("timeout", "1000")])
            XCTAssertEqual(read.status, 200, "\(key): \(read.text)")
            XCTAssertTrue(read.text == "v-\(key)" || read.text == "strict", read.text)
        }
    }
}
