import Foundation
import XCTest

/// Nodes crash, freeze and come back: quorums fail with clear errors, data survives.
final class FailureTests: ClusterTestCase {
    func testWithTwoOfThreeNodesDownW2FailsWithTheQuorumErrorAndW1Succeeds() async throws {
        let client = cluster.client(0)
        let before = try await client.put("k", "before", query: [("w", "3")])
        XCTAssertEqual(before.status, 204)
        cluster.signal(1, SIGKILL)
        cluster.signal(2, SIGKILL)

        let strict = try await client.put("k", "strict", query: [("w", "2"), ("timeout", "1000")])
        XCTAssertEqual(strict.status, 503, strict.text)
        XCTAssertEqual(strict.json["error"] as? String, "quorum_not_met")
        XCTAssertEqual(strict.json["needed"] as? Int, 2)
        // The write fails as soon as two refusals make w=2 impossible, perhaps before the
        // local replica's ack is in, so the count is what had acked by then.
        let acked = try XCTUnwrap(strict.json["acked"] as? Int)
        XCTAssertLessThan(acked, 2)
        XCTAssertTrue((strict.json["message"] as? String ?? "").contains("needed 2 replica acks but \(acked) acked"), strict.text)

        let relaxed = try await client.put("k", "relaxed", query: [("w", "1"), ("timeout", "1000")])
        XCTAssertEqual(relaxed.status, 204, relaxed.text)
        let read = try await client.get("k", query: [("r", "1"), ("timeout", "1000")])
        XCTAssertEqual(read.text, "relaxed")
        let strictRead = try await client.get("k", query: [("r", "2"), ("timeout", "1000")])
        XCTAssertEqual(strictRead.status, 503)
        XCTAssertEqual(strictRead.json["error"] as? String, "quorum_not_met")
        XCTAssertLessThan(try XCTUnwrap(strictRead.json["replied"] as? Int), 2)
    }

    func testFrozenReplicasMakeTheRequestTimeOutWithinItsBound() async throws {
        cluster.signal(1, SIGSTOP)
        cluster.signal(2, SIGSTOP)
        defer {
            cluster.signal(1, SIGCONT)
            cluster.signal(2, SIGCONT)
        }
        let started = Date()
        let response = try await cluster.client(0).put("frozen", "v", query: [("w", "2"), ("timeout", "700")])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(response.status, 503, response.text)
        XCTAssertEqual(response.json["acked"] as? Int, 1)
        // Each silent replica gets half the timeout before its slot would move to a
        // stand-in; with three nodes there is none, so the write fails then.
        XCTAssertGreaterThanOrEqual(elapsed, 0.3)
        XCTAssertLessThan(elapsed, 5, "the timeout bounds the wait")
    }

    func testANodeKilledRightAfterAcknowledgedWritesHasEveryOneAfterRestart() async throws {
        let keys = (0..<200).map { "durable-\($0)" }
        let writers = [cluster.client(0), cluster.client(1)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, key) in keys.enumerated() {
                group.addTask {
                    let response = try await writers[index % 2].put(key, "value-\(key)", query: [("w", "3")])
                    guard response.status == 204 else { throw HarnessError("write \(key) failed: \(response.text)") }
                }
            }
            try await group.waitForAll()
        }
        // Every write above was acknowledged by all three replicas, node 3 included.
        cluster.signal(2, SIGKILL)
        try await cluster.restart(2)
        // Only node 3 is left, so every answer below comes from its SQLite file.
        cluster.signal(0, SIGKILL)
        cluster.signal(1, SIGKILL)
        let survivor = cluster.client(2)
        for key in keys {
            let read = try await survivor.get(key, query: [("r", "1"), ("timeout", "1000")])
            XCTAssertEqual(read.status, 200, "\(key): \(read.text)")
            XCTAssertEqual(read.text, "value-\(key)")
        }
    }

    func testReadRepairBringsAReplicaThatMissedAWriteUpToDate() async throws {
        cluster.signal(2, SIGKILL)
        let missed = try await cluster.client(0).put("repaired", "newest", query: [("w", "2"), ("timeout", "1000")])
        XCTAssertEqual(missed.status, 204, missed.text)
        try await cluster.restart(2)
        // Node 3 never got the write. A read that reaches all three replicas repairs it
        // after answering; the answer itself needs only two.
        let read = try await cluster.client(0).get("repaired", query: [("r", "2")])
        XCTAssertEqual(read.text, "newest")
        // The repair goes out after the answer: wait until node 3 stores the key.
        try await eventually("node 3 stores the repaired key") {
            let status = try await self.cluster.client(2).request("GET", "/status")
            return (status.json["storage"] as? [String: Any])?["keys"] as? Int == 1
        }
        let coordinator = try await cluster.client(0).request("GET", "/status")
        XCTAssertEqual((coordinator.json["repair"] as? [String: Any])?["read_repair_replicas"] as? Int, 1)
        cluster.signal(0, SIGKILL)
        cluster.signal(1, SIGKILL)
        let alone = try await cluster.client(2).get("repaired", query: [("r", "1"), ("timeout", "1000")])
        XCTAssertEqual(alone.status, 200, alone.text)
        XCTAssertEqual(alone.text, "newest")
    }

    private func seesReachable(_ observer: Int, _ node: String) async throws -> Bool? {
        let status = try await cluster.client(observer).request("GET", "/status")
        let members = status.json["members"] as? [[String: Any]] ?? []
        return members.first { $0["node"] as? String == node }?["reachable"] as? Bool
    }

    func testAKilledNodeIsSeenDownWithinFiveSecondsAndUpAgainAfterRestart() async throws {
        try await eventually("every node sees node 3 up", seconds: 10) {
            let one = try await self.seesReachable(0, "node3")
            let two = try await self.seesReachable(1, "node3")
            return one == true && two == true
        }
        cluster.signal(2, SIGKILL)
        let killed = Date()
        try await eventually("nodes 1 and 2 see node 3 down", seconds: 5) {
            let one = try await self.seesReachable(0, "node3")
            let two = try await self.seesReachable(1, "node3")
            return one == false && two == false
        }
        let detected = Date().timeIntervalSince(killed)
        XCTAssertLessThan(detected, 5)
        print("recovery: a killed node was seen down by both peers \(String(format: "%.2f", detected)) s after SIGKILL")
        try await cluster.restart(2)
        try await eventually("node 3 is seen up again", seconds: 5) {
            try await self.seesReachable(0, "node3") == true
        }
    }

    func testBucketPropsReachANodeThatWasDownWhenTheyChanged() async throws {
        cluster.signal(2, SIGKILL)
        let set = try await cluster.client(0).setProps("late", #"{"conflict": "vclock", "n": 3}"#)
        XCTAssertEqual(set.status, 200, set.text)
        try await cluster.restart(2)
        try await eventually("the restarted node learns the props", seconds: 20) {
            try await self.cluster.client(2).request("GET", "/buckets/late/props").json["conflict"] as? String == "vclock"
        }
    }
}
