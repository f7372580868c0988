import Foundation
import XCTest

/// Merkle anti-entropy with real processes: replicas that missed writes or deletes, or
/// lost their data, end up matching their peers without any client reading the keys.
final class AntiEntropyTests: XCTestCase {
    private var cluster: ClusterHarness!

    override func setUp() async throws {
        // One exchange every 100 ms per node, so a full pass over the ring takes seconds.
        cluster = try await ClusterHarness(nodes: 3, extraArguments: ["--anti-entropy-interval", "100"])
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

    private func keysRepaired() async throws -> Int {
        var total = 0
        for index in 0..<3 {
            total += (try await status(index)["anti_entropy"] as? [String: Any])?["keys_repaired"] as? Int ?? 0
        }
        return total
    }

    private func bytesShipped() async throws -> Int {
        var total = 0
        for index in 0..<3 {
            total += (try await status(index)["anti_entropy"] as? [String: Any])?["bytes_shipped"] as? Int ?? 0
        }
        return total
    }

    private func write(_ keys: [String], through index: Int, w: Int) async throws {
        let client = cluster.client(index)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask {
                    let response = try await client.put(key, "v-\(key)", query: [("w", String(w)), ("timeout", "3000")])
                    guard response.status == 204 else { throw HarnessError("\(key): \(response.status) \(response.text)") }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Kills nodes 1 and 2 and reads every key from node 3's own store.
    private func assertNodeThreeAlone(live: [String], deleted: [String] = []) async throws {
        cluster.signal(0, SIGKILL)
        cluster.signal(1, SIGKILL)
        let alone = cluster.client(2)
        for key in live {
            let read = try await alone.get(key, query: [("r", "1"), ("timeout", "1000")])
            XCTAssertEqual(read.text, "v-\(key)", key)
        }
        for key in deleted {
            let read = try await alone.get(key, query: [("r", "1"), ("timeout", "1000")])
            XCTAssertEqual(read.status, 404, "\(key) stays deleted: \(read.text)")
        }
    }

    func testANodeRestartedEmptyIsRefilledToMatchItsPeers() async throws {
        let keys = (0..<80).map { "refill-\($0)" }
        try await write(keys, through: 0, w: 3)
        cluster.signal(2, SIGKILL)
        try FileManager.default.removeItem(atPath: cluster.nodes[2].directory)
        try await cluster.restart(2)
        let restarted = Date()
        try await eventually("node 3 holds every key again", seconds: 60) {
            try await self.storedKeys(2) == keys.count
        }
        print("recovery: an emptied node refilled with \(keys.count) keys in \(String(format: "%.1f", Date().timeIntervalSince(restarted))) s, \(try await keysRepaired()) keys repaired, \(try await bytesShipped()) LZ4 bytes shipped")
        try await assertNodeThreeAlone(live: keys)
    }

    func testDeletesMadeWhileAReplicaWasDownStayDeletedEverywhere() async throws {
        let keys = (0..<40).map { "gone-\($0)" }
        try await write(keys, through: 0, w: 3)
        cluster.signal(2, SIGKILL)
        let deleted = Array(keys.prefix(20))
        for key in deleted {
            let response = try await cluster.client(1).delete(key, query: [("w", "2"), ("timeout", "2000")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        try await cluster.restart(2)
        let restarted = Date()
        // Node 3 still holds the values; anti-entropy must bring it the tombstones.
        try await eventually("the tombstones reach node 3", seconds: 60) {
            try await self.keysRepaired() >= deleted.count
        }
        print("recovery: \(deleted.count) deletes reached a restarted replica in \(String(format: "%.1f", Date().timeIntervalSince(restarted))) s")
        try await assertNodeThreeAlone(live: Array(keys.dropFirst(20)), deleted: deleted)
    }

    func testEveryWriteAcknowledgedWhileANodeWasKilledReachesItAfterRestart() async throws {
        let keys = (0..<200).map { "during-\($0)" }
        let writer = cluster.client(0)
        let harness: ClusterHarness = cluster
        let acknowledged = try await withThrowingTaskGroup(of: String?.self) { group in
            for (index, key) in keys.enumerated() {
                group.addTask {
                    if index == 50 { harness.signal(2, SIGKILL) }
                    let response = try await writer.put(key, "v-\(key)", query: [("w", "2"), ("timeout", "3000")])
                    return response.status == 204 ? key : nil
                }
            }
            var done: [String] = []
            for try await key in group { if let key { done.append(key) } }
            return done
        }
        XCTAssertEqual(acknowledged.count, keys.count, "w=2 holds with one of three nodes down")
        try await cluster.restart(2)
        let restarted = Date()
        try await eventually("node 3 holds every acknowledged write", seconds: 60) {
            try await self.storedKeys(2) == acknowledged.count
        }
        print("recovery: \(acknowledged.count) writes reached a restarted replica in \(String(format: "%.1f", Date().timeIntervalSince(restarted))) s")
        for key in acknowledged {
            let read = try await cluster.client(1).get(key, query: [("r", "3")])
            XCTAssertEqual(read.text, "v-\(key)")
        }
        try await assertNodeThreeAlone(live: acknowledged)
    }
}
