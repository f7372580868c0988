import Foundation
import XCTest

/// The RESP line protocol against a real three-node cluster, driven by real clients:
/// `redis-cli` and `redis-benchmark` (Debian's redis-tools) and the `redis` package for
/// Python. A missing tool fails the test with the command that installs it
/// (`scripts/setup-test-tools.sh`, which `scripts/test.sh` runs).
final class RESPClientTests: ClusterTestCase {
    override func setUp() async throws {
        // A missing tool fails here with how to install it, not as a PING timeout.
        _ = try RESPTools.tool("redis-cli")
        try await super.setUp()
        for index in 0..<3 {
            let port = cluster.respPort(index)
            try await eventually("node \(index + 1) answers PING on its RESP port", seconds: 15) {
                try await RESPTools.redisCLI(port: port, ["PING"]).output == "PONG\n"
            }
        }
    }

    private func cli(_ node: Int, _ arguments: String..., database: Int? = nil) async throws -> String {
        let result = try await RESPTools.redisCLI(port: cluster.respPort(node), arguments, database: database)
        return result.output
    }

    // MARK: - redis-cli

    func testRedisCliRoundTripsAcrossNodes() async throws {
        let set = try await cli(0, "SET", "greeting", "hello world", "W", "2")
        XCTAssertEqual(set, "OK\n")
        let get = try await cli(1, "GET", "greeting", "R", "2")
        XCTAssertEqual(get, "hello world\n")
        let mset = try await cli(2, "MSET", "a", "1", "b", "2", "c", "3")
        XCTAssertEqual(mset, "OK\n")
        let mget = try await cli(0, "MGET", "a", "missing", "c", "greeting")
        XCTAssertEqual(mget, "1\n\n3\nhello world\n")
        let exists = try await cli(1, "EXISTS", "a", "b", "missing")
        XCTAssertEqual(exists, "2\n")
        let deleted = try await cli(2, "DEL", "a", "missing", "b")
        XCTAssertEqual(deleted, "2\n")
        let gone = try await cli(0, "MGET", "a", "b", "c")
        XCTAssertEqual(gone, "\n\n3\n")
        // What redis-cli wrote is what HTTP reads.
        let http = try await cluster.client(2).get("greeting", query: [("r", "2")])
        XCTAssertEqual(http.text, "hello world")
        let missing = try await cli(1, "GET", "a")
        XCTAssertEqual(missing, "\n")
    }

    func testSelectMapsDatabasesToBuckets() async throws {
        let inDb5 = try await cli(0, "SET", "k", "in db5", database: 5)
        XCTAssertEqual(inDb5, "OK\n")
        let inDefault = try await cli(0, "SET", "k", "in default")
        XCTAssertEqual(inDefault, "OK\n")
        let read5 = try await cluster.client(1).get("k", bucket: "db5", query: [("r", "2")])
        XCTAssertEqual(read5.text, "in db5")
        let read0 = try await cli(2, "GET", "k", "R", "2", database: 0)
        XCTAssertEqual(read0, "in default\n")
        // A named bucket, and the connection keeps it for later commands.
        let named = try await RESPTools.redisCLI(
            port: cluster.respPort(1), [], stdin: "SELECT carts\nSET k named\nGET k\nSELECT -1\n")
        XCTAssertEqual(named.output, "OK\nOK\nnamed\nERR DB index is out of range\n\n")
        let http = try await cluster.client(0).get("k", bucket: "carts", query: [("r", "2")])
        XCTAssertEqual(http.text, "named")
    }

    func testPerCommandQuorumsWithANodeStopped() async throws {
        let before = try await cli(0, "SET", "k", "all three", "W", "3")
        XCTAssertEqual(before, "OK\n")
        cluster.signal(2, SIGSTOP)
        defer { cluster.signal(2, SIGCONT) }

        let strict = try await cli(0, "SET", "k", "strict", "W", "3", "TIMEOUT", "500")
        XCTAssertTrue(strict.hasPrefix("QUORUM write needed 3 replica acks but "), strict)
        let relaxed = try await cli(0, "SET", "k", "relaxed", "W", "2", "TIMEOUT", "500")
        XCTAssertEqual(relaxed, "OK\n")
        let strictRead = try await cli(1, "GET", "k", "R", "ALL", "TIMEOUT", "500")
        XCTAssertTrue(strictRead.hasPrefix("QUORUM read needed 3 replica replies but "), strictRead)
        let quorumRead = try await cli(1, "GET", "k", "R", "quorum", "TIMEOUT", "500")
        XCTAssertEqual(quorumRead, "relaxed\n")

        // The connection's defaults apply until a command names its own.
        let session = try await RESPTools.redisCLI(
            port: cluster.respPort(0), [],
            stdin: "CONSISTENCY W all TIMEOUT 500\nSET k2 v\nSET k2 v W 2\nCONSISTENCY\n")
        let lines = session.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "OK")
        XCTAssertTrue(lines.count > 2 && lines[1].hasPrefix("QUORUM write needed 3"), session.output)
        XCTAssertTrue(session.output.contains("\nOK\nr\ndefault\nw\nall\nn\ndefault\npr\ndefault\npw\ndefault\ntimeout\n500\n"), session.output)

        // A syntax error is not a quorum error.
        let syntax = try await cli(0, "SET", "k", "v", "W")
        XCTAssertTrue(syntax.hasPrefix("ERR syntax error"), syntax)
    }

    func testSiblingsAndContextThroughQGETAndQSET() async throws {
        // SELECT 7 is bucket db7; make it a vclock bucket and wait until every node knows.
        let props = try await cluster.client(0).setProps("db7", #"{"conflict": "vclock"}"#)
        XCTAssertEqual(props.status, 200, props.text)
        try await eventually("every node knows db7 is vclock") {
            for index in 0..<3 {
                let response = try await self.cluster.client(index).request("GET", "/buckets/db7/props")
                guard response.json["conflict"] as? String == "vclock" else { return false }
            }
            return true
        }
        let first = try await cli(0, "SET", "cart", "apples", "W", "3", database: 7)
        XCTAssertEqual(first, "OK\n")
        let second = try await cli(1, "QSET", "cart", "pears", "CONTENT-TYPE", "text/plain", "W", "3", database: 7)
        XCTAssertFalse(second.isEmpty)

        let plain = try await cli(2, "GET", "cart", "R", "3", database: 7)
        XCTAssertEqual(
            plain, "SIBLINGS key 'cart' has 2 siblings; use QGET to read them and QSET with the context to resolve\n\n")
        // Raw output of [context, [type, value], [type, value]]: one element per line.
        let siblings = try await cli(2, "QGET", "cart", "R", "3", database: 7)
        var lines = siblings.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, siblings)
        let context = lines.removeFirst()
        XCTAssertFalse(context.isEmpty)
        let pairs = stride(from: 0, to: lines.count - 1, by: 2).map { "\(lines[$0]) \(lines[$0 + 1])" }
        XCTAssertEqual(Set(pairs), ["application/octet-stream apples", "text/plain pears"])

        let resolved = try await cli(0, "QSET", "cart", "apples,pears", "CONTEXT", context, "W", "3", database: 7)
        XCTAssertFalse(resolved.hasPrefix("ERR") || resolved.isEmpty, resolved)
        for node in 0..<3 {
            let read = try await cli(node, "GET", "cart", "R", "3", database: 7)
            XCTAssertEqual(read, "apples,pears\n", "node \(node + 1)")
        }
        // DEL reads first and deletes with that context, so no sibling survives it.
        _ = try await cli(1, "SET", "cart", "plums", "W", "3", database: 7)
        let deleted = try await cli(2, "DEL", "cart", database: 7)
        XCTAssertEqual(deleted, "1\n")
        let afterDelete = try await cli(0, "QGET", "cart", "R", "3", database: 7)
        XCTAssertEqual(afterDelete, "\n", "an empty array")
    }

    func testInlineCommandsOverAPlainSocketAndProtocolErrors() async throws {
        let port = cluster.respPort(0)
        let reply = try RawSocket.exchange(
            port: port, send: Array("PING\r\nSET inline \"hello world\" W 2\r\nGET inline R 2\nQUIT\r\nGET never\r\n".utf8))
        XCTAssertEqual(reply, "+PONG\r\n+OK\r\n$11\r\nhello world\r\n+OK\r\n")
        let garbage = try RawSocket.exchange(port: port, send: Array("*2\r\n$3\r\nGET\r\n$-9\r\n".utf8))
        XCTAssertEqual(garbage, "-ERR Protocol error: invalid bulk length\r\n")
        let still = try await cli(0, "GET", "inline")
        XCTAssertEqual(still, "hello world\n", "a protocol error closes that connection only")
    }

    // MARK: - redis-benchmark

    func testRedisBenchmarkRunsWithoutErrors() async throws {
        for arguments in [["-t", "set,get", "-n", "2000", "-c", "10", "-q"], ["-t", "set,get", "-n", "2000", "-c", "10", "-P", "16", "-q"]] {
            let result = try await RESPTools.run(
                try RESPTools.tool("redis-benchmark"), ["-h", "127.0.0.1", "-p", String(cluster.respPort(0))] + arguments,
                timeoutSeconds: 120)
            let output = result.output + result.errors
            print("redis-benchmark \(arguments.joined(separator: " ")):\n\(output)")
            XCTAssertEqual(result.status, 0, output)
            XCTAssertFalse(output.lowercased().contains("error"), output)
            for test in ["SET", "GET"] {
                XCTAssertTrue(output.contains("\(test): "), "no \(test) figure in: \(output)")
            }
        }
        let value = try await cli(1, "GET", "key:__rand_int__", "R", "2")
        XCTAssertEqual(value.count, 4, "redis-benchmark's 3-byte value and a line end: \(value)")
    }

    // MARK: - Python redis

    func testPythonRedisClient() async throws {
        let script = "\(cluster.root)/resp_client_test.py"
        try RESPTools.pythonScript.write(toFile: script, atomically: true, encoding: .utf8)
        let python = try RESPTools.tool("python3")
        let check = try await RESPTools.run(python, ["-c", "import redis"], timeoutSeconds: 30)
        guard check.status == 0 else {
            throw HarnessError("the python redis package is missing; run scripts/setup-test-tools.sh\n\(check.errors)")
        }
        let result = try await RESPTools.run(
            python, [script, String(cluster.respPort(0)), String(cluster.respPort(1))], timeoutSeconds: 120)
        XCTAssertEqual(result.status, 0, "python redis client failed:\n\(result.output)\n\(result.errors)")
        XCTAssertTrue(result.output.contains("python redis client: ok"), result.output + result.errors)
    }
}

/// Finds and runs the client tools, each bounded by a timeout; output goes through files
/// so a chatty tool can't block on a full pipe.
enum RESPTools {
    static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError("\(name) is not installed; run scripts/setup-test-tools.sh (scripts/test.sh runs it; CI installs the tools)")
    }

    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    static func redisCLI(port: Int, _ arguments: [String], database: Int? = nil, stdin: String? = nil) async throws -> Result {
        var all = ["-h", "127.0.0.1", "-p", String(port)]
        if let database { all += ["-n", String(database)] }
        return try await run(try tool("redis-cli"), all + arguments, stdin: stdin, timeoutSeconds: 30)
    }

    /// - Parameter environment: variables added to the test's own (secrets go here, never in `arguments`).
    static func run(
        _ executable: String, _ arguments: [String], stdin: String? = nil, timeoutSeconds: Double, environment: [String: String] = [:]
    ) async throws -> Result {
        let directory = NSTemporaryDirectory() + "resp-tool-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (outPath, errPath, inPath) = ("\(directory)/out", "\(directory)/err", "\(directory)/in")
        for (path, contents) in [(outPath, Data()), (errPath, Data()), (inPath, Data((stdin ?? "").utf8))] {
            guard FileManager.default.createFile(atPath: path, contents: contents) else {
                throw HarnessError("could not create \(path)")
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        process.standardInput = FileHandle(forReadingAtPath: inPath)
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning {
            guard Date() < deadline else {
                process.terminate()
                process.waitUntilExit()
                throw HarnessError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeoutSeconds) s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Result(status: process.terminationStatus, output: output, errors: errors)
    }

    /// Set, get, mget, a pipeline and error prefixes through redis-py; argv: two node ports.
    static let pythonScript = #"""
        import sys
        import redis

        # The client's default protocol (RESP3 in redis-py 8) and RESP2 both work.
        first = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=20)
        second = redis.Redis(host="127.0.0.1", port=int(sys.argv[2]), socket_timeout=20, protocol=2)
        assert first.get("py:never-written") is None
        assert second.get("py:never-written") is None

        assert first.ping() is True
        assert first.set("py:a", "one") is True
        assert second.execute_command("GET", "py:a", "R", "2") == b"one"
        assert first.mset({"py:b": "two", "py:c": b"\x00\xff\r\n"}) is True
        assert second.mget(["py:a", "py:b", "py:c", "py:none"]) == [b"one", b"two", b"\x00\xff\r\n", None]
        assert first.exists("py:a", "py:none", "py:b") == 2

        pipe = first.pipeline(transaction=False)
        for i in range(200):
            pipe.set(f"py:p{i}", str(i))
            pipe.get(f"py:p{i}")
        results = pipe.execute()
        assert results[0::2] == [True] * 200, results[:10]
        assert results[1::2] == [str(i).encode() for i in range(200)], results[:10]

        assert first.delete("py:a", "py:none") == 1
        assert first.get("py:a") is None
        assert first.set("py:nx", "1", nx=True) is True
        assert first.set("py:nx", "2", nx=True) is None
        assert first.get("py:nx") == b"1"

        try:
            first.execute_command("SET", "py:x", "v", "W", "9")
            raise AssertionError("expected a BADPARAM error")
        except redis.ResponseError as error:
            assert str(error).startswith("BADPARAM"), error

        assert first.execute_command("CONSISTENCY", "R", "quorum", "W", "all") in (b"OK", True, "OK")
        assert first.set("py:all", "x") is True
        info = first.info()
        assert info["redis_version"] == "7.0.0", info
        assert info["cluster_enabled"] == 0, info
        print("python redis client: ok", redis.__version__)
        """#
}
