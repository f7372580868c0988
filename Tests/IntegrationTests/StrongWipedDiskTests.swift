import Foundation
import XCTest

/// A replica of a strong bucket whose disk is wiped, on real processes (issue #17,
/// docs/architecture.md "A wiped disk"): a value chosen by a bare majority that included it
/// must survive its restart on an empty data directory, however the next prepare's
/// majority falls.
final class StrongWipedDiskTests: ClusterTestCase {
    private let bucket = "locks"

    /// Every bound of this test, in one place.
    private enum Bounds {
        /// Catch-up of a new cluster, or of the wiped node once every member is up: a few
        /// gossip rounds.
        static let catchUpSeconds = 30.0
        /// A strong request while nodes restart (each attempt carries its own timeout).
        static let requestSeconds = 30.0
        static let requestTimeoutMilliseconds = "3000"
    }

    private func consensus(_ node: Int) async throws -> String? {
        try await cluster.client(node).request("GET", "/status", timeoutMilliseconds: 2000).json["consensus"] as? String
    }

    private func put(_ value: String, through node: Int) async throws -> Int {
        let response = try await cluster.client(node).put(
            "k", value, bucket: bucket, query: [("timeout", Bounds.requestTimeoutMilliseconds)])
        return response.status
    }

    private func get(through node: Int) async throws -> (status: Int, value: String) {
        let response = try await cluster.client(node).get("k", bucket: bucket, query: [("timeout", Bounds.requestTimeoutMilliseconds)])
        return (response.status, response.text)
    }

    func testAWipedReplicaNeverHidesAValueChosenWithItsLostVote() async throws {
        let created = try await cluster.client(0).setProps(bucket, #"{"consistency":"strong"}"#)
        XCTAssertEqual(created.status, 200, created.text)
        try await eventually("every node's store caught up and votes", seconds: Bounds.catchUpSeconds) {
            for node in 0..<3 where try await self.consensus(node) != "voting" { return false }
            return true
        }
        try await eventually("v1 written by all three", seconds: Bounds.requestSeconds) { try await self.put("v1", through: 0) == 204 }

        // v2 is chosen by node1 and node3 alone; node2 keeps v1.
        cluster.signal(1, SIGKILL)
        try await eventually("v2 written by node1 and node3", seconds: Bounds.requestSeconds) { try await self.put("v2", through: 0) == 204 }

        // node3 loses its disk and starts empty under the same identity. It catches up only
        // once every member answers, so not while node2 is down.
        cluster.signal(2, SIGKILL)
        try FileManager.default.removeItem(atPath: cluster.nodes[2].directory)
        try await cluster.restart(2)
        let waiting = try await consensus(2)
        XCTAssertEqual(waiting, "catching_up", "node2 is down, so node3 cannot have caught up")
        try await cluster.restart(1)
        try await eventually("node3 caught up and relearns (the others hold strong values)", seconds: Bounds.catchUpSeconds) {
            try await self.consensus(2) == "relearning"
        }
        let shown = try await CLIRunner().run(["cluster", "status", "--endpoint", cluster.endpoint(2)])
        XCTAssertTrue(shown.text.contains("strong consensus: relearning"), shown.description)

        // The majority node2 + node3: node2 holds v1 at best, node3 nothing of its own. Were
        // node3 to promise for k, the read would answer v1, an older value than one already
        // read back; it does not know k again, so the read is refused instead.
        cluster.signal(0, SIGKILL)
        let hidden = try await get(through: 1)
        XCTAssertEqual(hidden.status, 503, "node3 must not promise for a key it lost: \(hidden)")

        // With node1 back, a majority of the others answers, and the read teaches node3.
        try await cluster.restart(0)
        try await eventually("v2 read through node2 with node1 back", seconds: Bounds.requestSeconds) {
            let read = try await self.get(through: 1)
            XCTAssertTrue(read.status != 200 || read.value == "v2", "a stale read: \(read)")
            return read.status == 200
        }
        cluster.signal(0, SIGKILL)
        try await eventually("node3, taught by the read, answers for k with node2", seconds: Bounds.requestSeconds) {
            let read = try await self.get(through: 1)
            XCTAssertTrue(read.status != 200 || read.value == "v2", "a stale read: \(read)")
            return read.status == 200
        }
        try await eventually("v3 written by node2 and node3", seconds: Bounds.requestSeconds) { try await self.put("v3", through: 1) == 204 }
        let last = try await get(through: 2)
        XCTAssertEqual(last.status, 200)
        XCTAssertEqual(last.value, "v3")
    }
}
