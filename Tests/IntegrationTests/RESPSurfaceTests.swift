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

    private static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/resp-client-check.py").path
    }

    func testRedisPyDrivesTheRESPSurface() async throws {
        let python: String
        do {
            python = try RESPTools.tool("python3")
        } catch {
            throw XCTSkip("python3 is not installed; run scripts/setup-test-tools.sh")
        }
        let check = try await RESPTools.run(python, ["-c", "import redis"], timeoutSeconds: 60)
        guard check.status == 0 else {
            throw XCTSkip("the python redis package is missing; run scripts/setup-test-tools.sh\n\(check.errors)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.scriptPath), Self.scriptPath)

        // SCAN, KEYS and DBSIZE read each partition at one replica: with w=all every
        // replica holds a key once SET answers, so the counts the script checks are exact.
        for database in Self.databases {
            let props = try await cluster.client(0).setProps("db\(database)", #"{"w": "all"}"#)
            XCTAssertEqual(props.status, 200, props.text)
        }
        try await eventually("every node has w=all for the test databases", seconds: 30) {
            for index in 0..<3 {
                for database in Self.databases {
                    let response = try await self.cluster.client(index).request("GET", "/buckets/db\(database)/props")
                    guard response.json["w"] as? String == "all" else { return false }
                }
            }
            return true
        }
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
}
