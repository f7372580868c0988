import Foundation
import XCTest

/// Merkle anti-entropy with real processes: replicas that missed writes or deletes, or
/// lost their data, end up with the same Merkle root per partition as their peers
/// without any client reading the keys (so read repair plays no part).
///
/// Each test prints its recovery figures (time to converge, keys repaired, hashes and
/// repair bytes moved, as /status reports them) for docs/benchmarks.md.
final class AntiEntropyTests: XCTestCase {
    private var cluster: ClusterHarness!
    /// How long the cluster may take to agree after the restart.
    private let convergeSeconds = 30.0

    override func setUp() async throws {
        // One exchange every 100 ms per node: a full pass over 64 partitions × 2 peers
        // (about 43 pairs per node) takes about 4 s.
        cluster = try await ClusterHarness(nodes: 3, extraArguments: ["--anti-entropy-interval", "100"])
    }

    override func tearDown() async throws {
        cluster?.shutdown()
    }

    private func antiEntropy(_ index: Int) async throws -> [String: Any] {
        try await cluster.client(index).request("GET", "/status").json["anti_entropy"] as? [String: Any] ?? [:]
    }

    private func storedKeys(_ index: Int) async throws -> Int {
        (try await cluster.client(index).request("GET", "/status").json["storage"] as? [String: Any])?["keys"] as? Int ?? -1
    }

    /// Every node reports a root for all 64 partitions (3 nodes, n = 3: each holds them
    /// all) and the same root as the others for each.
    private func rootsAgree() async throws -> Bool {
        var views: [[String: String]] = []
        for index in 0..<3 {
            views.append(try await antiEntropy(index)["roots"] as? [String: String] ?? [:])
        }
        return views[0].count == 64 && views.allSatisfy { $0 == views[0] }
    }

    private func figures() async throws -> String {
        var repaired = 0, hashes = 0, bytes = 0, exchanges = 0
        for index in 0..<3 {
            let status = try await antiEntropy(index)
            repaired += status["keys_repaired"] as? Int ?? 0
            hashes += status["hashes_moved"] as? Int ?? 0
            bytes += status["bytes_shipped"] as? Int ?? 0
            exchanges += status["partitions_exchanged"] as? Int ?? 0
        }
        return "\(repaired) keys repaired, \(hashes) hashes moved, \(bytes) LZ4 bytes shipped, \(exchanges) exchanges"
    }

    private func waitForAgreement(_ what: String, since restarted: Date) async throws {
        try await eventually("every node reports the same Merkle root for every partition", seconds: convergeSeconds) {
            try await self.rootsAgree()
        }
        let seconds = Date().timeIntervalSince(restarted)
        print("anti-entropy recovery (\(what)): converged in \(String(format: "%.1f", seconds)) s; \(try await figures())")
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

    /// Kills nodes 1 and 2 and reads every key from node 3's own store (r = 1).
    private func assertNodeThreeAlone(live: [String], deleted: [String] = []) async throws {
        cluster.signal(0, SIGKILL)
        cluster.signal(1, SIGKILL)
        let alone = cluster.client(2)
        for key in live {
            let read = try await alone.get(key, query: [("r", "1"), ("timeout", "1000")])
            XCTAssertEqual(read.status, 200, key)
            XCTAssertEqual(read.text, "v-\(key)", key)
        }
        for key in deleted {
            let read = try await alone.get(key, query: [("r", "1"), ("timeout", "1000")])
            XCTAssertEqual(read.status, 404, "\(key) stays deleted: \(read.text)")
        }
    }

    func testDeletesAndWritesMadeWhileAReplicaWasDownReachItAndStayDeleted() async throws {
        let keys = (0..<60).map { "gone-\($0)" }
        try await write(keys, through: 0, w: 3)
        // SIGKILL, not SIGSTOP: a stopped node still reads the queued messages on SIGCONT.
        cluster.signal(2, SIGKILL)
        let deleted = Array(keys.prefix(30))
        for key in deleted {
            let response = try await cluster.client(1).delete(key, query: [("w", "2"), ("timeout", "2000")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        let added = (0..<30).map { "added-\($0)" }
        try await write(added, through: 1, w: 2)
        try await cluster.restart(2)
        let restarted = Date()
        try await waitForAgreement("\(deleted.count) deletes and \(added.count) writes missed by a killed replica", since: restarted)
        try await assertNodeThreeAlone(live: Array(keys.dropFirst(30)) + added, deleted: deleted)
    }

    func testANodeRestartedEmptyIsRefilledToMatchItsPeers() async throws {
        let keys = (0..<300).map { "refill-\($0)" }
        try await write(keys, through: 0, w: 3)
        cluster.signal(2, SIGKILL)
        try FileManager.default.removeItem(atPath: cluster.nodes[2].directory)
        try await cluster.restart(2)
        let restarted = Date()
        try await waitForAgreement("an emptied replica refilled with \(keys.count) keys", since: restarted)
        let counts = [try await storedKeys(0), try await storedKeys(1), try await storedKeys(2)]
        XCTAssertEqual(counts, [keys.count, keys.count, keys.count])
        try await assertNodeThreeAlone(live: keys)
    }

    func testEveryWriteAcknowledgedWhileANodeWasKilledIsReadableAtR3AfterRestart() async throws {
        let keys = (0..<300).map { "during-\($0)" }
        let writer = cluster.client(0)
        let harness: ClusterHarness = cluster
        let acknowledged = try await Task {
            var done: [String] = []
            for (index, key) in keys.enumerated() {
                if index == 60 { harness.signal(2, SIGKILL) }
                let response = try await writer.put(key, "v-\(key)", query: [("w", "2"), ("timeout", "3000")])
                if response.status == 204 { done.append(key) }
            }
            return done
        }.value
        XCTAssertEqual(acknowledged.count, keys.count, "w=2 holds with one of three nodes down")
        try await cluster.restart(2)
        let restarted = Date()
        try await waitForAgreement("\(acknowledged.count - 60) writes missed by a replica killed during a writer", since: restarted)
        for key in acknowledged {
            let read = try await cluster.client(1).get(key, query: [("r", "3"), ("timeout", "3000")])
            XCTAssertEqual(read.status, 200, key)
            XCTAssertEqual(read.text, "v-\(key)", key)
        }
        try await assertNodeThreeAlone(live: acknowledged)
    }
}
