import Foundation
import XCTest

/// Issue #14's RESP surface against a real three-node cluster, driven by redis-py as
/// applications drive it: `scripts/resp-client-check.py` runs the sync and the asyncio
/// client, each over RESP2 and RESP3 (handshake, set/get/delete, pipelines with and without
/// MULTI/EXEC, SCAN, KEYS, DBSIZE, EXISTS, TYPE, STRLEN, WAIT, refused commands), and exits
/// non-zero with what differed. Skipped, saying why, only when python3 or its `redis`
/// package is missing (`scripts/setup-test-tools.sh` installs both).
final class RESPSurfaceTests: ClusterTestCase {
    /// One database (bucket) per client and protocol, so key counts are exact.
    private static let databases = [11, 12, 13, 14]

    private static var scriptPath: String { PythonClients.script("resp-client-check.py") }

    func testRedisPyDrivesTheRESPSurface() async throws {
        let python = try await PythonClients.python(importing: "redis")
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.scriptPath), Self.scriptPath)

        try await requireWriteAll(Self.databases)
        for index in 0..<3 {
            let port = cluster.respPort(index)
            try await eventually("node \(index + 1) answers PING on its RESP port", seconds: 30) {
                let result = try await RESPTools.run(
                    python, ["-c", "import redis, sys; sys.exit(0 if redis.Redis(port=\(port), socket_timeout=5).ping() else 1)"],
                    timeoutSeconds: 30)
                return result.status == 0
            }
        }

        let ports = (0..<3).map { String(cluster.respPort($0)) }.joined(separator: ",")
        let result = try await RESPTools.run(
            python,
            [Self.scriptPath, "--ports", ports, "--databases", Self.databases.map(String.init).joined(separator: ",")],
            timeoutSeconds: 300)
        print(result.output)
        XCTAssertEqual(result.status, 0, "redis-py check failed:\n\(result.output)\n\(result.errors)")
        XCTAssertTrue(result.output.contains("resp client check: ok"), result.output + result.errors)
        for expected in ["sync RESP2", "sync RESP3", "asyncio RESP2", "asyncio RESP3"] {
            XCTAssertTrue(result.output.contains("passed: \(expected)"), "\(expected) did not run:\n\(result.output)")
        }
    }

    /// SCAN, KEYS and DBSIZE read each partition at one replica: with w=all every replica
    /// holds a key once SET answers, so what the tests list and count is exact.
    private func requireWriteAll(_ databases: [Int]) async throws {
        for database in databases {
            let props = try await cluster.client(0).setProps("db\(database)", #"{"w": "all"}"#)
            XCTAssertEqual(props.status, 200, props.text)
        }
        try await eventually("every node has w=all for the test databases", seconds: 30) {
            for index in 0..<3 {
                for database in databases {
                    let response = try await self.cluster.client(index).request("GET", "/buckets/db\(database)/props")
                    guard response.json["w"] as? String == "all" else { return false }
                }
            }
            return true
        }
    }

    /// redis-cli's own SCAN loop (`--scan`), a MULTI/EXEC typed at it, and the errors.
    func testRedisCliScanTransactionsAndRefusals() async throws {
        _ = try RESPTools.tool("redis-cli")  // a missing tool fails with how to install it, like RESPClientTests
        try await requireWriteAll([15])
        let port = cluster.respPort(0)
        try await eventually("node 1 answers PING on its RESP port", seconds: 30) {
            try await RESPTools.redisCLI(port: port, ["PING"]).output == "PONG\n"
        }
        var lines = ""
        // TIMEOUT 20000: w=all waits for every replica, which may be slow on a loaded machine.
        for index in 0..<40 { lines += "SET cli:\(index) v\(index) TIMEOUT 20000\n" }
        let written = try await RESPTools.redisCLI(port: port, [], database: 15, stdin: lines)
        XCTAssertEqual(written.output, String(repeating: "OK\n", count: 40), written.errors)

        let scanned = try await RESPTools.redisCLI(
            port: cluster.respPort(1), ["--scan", "--pattern", "cli:1*"], database: 15)
        XCTAssertEqual(
            Set(scanned.output.split(separator: "\n").map(String.init)), Set(["cli:1"] + (10..<20).map { "cli:\($0)" }),
            scanned.output + scanned.errors)
        let dbsize = try await RESPTools.redisCLI(port: cluster.respPort(2), ["DBSIZE"], database: 15)
        XCTAssertEqual(dbsize.output, "40\n")
        let keys = try await RESPTools.redisCLI(port: cluster.respPort(2), ["KEYS", "cli:3?"], database: 15)
        XCTAssertEqual(Set(keys.output.split(separator: "\n").map(String.init)), Set((30..<40).map { "cli:\($0)" }))

        let transaction = try await RESPTools.redisCLI(
            port: port, [], database: 15,
            stdin: "MULTI\nSET cli:t one TIMEOUT 20000\nGETSET cli:t two TIMEOUT 20000\nSTRLEN cli:t\nEXEC\nGET cli:t\n")
        XCTAssertEqual(transaction.output, "OK\nQUEUED\nQUEUED\nQUEUED\nOK\none\n3\ntwo\n", transaction.errors)
        let refused = try await RESPTools.redisCLI(port: port, ["RENAME", "cli:1", "cli:2"], database: 15)
        XCTAssertTrue(refused.output.hasPrefix("NOTSUPPORTED RENAME is refused by QuorumKV: "), refused.output)
        let watch = try await RESPTools.redisCLI(port: port, ["WATCH", "cli:1"], database: 15)
        XCTAssertTrue(watch.output.hasPrefix("NOTSUPPORTED WATCH is refused by QuorumKV: "), watch.output)
        let type = try await RESPTools.redisCLI(port: port, [], database: 15, stdin: "TYPE cli:1\nTYPE cli:none\nEXISTS cli:1 cli:1 cli:none\n")
        XCTAssertEqual(type.output, "string\nnone\n2\n")
    }

    /// A SCAN cursor names a partition and a key, not a node: an iteration begun before a
    /// node joins (and partitions move to it) finishes after, with every key.
    func testAScanCursorSurvivesANodeJoining() async throws {
        _ = try RESPTools.tool("redis-cli")
        try await requireWriteAll([16])
        let port = cluster.respPort(0)
        try await eventually("node 1 answers PING on its RESP port", seconds: 30) {
            try await RESPTools.redisCLI(port: port, ["PING"]).output == "PONG\n"
        }
        let keys = (0..<60).map { "join:\($0)" }
        let written = try await RESPTools.redisCLI(
            port: port, [], database: 16, stdin: keys.map { "SET \($0) v TIMEOUT 20000\n" }.joined())
        XCTAssertEqual(written.output, String(repeating: "OK\n", count: keys.count), written.errors)

        /// One SCAN page through node 1: the next cursor and the keys.
        func page(_ cursor: String) async throws -> (String, [String]) {
            let result = try await RESPTools.redisCLI(port: port, ["SCAN", cursor, "COUNT", "10"], database: 16)
            let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let next = lines.first, UInt64(next) != nil else {
                throw HarnessError("SCAN \(cursor) answered \(result.output) \(result.errors)")
            }
            return (next, lines.dropFirst().filter { !$0.isEmpty })
        }
        var (cursor, seen) = try await page("0")
        XCTAssertNotEqual(cursor, "0", "60 keys take more than one page of 10")

        let joined = try await cluster.addNode(joiningThrough: 0)
        let joinedID = cluster.nodes[joined].id
        try await eventually("\(joinedID) is up as node1 sees it", seconds: 120) {
            let status = try await self.cluster.client(0).request("GET", "/status")
            let members = status.json["members"] as? [[String: Any]] ?? []
            return members.first { $0["node"] as? String == joinedID }?["status"] as? String == "up"
        }
        var pages = 1
        while cursor != "0" {
            let (next, more) = try await page(cursor)
            seen += more
            cursor = next
            pages += 1
            guard pages < 1000 else { return XCTFail("SCAN did not finish in 1000 pages") }
        }
        XCTAssertEqual(Set(seen), Set(keys), "every key, though partitions moved during the iteration")
    }
}
