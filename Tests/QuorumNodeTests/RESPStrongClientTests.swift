import Foundation
import NIOPosix
import QuorumCore
import XCTest

@testable import QuorumNode

/// Strong-bucket commands from real clients (redis-cli, redis-py) to the real `RESPServer`,
/// with the fake service's strong registers behind it: the RESP layer end to end without a
/// cluster (IntegrationTests.RESPStrongTests runs the same against real nodes). Skipped
/// when a client is not installed (`scripts/setup-test-tools.sh` installs them).
final class RESPStrongClientTests: XCTestCase {
    /// `SELECT 31` is bucket `db31`: strong in the fake; `db32` is eventual.
    private static let strongDatabase = 31
    private static let eventualDatabase = 32

    /// Every bound of these tests, in one place.
    private enum Bounds {
        /// One client process, from start to exit; past it the process is terminated.
        static let processSeconds = 120.0
    }

    private var server: RESPServer?

    override func tearDown() async throws {
        await server?.close()
        server = nil
    }

    private func start() async throws -> Int {
        let server = RESPServer(
            host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton,
            service: RESPFakeKVService(strongBuckets: ["db\(Self.strongDatabase)"]), limits: .defaults, logger: respTestLogger,
            protocolLimits: .defaults)
        self.server = server
        return try await server.start()
    }

    private static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw XCTSkip("\(name) is not installed; run scripts/setup-test-tools.sh")
    }

    /// Runs a process to its end (terminated past `Bounds.processSeconds`): status and stdout + stderr.
    private static func run(_ executable: String, _ arguments: [String], stdin: String = "") async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let deadline = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + Bounds.processSeconds, execute: deadline)
        let output = await Task.detached {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }.value
        deadline.cancel()
        return (process.terminationStatus, output)
    }

    private func session(_ port: Int, database: Int, _ lines: [String]) async throws -> [String] {
        let (status, output) = try await Self.run(
            try Self.tool("redis-cli"), ["-h", "127.0.0.1", "-p", String(port), "-n", String(database)],
            stdin: lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(status, 0, output)
        return output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    func testRedisCliOnAStrongBucket() async throws {
        let port = try await start()
        let written = try await session(port, database: Self.strongDatabase, [
            "SET k v1", "SET k v2 NX", "SET absent x XX", "SET k v2 XX", "GET k", "SET k v3 IFEQ nope", "SET k v3 IFEQ v2",
            "GETSET k v4", "SET k v5 GET", "DELIFEQ k v4", "DELIFEQ k v5", "EXISTS k", "TYPE k", "MSET a 1 b 2", "DEL a b never",
        ])
        XCTAssertEqual(written, ["OK", "", "", "OK", "v2", "", "OK", "v3", "v4", "0", "1", "0", "none", "OK", "2"])
        // redis-cli prints an empty line after each error.
        let refused = try await session(port, database: Self.strongDatabase, ["EXPIRE k 10", "INCR n", "SET k v EX 10"])
        XCTAssertEqual(refused.count, 6, "\(refused)")
        for (index, line) in refused.enumerated() where index % 2 == 0 {
            XCTAssertTrue(line.hasPrefix("NOTSUPPORTED ") && line.contains("strongly consistent"), line)
        }
        let eventual = try await session(port, database: Self.eventualDatabase, ["SET k e", "SET k f IFEQ e", "DELIFEQ k e", "GET k"])
        XCTAssertEqual(eventual.count, 6, "\(eventual)")
        XCTAssertTrue(eventual[1].hasPrefix("NOTSUPPORTED SET … IFEQ needs a strongly consistent bucket"), eventual[1])
        XCTAssertTrue(eventual[3].hasPrefix("NOTSUPPORTED DELIFEQ needs a strongly consistent bucket"), eventual[3])
        XCTAssertEqual(eventual[5], "e", "nothing written")
    }

    /// scripts/resp-strong-check.py, which IntegrationTests.RESPStrongTests runs against nodes.
    func testRedisPyOnAStrongBucket() async throws {
        let python = try Self.tool("python3")
        let (importStatus, importOutput) = try await Self.run(python, ["-c", "import redis"])
        guard importStatus == 0 else { throw XCTSkip("python3 can't import redis; run scripts/setup-test-tools.sh\n\(importOutput)") }
        let port = try await start()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/resp-strong-check.py").path
        let (status, output) = try await Self.run(python, [
            script, "check", "--ports", String(port), "--strong-database", String(Self.strongDatabase),
            "--eventual-database", String(Self.eventualDatabase),
        ])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("resp strong check: ok"), output)
        for line in ["passed: RESP2", "passed: RESP3", "passed: compare-and-set increments, 100 acknowledged, 0 indeterminate, final 100"] {
            XCTAssertTrue(output.contains(line), "missing '\(line)':\n\(output)")
        }
    }
}
