import Foundation
import QuorumCore
import XCTest

/// Growing and shrinking a running cluster with real processes: a node that joins copies
/// its partitions before it serves, a node that leaves hands its partitions off before it
/// exits, and no acknowledged write is lost either way while a writer keeps going.
final class MembershipChangeTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() async throws {
        cluster?.shutdown()
    }

    /// What the background client saw: writes acknowledged, and reads that failed.
    fileprivate struct Traffic: Sendable {
        var acknowledged: [String] = []
        var failedReads: [String] = []
    }

    /// Until `stop` is set: writes unique keys through `client` at n=3 w=2, and after each
    /// acknowledged write reads back an earlier one at r=2. A read may find an older
    /// version while a partition moves, but it must be answered.
    fileprivate static func trafficUntilStopped(_ client: TestClient, prefix: String, stop: ManagedFlag) async -> Traffic {
        var traffic = Traffic()
        var index = 0
        while !stop.isSet, index < 5000 {
            let key = "\(prefix)-\(index)"
            index += 1
            guard let response = try? await client.put(key, "v-\(key)", query: [("w", "2"), ("timeout", "3000")]),
                response.status == 204
            else { continue }
            traffic.acknowledged.append(key)
            let earlier = traffic.acknowledged[traffic.acknowledged.count / 2]
            let read = try? await client.get(earlier, query: [("r", "2"), ("timeout", "3000")])
            if read?.status != 200 && read?.status != 404 { traffic.failedReads.append("\(earlier): \(read?.status ?? 0)") }
        }
        return traffic
    }

    /// Writes each key at w=3 through node 1; returns the keys.
    private func writeAll(_ keys: [String]) async throws -> [String] {
        for key in keys {
            let response = try await cluster!.client(0).put(key, "v-\(key)", query: [("w", "3")])
            XCTAssertEqual(response.status, 204, response.text)
        }
        return keys
    }

    private func memberStatus(_ node: String, seenBy index: Int) async throws -> String? {
        let status = try await cluster!.client(index).request("GET", "/status")
        let members = status.json["members"] as? [[String: Any]] ?? []
        return members.first { $0["node"] as? String == node }?["status"] as? String
    }

    private func storedKeys(_ index: Int) async throws -> Int {
        let status = try await cluster!.client(index).request("GET", "/status")
        return (status.json["storage"] as? [String: Any])?["keys"] as? Int ?? -1
    }

    private func assertReadable(_ keys: [String], through index: Int, file: StaticString = #filePath, line: UInt = #line) async throws {
        let client = cluster!.client(index)
        var missing: [String] = []
        for key in keys {
            let response = try await client.get(key, query: [("r", "3"), ("timeout", "5000")])
            if response.status != 200 || response.text != "v-\(key)" { missing.append("\(key): \(response.status) \(response.text)") }
        }
        XCTAssertEqual(missing, [], "acknowledged writes must be readable at r=3", file: file, line: line)
    }

    func testANodeJoiningUnderLoadCopiesItsPartitionsBeforeServing() async throws {
        // Frequent ticks, so the old members clear the copies the join left them within the test's bound.
        let cluster = try await ClusterHarness(nodes: 3, extraArguments: ["--anti-entropy-interval", "200"])
        self.cluster = cluster
        let before = try await writeAll((0..<300).map { "before-\($0)" })

        let stop = ManagedFlag()
        let writer = BackgroundWriter(client: cluster.client(1), prefix: "during", stop: stop)
        let joined = try await cluster.addNode(joiningThrough: 0)
        let joinedID = cluster.nodes[joined].id
        try await eventually("\(joinedID) is up as node1 sees it", seconds: 120) {
            try await self.memberStatus(joinedID, seenBy: 0) == "up"
        }
        stop.set()
        let traffic = await writer.value
        let during = traffic.acknowledged
        XCTAssertGreaterThan(during.count, 0, "the writer kept succeeding during the join")
        XCTAssertEqual(traffic.failedReads, [], "reads were answered during the join")

        // Everything written before the join is on the joiner for each partition it now
        // replicates: it copied them before it switched to serving.
        let ring = Ring(members: cluster.nodes.map(\.id))
        let owned = before.filter { ring.preferenceList(bucket: "default", key: Array($0.utf8), n: 3).contains(joinedID) }
        XCTAssertGreaterThan(owned.count, 0)
        let held = try await storedKeys(joined)
        XCTAssertGreaterThanOrEqual(held, owned.count, "the joiner holds every key it replicates from before the join")

        try await assertReadable(before + during, through: joined)
        for index in 0..<3 {
            try await eventually("node\(index + 1) sees the joiner up", seconds: 10) {
                try await self.memberStatus(joinedID, seenBy: index) == "up"
            }
        }

        // The old members drop the copies of partitions that moved to the joiner, so each
        // holds exactly the keys it replicates, and every key is still readable from all.
        for index in 0..<3 {
            let node = cluster.nodes[index].id
            let replicated = (before + during).filter {
                ring.preferenceList(bucket: "default", key: Array($0.utf8), n: 3).contains(node)
            }.count
            try await eventually("\(node) holds only the \(replicated) keys it replicates", seconds: 120) {
                try await self.storedKeys(index) == replicated
            }
        }
        var removed = 0
        for index in 0..<3 {
            let status = try await cluster.client(index).request("GET", "/status")
            removed += (status.json["anti_entropy"] as? [String: Any])?["stray_copies_removed"] as? Int ?? 0
        }
        XCTAssertGreaterThan(removed, 0, "the old members reported the copies they removed")
        try await assertReadable(before + during, through: 0)
    }

    func testALeavingNodeHandsItsPartitionsOffAndExits() async throws {
        // Frequent exchanges, so writes that landed on the leaver during its last copies
        // reach their new replicas within the test's bound.
        let cluster = try await ClusterHarness(nodes: 4, extraArguments: ["--anti-entropy-interval", "100"])
        self.cluster = cluster
        let before = try await writeAll((0..<300).map { "kept-\($0)" })

        let stop = ManagedFlag()
        let writer = BackgroundWriter(client: cluster.client(1), prefix: "while-leaving", stop: stop)
        let leave = try await CLIRunner().run(
            ["cluster", "leave", "--node", cluster.endpoint(3), "--timeout", "120"], seconds: 150)
        XCTAssertEqual(leave.status, 0, leave.description)
        XCTAssertTrue(leave.text.contains("node4 has left the cluster"), leave.description)
        let exitCode = try await cluster.waitForExit(3, seconds: 30)
        XCTAssertEqual(exitCode, 0, "a node that left exits cleanly:\n\(cluster.log(3))")
        stop.set()
        let traffic = await writer.value
        let during = traffic.acknowledged
        XCTAssertGreaterThan(during.count, 0, "the writer kept succeeding during the leave")
        XCTAssertEqual(traffic.failedReads, [], "reads were answered during the leave")

        try await eventually("node1 sees node4 as left", seconds: 10) { try await self.memberStatus("node4", seenBy: 0) == "left" }
        try await assertReadable(before + during, through: 0)
        // Three nodes remain at n=3: each holds every key written before the leave.
        for index in 0..<3 {
            try await eventually("node\(index + 1) holds every key", seconds: 30) {
                try await self.storedKeys(index) >= before.count + during.count
            }
        }
    }
}

/// Client traffic running beside the test until its flag is set.
private struct BackgroundWriter {
    let task: Task<MembershipChangeTests.Traffic, Never>

    init(client: TestClient, prefix: String, stop: ManagedFlag) {
        task = Task.detached { await MembershipChangeTests.trafficUntilStopped(client, prefix: prefix, stop: stop) }
    }

    var value: MembershipChangeTests.Traffic { get async { await task.value } }
}

/// A flag one task sets and another polls.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
