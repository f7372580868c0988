import Foundation
import QuorumCore
import QuorumNode
import XCTest

/// `quorumkv get|put|delete` as a user runs them: the built binary against the real
/// HTTPServer with a fake service. Skipped when the binary is not built next to the tests
/// (`swift build` builds it).
final class HTTPCLITests: XCTestCase {
    private var fixture: HTTPTestServer!

    override func tearDown() async throws {
        await fixture?.stop()
        fixture = nil
    }

    private struct Run {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(stdout))) as? [String: Any] }
    }

    private static func binary() throws -> URL {
        var directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("quorumkv")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw XCTSkip("quorumkv binary not found next to the test bundle; run `swift build` first")
    }

    private func quorumkv(_ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:]) async throws -> Run {
        let process = Process()
        process.executableURL = try Self.binary()
        let endpoint = ["--endpoint", "http://127.0.0.1:\(fixture.port)"]
        process.arguments = arguments + (environment.isEmpty && !arguments.contains("--endpoint") ? endpoint : [])
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "QUORUMKV_ENDPOINT")
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
        try input.fileHandleForWriting.close()
        let (stdout, stderr) = await Task.detached {
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (stdout, stderr)
        }.value
        return Run(status: process.terminationStatus, stdout: Array(stdout), stderr: String(decoding: stderr, as: UTF8.self))
    }

    private func start() async throws -> HTTPTestServer {
        _ = try Self.binary()
        fixture = try await HTTPTestServer.start()
        return fixture
    }

    /// Strong buckets from the command line: ETags out (`-v`, `--json`), `--if-match` and
    /// `--if-absent` in, exit 6 on a failed condition, `bucket create|show`.
    func testStrongBucketFlagsAndExitCodes() async throws {
        let server = try await start()
        let created = try await quorumkv(["bucket", "create", "--bucket", "accounts", "--consistency", "strong", "--n", "3"])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(created.text, "bucket=accounts n=3 r=quorum w=quorum conflict=lww consistency=strong\n")
        XCTAssertEqual(server.service.consistency(of: "accounts"), .strong)
        let shown = try await quorumkv(["bucket", "show", "--bucket", "accounts", "--json"])
        XCTAssertEqual(shown.json?["consistency"] as? String, "strong", shown.text)

        let take = try await quorumkv(["put", "alice", "100", "--bucket", "accounts", "--if-absent", "--json"])
        XCTAssertEqual(take.status, 0, take.stderr)
        let etag = try XCTUnwrap(take.json?["etag"] as? String, take.text)
        XCTAssertEqual(server.service.strongOperations.last, .compareAndSet(.ifAbsent, .value(bytes: Array("100".utf8), contentType: "application/octet-stream")))
        let taken = try await quorumkv(["put", "alice", "1", "--bucket", "accounts", "--if-absent"])
        XCTAssertEqual(taken.status, 6, taken.stderr)
        XCTAssertTrue(taken.stderr.hasPrefix("error: precondition_failed: "), taken.stderr)

        let read = try await quorumkv(["get", "alice", "--bucket", "accounts", "-v"])
        XCTAssertEqual(read.text, "100")
        XCTAssertEqual(read.stderr, "etag: \(etag)\n")
        let readJSON = try await quorumkv(["get", "alice", "--bucket", "accounts", "--json"])
        XCTAssertEqual(readJSON.json?["etag"] as? String, etag)

        let moved = try await quorumkv(["put", "alice", "90", "--bucket", "accounts", "--if-match", etag, "-v"])
        XCTAssertEqual(moved.status, 0, moved.stderr)
        XCTAssertTrue(moved.stderr.hasPrefix("etag: ") && !moved.stderr.contains(etag), moved.stderr)
        let stale = try await quorumkv(["put", "alice", "80", "--bucket", "accounts", "--if-match", "\"\(etag)\""])
        XCTAssertEqual(stale.status, 6, "a quoted ETag is taken too, and a stale one fails: \(stale.stderr)")
        let staleDelete = try await quorumkv(["delete", "alice", "--bucket", "accounts", "--if-match", etag])
        XCTAssertEqual(staleDelete.status, 6, staleDelete.stderr)
        let both = try await quorumkv(["put", "alice", "x", "--bucket", "accounts", "--if-match", etag, "--if-absent"])
        XCTAssertEqual(both.status, 2, both.stderr)

        let plain = try await quorumkv(["put", "k", "v", "--if-match", etag])
        XCTAssertEqual(plain.status, 2, "If-Match on an eventual bucket is refused: \(plain.stderr)")
        XCTAssertTrue(plain.stderr.contains("strong bucket"), plain.stderr)
        let plainJSON = try await quorumkv(["put", "k", "v", "--json"])
        XCTAssertNil(plainJSON.json?["etag"], "eventual writes print no etag: \(plainJSON.text)")
    }

    func testPutGetDeleteAndExitCodes() async throws {
        let server = try await start()
        let put = try await quorumkv(["put", "greeting", "hello", "--w", "2", "--content-type", "text/plain"])
        XCTAssertEqual(put.status, 0, put.stderr)
        XCTAssertEqual(put.stdout, [])
        XCTAssertEqual(server.service.lastCall?.options, RequestOptions(w: .count(2)))
        XCTAssertEqual(server.service.lastCall?.contentType, "text/plain")

        let get = try await quorumkv(["get", "greeting", "--verbose"])
        XCTAssertEqual(get.status, 0, get.stderr)
        XCTAssertEqual(get.text, "hello", "raw value, no newline when stdout is not a terminal")
        XCTAssertEqual(get.stderr, "context: ctx-1\n")

        let json = try await quorumkv(["get", "greeting", "--json"])
        XCTAssertEqual(json.json?["found"] as? Bool, true)
        XCTAssertEqual((json.json?["siblings"] as? [[String: Any]])?.first?["value"] as? String, "hello")

        let delete = try await quorumkv(["delete", "greeting"])
        XCTAssertEqual(delete.status, 0, delete.stderr)

        let missing = try await quorumkv(["get", "greeting"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("error: not_found: "), missing.stderr)
        let missingJSON = try await quorumkv(["get", "greeting", "--json"])
        XCTAssertEqual(missingJSON.status, 1)
        XCTAssertEqual(missingJSON.json?["found"] as? Bool, false)
    }

    func testUsageErrorsExit2() async throws {
        _ = try await start()
        for arguments in [["get", "k", "--r", "most"], ["get", "k", "--n", "x"], ["get", "k", "--bucket", "a b"], ["get", ""], ["put", "k", "v", "--timeout", "0"]] {
            let run = try await quorumkv(arguments)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.hasPrefix("error: bad_parameter: "), run.stderr)
        }
        XCTAssertTrue(fixture.service.calls.isEmpty, "bad flags never reach the server")
        // A 413 from the server is a usage error too.
        let long = try await quorumkv(["get", String(repeating: "k", count: 1025)])
        XCTAssertEqual(long.status, 2, long.stderr)
        XCTAssertTrue(long.stderr.hasPrefix("error: too_large: "), long.stderr)
    }

    func testServerFailuresMapToExitCodes() async throws {
        let server = try await start()
        server.service.fail(with: .quorumNotMet(operation: .write, needed: 3, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        let quorum = try await quorumkv(["put", "k", "v", "--json"])
        XCTAssertEqual(quorum.status, 3)
        XCTAssertTrue(quorum.stderr.hasPrefix("error: quorum_not_met: write needed 3"), quorum.stderr)
        XCTAssertEqual(quorum.json?["error"] as? String, "quorum_not_met")

        server.service.fail(with: .internalError(message: "disk full"))
        let internalError = try await quorumkv(["get", "k"])
        XCTAssertEqual(internalError.status, 5)
        XCTAssertEqual(internalError.stderr, "error: internal: disk full\n")

        let port = try await httpUnusedPort()
        let unreachable = try await quorumkv(["get", "k", "--endpoint", "http://127.0.0.1:\(port)"])
        XCTAssertEqual(unreachable.status, 4)
        XCTAssertTrue(unreachable.stderr.hasPrefix("error: unreachable: "), unreachable.stderr)
    }

    func testSiblingsPrintEachAndTheContext() async throws {
        let server = try await start()
        _ = try await server.client.setBucketProps(bucket: "carts", update: BucketPropsUpdate(conflict: .vclock))
        try await server.client.put(bucket: "carts", key: "c", value: Array("milk".utf8), contentType: "text/plain")
        try await server.client.put(bucket: "carts", key: "c", value: Array("eggs\n".utf8), contentType: "text/plain")
        let run = try await quorumkv(["get", "c", "--bucket", "carts"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.count, 6, run.text)
        XCTAssertTrue(lines[0].hasPrefix("sibling 1 (text/plain, "), lines[0])
        XCTAssertEqual(lines[1], "milk")
        XCTAssertTrue(lines[2].hasPrefix("sibling 2 (text/plain, "), lines[2])
        XCTAssertEqual(lines[3], "eggs")
        XCTAssertEqual(lines[4], "context: ctx-2")

        let json = try await quorumkv(["get", "c", "--bucket", "carts", "--json"])
        XCTAssertEqual((json.json?["siblings"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual(json.json?["context"] as? String, "ctx-2")

        let resolve = try await quorumkv(["put", "c", "milk,eggs", "--bucket", "carts", "--context", "ctx-2"])
        XCTAssertEqual(resolve.status, 0, resolve.stderr)
        XCTAssertEqual(server.service.lastCall?.context, "ctx-2")
    }

    func testValueSourcesAndOptions() async throws {
        let server = try await start()
        let binary: [UInt8] = [0, 1, 2, 0xFF, 0x0A]
        let piped = try await quorumkv(["put", "from-stdin"], stdin: binary)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(server.service.stored(bucket: "default", key: Array("from-stdin".utf8))?.first?.value, binary)
        let dash = try await quorumkv(["put", "dash", "-"], stdin: Array("xyz".utf8))
        XCTAssertEqual(dash.status, 0, dash.stderr)
        XCTAssertEqual(server.service.stored(bucket: "default", key: Array("dash".utf8))?.first?.value, Array("xyz".utf8))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("quorumkv-cli-\(UUID().uuidString)")
        try Data(binary).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try await quorumkv(["put", "from-file", "--file", file.path])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        let read = try await quorumkv(["get", "from-file"])
        XCTAssertEqual(read.stdout, binary)

        _ = try await quorumkv(["get", "k", "--consistency", "ALL", "--r", "1", "--n", "2", "--pr", "one", "--timeout", "900"])
        XCTAssertEqual(
            server.service.lastCall?.options, RequestOptions(n: 2, r: .count(1), w: .all, pr: .one, timeoutMilliseconds: 900))

        let viaEnvironment = try await quorumkv(
            ["get", "from-file"], environment: ["QUORUMKV_ENDPOINT": "http://127.0.0.1:\(server.port)"])
        XCTAssertEqual(viaEnvironment.status, 0, viaEnvironment.stderr)
    }
}
