import Foundation
import QuorumCore
import XCTest

/// Truncation (`FLUSHDB`, `POST /buckets/{bucket}/truncate`) with real processes: what was
/// written before it never reads back from any node at any r, not through the hints a
/// frozen replica's stand-ins held, not through read repair or anti-entropy, not after a
/// restart; it is purged later; and it refuses to answer while a member can't adopt it.
final class TruncationTests: XCTestCase {
    private var cluster: ClusterHarness!

    override func setUp() async throws {
        // Four nodes with n=3, so a frozen node's writes become hints on a stand-in; a short
        // tombstone grace and frequent passes, so the purge shows within the test.
        cluster = try await ClusterHarness(
            nodes: 4, extraArguments: ["--tombstone-grace", "1000", "--anti-entropy-interval", "100"])
    }

    override func tearDown() async throws {
        cluster?.shutdown()
    }

    private func status(_ index: Int) async throws -> [String: Any] {
        try await cluster.client(index).request("GET", "/status").json
    }

    /// Hints held by `nodes` (all by default; leave out a stopped one).
    private func pendingHints(nodes: [Int] = [0, 1, 2, 3]) async throws -> Int {
        var pending = 0
        for index in nodes {
            pending += (try await status(index)["hints"] as? [String: Any])?["pending"] as? Int ?? 0
        }
        return pending
    }

    private func storedKeys(_ index: Int) async throws -> Int {
        (try await status(index)["storage"] as? [String: Any])?["keys"] as? Int ?? -1
    }

    func testTruncatedKeysNeverReadBackFromAnyNodeAtAnyR() async throws {
        let ring = Ring(members: cluster.nodes.map(\.id))
        let hinted = (0..<300).map { "old-\($0)" }.filter {
            ring.preferenceList(bucket: "default", key: Array($0.utf8), n: 3).contains("node4")
        }.prefix(10)
        let plain = (0..<10).map { "plain-\($0)" }
        let kept = (0..<5).map { "kept-\($0)" }
        for key in plain {
            let response = try await cluster.client(0).put(key, "v-\(key)", query: [("w", "3")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        for key in kept {
            let response = try await cluster.client(0).put(key, "v-\(key)", bucket: "other", query: [("w", "3")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        // Node 4 is frozen while these are written: its copies wait as hints on stand-ins.
        cluster.signal(3, SIGSTOP)
        var thawed = false
        defer { if !thawed { cluster.signal(3, SIGCONT) } }
        for key in hinted {
            let response = try await cluster.client(1).put(key, "v-\(key)", query: [("w", "3"), ("timeout", "3000")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        let held = try await pendingHints(nodes: [0, 1, 2])
        XCTAssertGreaterThanOrEqual(held, hinted.count, "the frozen node's copies are hints")

        // Truncate as soon as node 4 runs again, before its hints are delivered.
        cluster.signal(3, SIGCONT)
        thawed = true
        try await eventually("every member adopts the truncation", seconds: 30) {
            let response = try await self.cluster.client(2).request("POST", "/buckets/default/truncate")
            return response.status == 200 && response.json["members"] as? Int == 4
        }
        try await eventually("every hint is delivered", seconds: 30) { try await self.pendingHints() == 0 }

        let fresh = try await cluster.client(3).put("after", "new", query: [("w", "3")])
        XCTAssertEqual(fresh.status, 204, fresh.text)
        for node in 0..<4 {
            for r in ["1", "3"] {
                for key in Array(hinted) + plain {
                    let read = try await cluster.client(node).get(key, query: [("r", r)])
                    XCTAssertEqual(read.status, 404, "node \(node + 1), r=\(r): \(key) came back: \(read.text)")
                }
                let after = try await cluster.client(node).get("after", query: [("r", r)])
                XCTAssertEqual(after.text, "new")
                for key in kept {
                    let read = try await cluster.client(node).get(key, bucket: "other", query: [("r", r)])
                    XCTAssertEqual(read.text, "v-\(key)", "another bucket is untouched")
                }
            }
        }

        // The old versions are purged in the background: each node keeps the rows it
        // replicates of `after` and of the other bucket, and nothing else.
        try await eventually("the truncated rows are purged", seconds: 60) {
            var total = 0
            for index in 0..<4 { total += try await self.storedKeys(index) }
            return total == 3 * (1 + kept.count)
        }

        // A restarted node still hides them: the point is durable.
        try await cluster.restart(0)
        try await cluster.waitUntilConnected()
        for key in plain {
            let read = try await cluster.client(0).get(key, query: [("r", "3")])
            XCTAssertEqual(read.status, 404, key)
        }
    }

    func testTruncationNeedsEveryMemberAndSaysWhichIsMissing() async throws {
        let port = cluster.respPort(0)
        guard (try? RESPTools.tool("redis-cli")) != nil else {
            throw XCTSkip("redis-cli is not installed; run scripts/setup-test-tools.sh")
        }
        let set = try await RESPTools.redisCLI(port: port, ["SET", "flushed", "v"])
        XCTAssertEqual(set.output.trimmingCharacters(in: .whitespacesAndNewlines), "OK", set.errors)

        cluster.signal(2, SIGSTOP)
        var thawed = false
        defer { if !thawed { cluster.signal(2, SIGCONT) } }
        let refused = try await cluster.client(0).request("POST", "/buckets/default/truncate", timeoutMilliseconds: 30_000)
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertEqual(refused.json["error"] as? String, "unavailable")
        XCTAssertTrue(refused.text.contains("node3"), refused.text)
        let flush = try await RESPTools.redisCLI(port: port, ["FLUSHDB"])
        XCTAssertTrue(flush.output.contains("UNAVAILABLE") && flush.output.contains("node3"), flush.output)

        cluster.signal(2, SIGCONT)
        thawed = true
        try await eventually("FLUSHDB succeeds once every member answers", seconds: 30) {
            try await RESPTools.redisCLI(port: port, ["FLUSHDB"]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "OK"
        }
        let read = try await RESPTools.redisCLI(port: cluster.respPort(3), ["GET", "flushed"])
        XCTAssertEqual(read.output.trimmingCharacters(in: .whitespacesAndNewlines), "", "the key is gone: \(read.output)")
        let again = try await RESPTools.redisCLI(port: port, ["SET", "flushed", "again"])
        XCTAssertEqual(again.output.trimmingCharacters(in: .whitespacesAndNewlines), "OK")
        let reread = try await RESPTools.redisCLI(port: cluster.respPort(1), ["GET", "flushed"])
        XCTAssertEqual(reread.output.trimmingCharacters(in: .whitespacesAndNewlines), "again")
    }
}
