import Foundation
import QuorumCore
import XCTest

/// Tombstones with real processes: once every replica holds a delete's tombstone and the
/// grace period has passed, the tombstone is removed from every replica; while a replica
/// can't confirm it holds the tombstone, it stays. Deleted keys stay deleted either way.
final class TombstonePurgeTests: XCTestCase {
    private var cluster: ClusterHarness!

    override func setUp() async throws {
        // A one-second grace instead of a day, and frequent passes, so the test is short.
        cluster = try await ClusterHarness(
            nodes: 3, extraArguments: ["--tombstone-grace", "1000", "--anti-entropy-interval", "100"])
    }

    override func tearDown() async throws {
        cluster?.shutdown()
    }

    private func status(_ index: Int) async throws -> [String: Any] {
        try await cluster.client(index).request("GET", "/status").json
    }

    private func storedKeys(_ index: Int) async throws -> Int {
        (try await status(index)["storage"] as? [String: Any])?["keys"] as? Int ?? -1
    }

    /// The sum of an anti-entropy counter over `nodes` (all by default; leave out a stopped one).
    private func antiEntropyCounter(_ name: String, nodes: [Int] = [0, 1, 2]) async throws -> Int {
        var total = 0
        for index in nodes {
            total += (try await status(index)["anti_entropy"] as? [String: Any])?[name] as? Int ?? 0
        }
        return total
    }

    private func writeThenDelete(_ keys: [String], deleting deleted: [String], w: Int) async throws {
        for key in keys {
            let response = try await cluster.client(0).put(key, "v-\(key)", query: [("w", "3")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        for key in deleted {
            let response = try await cluster.client(1).delete(key, query: [("w", String(w)), ("timeout", "2000")])
            XCTAssertEqual(response.status, 204, response.text)
        }
    }

    func testTombstonesEveryReplicaHoldsArePurgedEverywhereAfterTheGrace() async throws {
        let keys = (0..<40).map { "purge-\($0)" }
        let deleted = Array(keys.prefix(20))
        try await writeThenDelete(keys, deleting: deleted, w: 3)
        let heldAfterDeletes = try await storedKeys(0)
        XCTAssertEqual(heldAfterDeletes, keys.count, "right after the deletes every replica holds the tombstones")

        try await eventually("every replica holds only the live keys", seconds: 60) {
            for index in 0..<3 where try await self.storedKeys(index) != keys.count - deleted.count { return false }
            return true
        }
        let purged = try await antiEntropyCounter("tombstones_purged")
        XCTAssertEqual(purged, deleted.count, "each tombstone purged once")
        for key in deleted {
            let response = try await cluster.client(2).get(key, query: [("r", "3")])
            XCTAssertEqual(response.status, 404, "\(key) stays deleted after its tombstone is gone: \(response.text)")
        }
        for key in keys.dropFirst(deleted.count) {
            let response = try await cluster.client(2).get(key, query: [("r", "3")])
            XCTAssertEqual(response.text, "v-\(key)", "live keys are untouched")
        }
    }

    func testATombstoneAReplicaCannotConfirmIsKept() async throws {
        let keys = (0..<20).map { "kept-\($0)" }
        // Node 3 is stopped before the deletes: it never sees them, so no tombstone may go.
        cluster.signal(2, SIGSTOP)
        var thawed = false
        defer { if !thawed { cluster.signal(2, SIGCONT) } }
        for key in keys {
            let response = try await cluster.client(0).put(key, "v-\(key)", query: [("w", "2"), ("timeout", "2000")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        for key in keys {
            let response = try await cluster.client(1).delete(key, query: [("w", "2"), ("timeout", "2000")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        // Nodes 1 and 2 check the keys whose partitions they own; each such check is deferred.
        let ring = Ring(members: ["node1", "node2", "node3"])
        let checked = keys.filter { ring.preferenceList(bucket: "default", key: Array($0.utf8), n: 3).first != "node3" }
        XCTAssertGreaterThan(checked.count, 0)
        try await eventually("purge checks past the grace are deferred", seconds: 60) {
            try await self.antiEntropyCounter("tombstones_deferred", nodes: [0, 1]) >= checked.count
        }
        let purgedMeanwhile = try await antiEntropyCounter("tombstones_purged", nodes: [0, 1])
        XCTAssertEqual(purgedMeanwhile, 0)
        let heldMeanwhile = try await storedKeys(0)
        XCTAssertEqual(heldMeanwhile, keys.count, "the tombstones stay while node 3 can't confirm")

        // Back again: anti-entropy gives node 3 the tombstones, then they are purged everywhere.
        cluster.signal(2, SIGCONT)
        thawed = true
        try await eventually("the tombstones are purged once node 3 holds them", seconds: 60) {
            for index in 0..<3 where try await self.storedKeys(index) != 0 { return false }
            return true
        }
        for key in keys {
            let response = try await cluster.client(2).get(key, query: [("r", "3")])
            XCTAssertEqual(response.status, 404, "\(key) did not come back: \(response.text)")
        }
    }
}
