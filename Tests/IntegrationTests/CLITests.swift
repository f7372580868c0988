import Foundation
import XCTest

/// The `quorumkv` command line against a real three-node cluster: the binary as users run
/// it, its output and its exit codes.
final class CLITests: XCTestCase {
    private var cluster: ClusterHarness!
    private var cli: CLIRunner!
    private var scratch: String!

    override func setUp() async throws {
        cluster = try await ClusterHarness(nodes: 3)
        scratch = cluster.root + "/cli"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        cli = try CLIRunner(environment: ["QUORUMKV_HISTORY": scratch + "/history"])
    }

    override func tearDown() async throws {
        cluster?.shutdown()
        cluster = nil
    }

    private func quorumkv(_ arguments: [String], node: Int = 0, stdin: [UInt8]? = nil) async throws -> CLIRunner.Run {
        try await cli.run(arguments + ["--endpoint", cluster.endpoint(node)], stdin: stdin)
    }

    // MARK: - get, put, delete

    func testPutGetDeleteRoundTripWithJSON() async throws {
        let put = try await quorumkv(["put", "greeting", "hello there", "--w", "all", "--json"])
        XCTAssertEqual(put.status, 0, "\(put)")
        XCTAssertEqual(put.json["ok"] as? Bool, true, "\(put)")

        let get = try await quorumkv(["get", "greeting", "--r", "all", "--json"], node: 1)
        XCTAssertEqual(get.status, 0, "\(get)")
        XCTAssertEqual(get.json["found"] as? Bool, true)
        let siblings = get.json["siblings"] as? [[String: Any]] ?? []
        XCTAssertEqual(siblings.count, 1, "\(get)")
        XCTAssertEqual(siblings.first?["value"] as? String, "hello there")
        XCTAssertEqual(siblings.first?["encoding"] as? String, "utf8")
        XCTAssertNotNil(get.json["context"] as? String)

        let plain = try await quorumkv(["get", "greeting"], node: 2)
        XCTAssertEqual(plain.status, 0, "\(plain)")
        XCTAssertEqual(plain.text, "hello there", "a value is printed as stored when stdout is not a terminal")

        let delete = try await quorumkv(["delete", "greeting", "--w", "all", "--json"], node: 2)
        XCTAssertEqual(delete.status, 0, "\(delete)")
        XCTAssertEqual(delete.json["ok"] as? Bool, true)

        let gone = try await quorumkv(["get", "greeting", "--r", "all", "--json"])
        XCTAssertEqual(gone.status, 1, "\(gone)")
        XCTAssertEqual(gone.json["found"] as? Bool, false, "\(gone)")
        XCTAssertTrue(gone.stderr.contains("error: not_found:"), gone.stderr)
    }

    func testExitCodes() async throws {
        let missing = try await quorumkv(["get", "never-written"])
        XCTAssertEqual(missing.status, 1, "\(missing)")
        XCTAssertTrue(missing.stderr.hasPrefix("error: not_found: "), missing.stderr)

        let usage = try await quorumkv(["get", "k", "--r", "most"])
        XCTAssertEqual(usage.status, 2, "\(usage)")
        XCTAssertTrue(usage.stderr.contains("--r"), usage.stderr)

        let unknownFlag = try await quorumkv(["put", "k", "v", "--frobnicate"])
        XCTAssertEqual(unknownFlag.status, 2, "\(unknownFlag)")

        let overN = try await quorumkv(["put", "k", "v", "--w", "4"])
        XCTAssertEqual(overN.status, 2, "the server's 400 is a usage error: \(overN)")
        XCTAssertTrue(overN.stderr.hasPrefix("error: bad_parameter: "), overN.stderr)

        let closedPort = try ClusterHarness.freePorts(1)[0]
        let unreachable = try await cli.run(["get", "k", "--endpoint", "http://127.0.0.1:\(closedPort)"])
        XCTAssertEqual(unreachable.status, 4, "\(unreachable)")
        XCTAssertTrue(unreachable.stderr.hasPrefix("error: unreachable: "), unreachable.stderr)

        cluster.signal(1, SIGSTOP)
        cluster.signal(2, SIGSTOP)
        defer {
            cluster.signal(1, SIGCONT)
            cluster.signal(2, SIGCONT)
        }
        let quorum = try await quorumkv(["put", "k", "v", "--w", "3", "--timeout", "500", "--json"])
        XCTAssertEqual(quorum.status, 3, "\(quorum)")
        XCTAssertTrue(quorum.stderr.hasPrefix("error: quorum_not_met: "), quorum.stderr)
        XCTAssertEqual(quorum.json["error"] as? String, "quorum_not_met", "\(quorum)")
        let one = try await quorumkv(["put", "k", "v", "--w", "1", "--timeout", "500"])
        XCTAssertEqual(one.status, 0, "w=1 needs only the coordinator: \(one)")
    }

    func testTruncateAsksForYesThenHidesTheBucketOnEveryNode() async throws {
        for key in ["a", "b"] {
            let put = try await quorumkv(["put", key, "v", "--bucket", "sessions", "--w", "3"])
            XCTAssertEqual(put.status, 0, "\(put)")
        }
        let kept = try await quorumkv(["put", "k", "kept", "--w", "3"])
        XCTAssertEqual(kept.status, 0, "\(kept)")
        let unconfirmed = try await quorumkv(["truncate", "--bucket", "sessions"])
        XCTAssertEqual(unconfirmed.status, 2, "\(unconfirmed)")
        XCTAssertTrue(unconfirmed.stderr.contains("--yes"), unconfirmed.stderr)
        let present = try await quorumkv(["get", "a", "--bucket", "sessions"])
        XCTAssertEqual(present.status, 0, "nothing happened without --yes: \(present)")

        let truncated = try await quorumkv(["truncate", "--bucket", "sessions", "--yes"], node: 1)
        XCTAssertEqual(truncated.status, 0, "\(truncated)")
        XCTAssertTrue(truncated.text.hasPrefix("truncated bucket sessions at ") && truncated.text.contains("on 3 members"), truncated.text)
        for node in 0..<3 {
            let gone = try await quorumkv(["get", "a", "--bucket", "sessions", "--r", "1"], node: node)
            XCTAssertEqual(gone.status, 1, "node \(node + 1): \(gone)")
            let other = try await quorumkv(["get", "k", "--r", "1"], node: node)
            XCTAssertEqual(other.text, "kept", "another bucket is untouched: \(other)")
        }

        cluster.signal(2, SIGSTOP)
        defer { cluster.signal(2, SIGCONT) }
        let down = try await quorumkv(["truncate", "--all-buckets", "--yes"])
        XCTAssertEqual(down.status, 5, "\(down)")
        XCTAssertTrue(down.stderr.hasPrefix("error: unavailable: ") && down.stderr.contains("node3"), down.stderr)
    }

    func testValueFromFileAndFromStdin() async throws {
        let binary: [UInt8] = [0, 1, 2, 0xFF, 0xFE, 10, 13, 65]
        let path = scratch + "/value.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(binary)))
        let fromFile = try await quorumkv(["put", "blob", "--file", path, "--content-type", "application/x-test"])
        XCTAssertEqual(fromFile.status, 0, "\(fromFile)")
        let blob = try await quorumkv(["get", "blob", "--json"])
        let entry = (blob.json["siblings"] as? [[String: Any]])?.first
        XCTAssertEqual(entry?["encoding"] as? String, "base64")
        XCTAssertEqual(entry?["content_type"] as? String, "application/x-test")
        XCTAssertEqual((entry?["value"] as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init), binary)
        let raw = try await quorumkv(["get", "blob"])
        XCTAssertEqual(raw.stdout, binary, "bytes come back exactly")

        let piped = try await quorumkv(["put", "config"], stdin: Array("{\"a\":1}\n".utf8))
        XCTAssertEqual(piped.status, 0, "\(piped)")
        let config = try await quorumkv(["get", "config"])
        XCTAssertEqual(config.text, "{\"a\":1}\n")

        let dash = try await quorumkv(["put", "dash", "-"], stdin: Array("from stdin".utf8))
        XCTAssertEqual(dash.status, 0, "\(dash)")
        let dashed = try await quorumkv(["get", "dash"])
        XCTAssertEqual(dashed.text, "from stdin")

        let both = try await quorumkv(["put", "k", "v", "--file", path])
        XCTAssertEqual(both.status, 2, "\(both)")
        let noFile = try await quorumkv(["put", "k", "--file", scratch + "/absent"])
        XCTAssertEqual(noFile.status, 2, "\(noFile)")
    }

    // MARK: - siblings

    /// Sets `conflict: vclock` on `bucket` and waits until every node knows it.
    private func makeVclockBucket(_ bucket: String) async throws {
        let response = try await cluster.client(0).setProps(bucket, #"{"conflict":"vclock"}"#)
        XCTAssertEqual(response.status, 200, response.text)
        for node in 0..<3 {
            try await eventually("node \(node + 1) knows \(bucket) is vclock") {
                let props = try await self.cluster.client(node).request("GET", "/buckets/\(bucket)/props")
                return props.json["conflict"] as? String == "vclock"
            }
        }
    }

    func testSiblingsAreShownWithTheirContextAndResolved() async throws {
        try await makeVclockBucket("carts")
        let first = try await quorumkv(["put", "cart", "apples", "--bucket", "carts", "--w", "all"], node: 0)
        XCTAssertEqual(first.status, 0, "\(first)")
        let second = try await quorumkv(["put", "cart", "pears", "--bucket", "carts", "--w", "all"], node: 1)
        XCTAssertEqual(second.status, 0, "\(second)")

        let json = try await quorumkv(["get", "cart", "--bucket", "carts", "--r", "all", "--json"], node: 2)
        XCTAssertEqual(json.status, 0, "siblings are not an error: \(json)")
        let values = Set((json.json["siblings"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String })
        XCTAssertEqual(values, ["apples", "pears"], "\(json)")
        let context = try XCTUnwrap(json.json["context"] as? String)
        XCTAssertFalse(context.isEmpty)

        let text = try await quorumkv(["get", "cart", "--bucket", "carts", "--r", "all"])
        XCTAssertEqual(text.status, 0, "\(text)")
        XCTAssertTrue(text.text.contains("sibling 1 ("), text.text)
        XCTAssertTrue(text.text.contains("sibling 2 ("), text.text)
        XCTAssertTrue(text.text.contains("apples\n") && text.text.contains("pears\n"), text.text)
        XCTAssertTrue(text.lines.contains { $0.hasPrefix("context: ") && $0.count > "context: ".count }, text.text)

        let resolve = try await quorumkv(
            ["put", "cart", "apples,pears", "--bucket", "carts", "--context", context, "--w", "all"], node: 1)
        XCTAssertEqual(resolve.status, 0, "\(resolve)")
        let resolved = try await quorumkv(["get", "cart", "--bucket", "carts", "--r", "all"])
        XCTAssertEqual(resolved.text, "apples,pears", "\(resolved)")
    }

    // MARK: - keys

    /// Writes `count` keys `key00`… to `bucket` with w=all, and one binary key.
    private func writeKeys(_ count: Int, bucket: String) async throws -> Set<String> {
        var keys: Set<String> = []
        for index in 0..<count {
            let key = "key" + (index < 10 ? "0" : "") + String(index)
            let response = try await cluster.client(index % 3).put(key, "v", bucket: bucket, query: [("w", "all")])
            XCTAssertEqual(response.status, 204, response.text)
            keys.insert(key)
        }
        let binary = try await cluster.client(0).request(
            "PUT", "/kv/\(bucket)/%FF%00bin", query: [("w", "all")], body: Array("b".utf8))
        XCTAssertEqual(binary.status, 204, binary.text)
        return keys
    }

    func testKeysPagesThroughABucket() async throws {
        let written = try await writeKeys(25, bucket: "listed")
        let expected = written.union(["base64:" + Data([0xFF, 0x00] + Array("bin".utf8)).base64EncodedString()])

        let all = try await quorumkv(["keys", "--bucket", "listed", "--all"], node: 1)
        XCTAssertEqual(all.status, 0, "\(all)")
        XCTAssertEqual(all.lines.last, "", "\(all)")
        XCTAssertEqual(Set(all.lines.dropLast()), expected, "\(all)")
        XCTAssertEqual(all.lines.count - 1, expected.count, "no key twice: \(all)")
        XCTAssertEqual(all.stderr, "", "nothing remains after --all")

        // By hand, 10 at a time, following the cursor stderr gives.
        var seen: [String] = []
        var cursor: String?
        for _ in 0..<10 {
            let page = try await quorumkv(
                ["keys", "--bucket", "listed", "--limit", "10"] + (cursor.map { ["--cursor", $0] } ?? []))
            XCTAssertEqual(page.status, 0, "\(page)")
            let keys = page.lines.dropLast()
            XCTAssertLessThanOrEqual(keys.count, 10)
            seen += keys
            guard page.stderr.hasPrefix("more: --cursor ") else {
                XCTAssertEqual(page.stderr, "", "\(page)")
                cursor = nil
                break
            }
            cursor = String(page.stderr.dropFirst("more: --cursor ".count).dropLast())
        }
        XCTAssertNil(cursor, "the listing ended")
        XCTAssertEqual(seen.count, expected.count, "\(seen)")
        XCTAssertEqual(Set(seen), expected)

        let json = try await quorumkv(["keys", "--bucket", "listed", "--limit", "7", "--json"])
        XCTAssertEqual(json.status, 0, "\(json)")
        let listed = (json.json["keys"] as? [String] ?? []) + (json.json["keys_base64"] as? [String] ?? [])
        XCTAssertEqual(listed.count, 7, "\(json)")
        XCTAssertNotNil(json.json["next"] as? String, "\(json)")

        let empty = try await quorumkv(["keys", "--bucket", "nothing-here", "--json"])
        XCTAssertEqual(empty.status, 0, "\(empty)")
        XCTAssertEqual(empty.text, #"{"keys":[],"keys_base64":[],"next":null}"# + "\n")

        let both = try await quorumkv(["keys", "--limit", "3", "--all"])
        XCTAssertEqual(both.status, 2, "\(both)")
        let badCursor = try await quorumkv(["keys", "--cursor", "not-a-cursor"])
        XCTAssertEqual(badCursor.status, 2, "\(badCursor)")
        XCTAssertTrue(badCursor.stderr.hasPrefix("error: bad_parameter: "), badCursor.stderr)
        let closedPort = try ClusterHarness.freePorts(1)[0]
        let unreachable = try await cli.run(["keys", "--endpoint", "127.0.0.1:\(closedPort)"])
        XCTAssertEqual(unreachable.status, 4, "\(unreachable)")
    }

    func testShellKeysAndKeysMore() async throws {
        let written = try await writeKeys(12, bucket: "listed")
        let script = "USE listed\nKEYS 5\nKEYS MORE 5\nKEYS MORE\nKEYS MORE\n"
        let run = try await quorumkv(["shell"], stdin: Array(script.utf8))
        XCTAssertEqual(run.status, 2, "the last KEYS MORE has nothing to continue: \(run)")
        XCTAssertEqual(run.stderr, "error: no_listing: no unfinished KEYS listing in bucket listed\n")
        let lines = run.lines
        XCTAssertEqual(lines.filter { $0 == "(5 keys shown; KEYS MORE for the next ones)" }.count, 2, "\(run)")
        XCTAssertTrue(lines.contains("(3 more keys; end of bucket listed)"), "\(run)")
        let keys = lines.filter { $0.hasPrefix("key") }
        XCTAssertEqual(keys.count, written.count, "\(run)")
        XCTAssertEqual(Set(keys), written)
        XCTAssertEqual(lines.filter { $0.hasPrefix("base64:") }.count, 1, "\(run)")
    }

    // MARK: - shell

    func testShellRunsAScriptFromStdin() async throws {
        let script = """
            # a comment, then the levels shown, set and shown
            CONSISTENCY
            CONSISTENCY R 2 W 3
            USE shellb
            PUT greeting hello from the shell
            GET greeting
            FROB greeting
            GET missing
            CONSISTENCY DEFAULT
            TIMEOUT 1500
            PUT "spaced key" "  padded\\tvalue  "
            GET "spaced key"
            HISTORY 2
            !6
            QUIT
            GET never-run

            """
        let run = try await quorumkv(["shell"], stdin: Array(script.utf8))
        XCTAssertEqual(run.status, 2, "the last failing line (FROB) sets the exit code: \(run)")
        XCTAssertEqual(
            run.lines,
            [
                "consistency: r=bucket w=bucket n=bucket",
                "consistency: r=2 w=3 n=bucket",
                "bucket: shellb",
                "OK",
                "hello from the shell",
                "(not found)",
                "consistency: r=bucket w=bucket n=bucket",
                "timeout=1500ms",
                "OK",
                "  padded\tvalue  ",
                "   12  GET \"spaced key\"",
                "   13  HISTORY 2",
                "hello from the shell",
                "",
            ], "\(run)")
        XCTAssertEqual(
            run.stderr, "error: syntax_error: unknown command \"FROB\"; type HELP for the list\n", "\(run)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/history"), "scripts leave no history file")

        let check = try await quorumkv(["get", "greeting", "--bucket", "shellb"], node: 2)
        XCTAssertEqual(check.text, "hello from the shell", "the shell wrote to the bucket USE chose: \(check)")
    }

    func testShellReportsServerErrorsAndGoesOn() async throws {
        let script = """
            PUT k v
            CONSISTENCY W 4
            PUT k v2
            CONSISTENCY DEFAULT
            GET k
            CONNECT 127.0.0.1:\(try ClusterHarness.freePorts(1)[0])
            GET k

            """
        let run = try await quorumkv(["shell"], stdin: Array(script.utf8))
        XCTAssertEqual(run.status, 4, "the last failure was unreachable: \(run)")
        XCTAssertTrue(run.stderr.contains("error: bad_parameter: "), run.stderr)
        XCTAssertTrue(run.stderr.contains("error: unreachable: "), run.stderr)
        XCTAssertTrue(run.lines.contains("v"), "the failed w=4 write changed nothing: \(run)")
    }

    func testShellResolvesSiblingsWithTheLastContext() async throws {
        try await makeVclockBucket("carts")
        for (node, value) in [(0, "apples"), (1, "pears")] {
            let put = try await quorumkv(["put", "cart", value, "--bucket", "carts", "--w", "all"], node: node)
            XCTAssertEqual(put.status, 0, "\(put)")
        }
        let script = """
            USE carts
            CONSISTENCY ALL
            RESOLVE cart too early
            GET cart
            CONTEXT
            RESOLVE cart apples,pears
            GET cart
            PROPS

            """
        let run = try await quorumkv(["shell"], node: 2, stdin: Array(script.utf8))
        XCTAssertEqual(run.status, 2, "RESOLVE before GET is a usage error: \(run)")
        XCTAssertTrue(run.stderr.hasPrefix("error: no_context: "), run.stderr)
        let text = run.text
        XCTAssertTrue(text.contains("sibling 1 (") && text.contains("sibling 2 ("), text)
        XCTAssertTrue(text.contains("(2 siblings; RESOLVE cart <value> writes one value in their place)"), text)
        let contextLine = try XCTUnwrap(run.lines.first { $0.hasPrefix("context: ") })
        XCTAssertTrue(run.lines.contains { $0.hasPrefix(contextLine) && $0.hasSuffix("(key cart in bucket carts)") }, text)
        XCTAssertEqual(Array(run.lines.suffix(3)), ["apples,pears", "bucket=carts n=3 r=quorum w=quorum conflict=vclock", ""], text)
    }

    /// The shell on a real terminal (a pty from `script`): greeting, prompts that follow
    /// CONSISTENCY and USE, and the history file.
    func testShellOnATerminalPromptsAndKeepsHistory() async throws {
        let scriptTool = "/usr/bin/script"
        guard FileManager.default.isExecutableFile(atPath: scriptTool) else {
            throw XCTSkip("util-linux script is not installed")
        }
        let endpoint = cluster.endpoint(0)
        let host = String(endpoint.dropFirst("http://".count))
        let input = "PUT tty-key typed\nCONSISTENCY QUORUM\nUSE other\n GET secret\nHISTORY\n"
        // Without echo, the typed lines do not interleave with the prompts (any echoed
        // before `stty` runs come before the greeting).
        let command = "stty -echo; exec \(cli.executable) shell --endpoint \(endpoint)"
        let run = try await cli.run(executable: scriptTool, ["-qec", command, "/dev/null"], stdin: Array(input.utf8))
        let output = run.text.replacingOccurrences(of: "\r\n", with: "\n")
        XCTAssertEqual(run.status, 0, "\(run)")
        XCTAssertTrue(output.contains("Connected to node1 at \(endpoint)."), output)
        XCTAssertTrue(output.contains("qkv \(host) default r=bucket w=bucket> OK\n"), output)
        XCTAssertTrue(output.contains("qkv \(host) default r=quorum w=quorum> bucket: other\n"), output)
        XCTAssertTrue(output.contains("qkv \(host) other r=quorum w=quorum> (not found)\n"), output)
        let history = try String(contentsOfFile: scratch + "/history", encoding: .utf8)
        XCTAssertEqual(
            history, "PUT tty-key typed\nCONSISTENCY QUORUM\nUSE other\nHISTORY\n",
            "every line but the one starting with a space")
        let stored = try await quorumkv(["get", "tty-key"])
        XCTAssertEqual(stored.text, "typed")
    }
}
