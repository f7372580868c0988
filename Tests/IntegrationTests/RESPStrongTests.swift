import Foundation
import XCTest

/// Strongly consistent buckets (issue #17) over RESP against a real three-node cluster,
/// driven by redis-cli and redis-py: reads and writes through consensus, the conditional
/// forms (`SET NX|XX|IFEQ`, `DELIFEQ`, `GETSET`, `SET … GET`) answering as Redis does,
/// and the commands that don't apply refused by name.
final class RESPStrongTests: ClusterTestCase {
    /// Bucket `db<n>`, so `redis-cli -n` and redis-py's `db=` select it.
    private static let strongDatabase = 31
    private static let eventualDatabase = 32

    /// Every bound of these tests, in one place.
    private enum Bounds {
        /// The bucket's props reach every node and a strong write succeeds on each.
        static let readySeconds = 30.0
        /// The redis-py script, from start to its report.
        static let scriptSeconds = 300.0
    }

    override func setUp() async throws {
        _ = try RESPTools.tool("redis-cli")  // a missing tool fails here with how to install it
        try await super.setUp()
        let response = try await cluster.client(0).setProps("db\(Self.strongDatabase)", #"{"consistency": "strong"}"#)
        XCTAssertEqual(response.status, 200, "creating a strong bucket: \(response.text)")
        // Ready when every node knows the bucket is strong and a strong write through it
        // succeeds (a fresh node's acceptor votes once it has caught up).
        try await eventually("every node runs strong writes in the strong bucket", seconds: Bounds.readySeconds) {
            for index in 0..<3 {
                let props = try await self.cluster.client(index).request("GET", "/buckets/db\(Self.strongDatabase)/props")
                guard props.json["consistency"] as? String == "strong" else { return false }
                let port = self.cluster.respPort(index)
                guard try await RESPTools.redisCLI(port: port, ["SET", "ready:\(index)", "x"], database: Self.strongDatabase).output == "OK\n"
                else { return false }
            }
            return true
        }
    }

    private func session(_ node: Int, database: Int = RESPStrongTests.strongDatabase, _ lines: [String]) async throws -> [String] {
        let result = try await RESPTools.redisCLI(
            port: cluster.respPort(node), [], database: database, stdin: lines.joined(separator: "\n") + "\n")
        return result.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    func testRedisCliDrivesAStrongBucket() async throws {
        // Each step on another node: a strong read sees the latest commit wherever it is asked.
        let written = try await session(0, ["SET k v1", "SET k v2 NX", "SET absent x XX", "SET k v2 XX", "GET k"])
        XCTAssertEqual(written, ["OK", "", "", "OK", "v2"], "a failed NX or XX answers nil")
        let compared = try await session(1, ["SET k v3 IFEQ nope", "SET k v3 IFEQ v2", "GETSET k v4", "SET k v5 GET", "GET k"])
        XCTAssertEqual(compared, ["", "OK", "v3", "v4", "v5"])
        let deleted = try await session(2, [
            "DELIFEQ k v4", "DELIFEQ k v5", "EXISTS k", "TYPE k", "MSET a 1 b 2", "DEL a b never", "GET absent",
        ])
        XCTAssertEqual(deleted, ["0", "1", "0", "none", "OK", "2", ""])

        // Commands that don't apply, and the conditional forms on an eventual bucket.
        // redis-cli prints an empty line after each error.
        let refused = try await session(0, ["SET k v", "EXPIRE k 10", "INCR n", "SADD s a", "SET k v EX 10"])
        XCTAssertEqual(refused.count, 9, "\(refused)")
        XCTAssertEqual(refused.first, "OK")
        for (index, line) in refused.enumerated() where index % 2 == 1 {
            XCTAssertTrue(line.hasPrefix("NOTSUPPORTED ") && line.contains("strongly consistent"), line)
        }
        let eventual = try await session(1, database: Self.eventualDatabase, ["SET k e", "SET k f IFEQ e", "DELIFEQ k e", "GET k"])
        XCTAssertEqual(eventual.count, 6, "\(eventual)")
        XCTAssertTrue(eventual[1].hasPrefix("NOTSUPPORTED ") && eventual[1].contains("needs a strongly consistent bucket"), eventual[1])
        XCTAssertTrue(eventual[3].hasPrefix("NOTSUPPORTED "), eventual[3])
        XCTAssertEqual(eventual[5], "e", "nothing written")
        // COMMAND knows DELIFEQ.
        let info = try await RESPTools.redisCLI(port: cluster.respPort(0), ["COMMAND", "INFO", "delifeq"]).output
        XCTAssertTrue(info.contains("delifeq") && info.contains("@write"), info)
    }

    func testRedisPyDrivesAStrongBucket() async throws {
        let python = try await PythonClients.python(importing: "redis")
        let ports = (0..<3).map { String(cluster.respPort($0)) }.joined(separator: ",")
        let result = try await RESPTools.run(
            python,
            [
                PythonClients.script("resp-strong-check.py"), "check", "--ports", ports,
                "--strong-database", String(Self.strongDatabase), "--eventual-database", String(Self.eventualDatabase),
            ],
            timeoutSeconds: Bounds.scriptSeconds)
        print(result.output)
        XCTAssertEqual(result.status, 0, "redis-py strong check failed:\n\(result.output)\n\(result.errors)")
        XCTAssertTrue(result.output.contains("resp strong check: ok"), result.output + result.errors)
        for version in ["RESP2", "RESP3"] {
            XCTAssertTrue(result.output.contains("passed: \(version)"), "\(version) did not run:\n\(result.output)")
        }
    }
}
