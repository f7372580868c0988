import Foundation
import QuorumNode
import XCTest

/// Users and permissions on a real three-node cluster started with `serve --acl`, the
/// file written by `quorumkv user`, driven by real clients: curl with a netrc file,
/// redis-cli with `--user` and the password in `REDISCLI_AUTH`, redis-py with
/// `username=`/`password=`. Passwords travel in files and environment variables only.
final class AuthTests: XCTestCase {
    private var cluster: ClusterHarness!
    private var directory = ""
    private var aclPath: String { "\(directory)/acl.txt" }
    private let alicePassword = "alice-pw-\(UUID().uuidString.prefix(8))"
    private let adminPassword = "admin-pw-\(UUID().uuidString.prefix(8))"

    override func setUp() async throws {
        directory = NSTemporaryDirectory() + "quorumkv-auth-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await userCLI(["add", "alice", "--grant", "read:a*"], password: alicePassword)
        try await userCLI(["add", "admin", "--grant", "read,write,delete,list,admin:*"], password: adminPassword)
        try await userCLI(["add", "default", "--disabled"])
    }

    override func tearDown() async throws {
        cluster?.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func startCluster(nodes: Int = 3, bindHost: String = "127.0.0.1") async throws {
        // A wildcard listener without TLS is refused unless --insecure (secure by default);
        // these tests are about users, so they take the plaintext risk on purpose.
        let insecure = bindHost == "127.0.0.1" ? [] : ["--insecure"]
        cluster = try await ClusterHarness(nodes: nodes, extraArguments: ["--acl", aclPath] + insecure, clientBindHost: bindHost)
    }

    /// `quorumkv user …` on the test's file; the password goes in through a 0600 file.
    @discardableResult
    private func userCLI(_ arguments: [String], password: String? = nil) async throws -> String {
        var all = ["user"] + arguments + ["--acl", aclPath]
        if let password {
            let file = "\(directory)/pw-\(UUID().uuidString.prefix(6))"
            FileManager.default.createFile(atPath: file, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
            all += ["--password-file", file]
        }
        let result = try await RESPTools.run(try ClusterHarness.quorumkvBinary(), all, timeoutSeconds: 120)
        XCTAssertEqual(result.status, 0, "quorumkv \(all.joined(separator: " ")): \(result.output)\(result.errors)")
        return result.output
    }

    private func basic(_ user: String, _ password: String) -> [(String, String)] {
        [("Authorization", KVHTTPClient.basicAuthorization(user: user, password: Array(password.utf8)))]
    }

    private func http(
        _ node: Int, _ method: String, _ path: String, as credentials: [(String, String)] = [], body: String? = nil
    ) async throws -> HTTPClientResponse {
        try await cluster.client(node).request(
            method, path, headers: credentials + (body == nil ? [] : [("Content-Type", "text/plain")]), body: body.map { Array($0.utf8) })
    }

    /// redis-cli as a user: `--user` on the command line, the password in `REDISCLI_AUTH`.
    private func redisCLI(_ node: Int, user: String?, password: String?, stdin: String) async throws -> RESPTools.Result {
        var arguments = ["-h", "127.0.0.1", "-p", String(cluster.respPort(node))]
        if let user { arguments += ["--user", user] }
        return try await RESPTools.run(
            try RESPTools.tool("redis-cli"), arguments, stdin: stdin, timeoutSeconds: 30,
            environment: password.map { ["REDISCLI_AUTH": $0] } ?? [:])
    }

    func testUnauthenticatedAndWrongPasswordRequestsAreRefused() async throws {
        try await startCluster()
        let health = try await http(0, "GET", "/health")
        XCTAssertEqual(health.status, 200, "/health stays open")
        let anonymous = try await http(0, "GET", "/kv/apples/k")
        XCTAssertEqual(anonymous.status, 401, anonymous.text)
        XCTAssertEqual(anonymous.header("WWW-Authenticate"), "Basic realm=\"quorumkv\"")
        XCTAssertTrue(anonymous.text.contains("\"error\":\"unauthorized\""), anonymous.text)
        let wrong = try await http(0, "GET", "/kv/apples/k", as: basic("alice", "not-it"))
        XCTAssertEqual(wrong.status, 401)
        XCTAssertFalse(wrong.text.contains("not-it"), "no password in an error")
        let metrics = try await http(0, "GET", "/metrics")
        XCTAssertEqual(metrics.status, 401, "metrics follow --metrics-access (user by default)")
        let counted = try await http(0, "GET", "/metrics", as: basic("admin", adminPassword))
        XCTAssertEqual(counted.status, 200)
        XCTAssertTrue(counted.text.contains("quorumkv_auth_login_failures_total 1"), counted.text)
        XCTAssertTrue(counted.text.contains("quorumkv_auth_credential_cache_entries_max 4096"))
        XCTAssertFalse(counted.text.contains("not-it") || counted.text.contains(adminPassword), "no password in /metrics")

        let plain = try await redisCLI(0, user: nil, password: nil, stdin: "GET k\n")
        XCTAssertEqual(Self.lines(plain.output), ["NOAUTH Authentication required."])
        let refused = try await redisCLI(0, user: "alice", password: "not-it", stdin: "GET k\n")
        XCTAssertTrue(refused.errors.contains("WRONGPASS") || refused.output.contains("WRONGPASS"), refused.output + refused.errors)
        XCTAssertTrue(refused.output.contains("NOAUTH"), refused.output)
    }

    func testAReadGrantOnAStarReadsApplesButNeitherWritesThemNorReadsPears() async throws {
        try await startCluster()
        let admin = basic("admin", adminPassword)
        for bucket in ["apples", "pears"] {
            let put = try await http(0, "PUT", "/kv/\(bucket)/k", as: admin, body: "\(bucket) value")
            XCTAssertEqual(put.status, 204, put.text)
        }
        let alice = basic("alice", alicePassword)
        let read = try await http(1, "GET", "/kv/apples/k", as: alice)
        XCTAssertEqual(read.status, 200, read.text)
        XCTAssertEqual(read.text, "apples value")
        let write = try await http(1, "PUT", "/kv/apples/k", as: alice, body: "mine")
        XCTAssertEqual(write.status, 403, write.text)
        XCTAssertTrue(write.text.contains("\"error\":\"forbidden\"") && write.text.contains("apples") && write.text.contains("write"), write.text)
        let pears = try await http(2, "GET", "/kv/pears/k", as: alice)
        XCTAssertEqual(pears.status, 403, pears.text)
        XCTAssertTrue(pears.text.contains("pears"), pears.text)
        XCTAssertFalse(pears.text.contains("a*"), "the grant list is not shown")

        // redis-cli --user with the password in REDISCLI_AUTH, never in argv.
        let cli = try await redisCLI(
            2, user: "alice", password: alicePassword, stdin: "SELECT apples\nGET k\nSET k v\nSELECT pears\nGET k\n")
        XCTAssertEqual(
            Self.lines(cli.output),
            [
                "OK", "apples value", "NOPERM User alice has no permissions to run the 'set' command", "OK",
                "NOPERM User alice has no permissions to read bucket 'pears' (command 'get')",
            ],
            cli.errors)

        // curl with a netrc file.
        let netrc = "\(directory)/netrc"
        FileManager.default.createFile(
            atPath: netrc, contents: Data("machine 127.0.0.1 login alice password \(alicePassword)\n".utf8),
            attributes: [.posixPermissions: 0o600])
        let curl = try await RESPTools.run(
            try RESPTools.tool("curl"),
            ["-s", "-w", "\n%{http_code}", "--netrc-file", netrc, "\(cluster.endpoint(0))/kv/apples/k"], timeoutSeconds: 30)
        XCTAssertEqual(curl.output, "apples value\n200", curl.errors)
        let curlWrite = try await RESPTools.run(
            try RESPTools.tool("curl"),
            ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data", "x", "--netrc-file", netrc,
             "\(cluster.endpoint(0))/kv/apples/k"], timeoutSeconds: 30)
        XCTAssertEqual(curlWrite.output, "403")

        // redis-py with username= and password= (the password from the environment).
        let script = "\(directory)/client.py"
        try Self.pythonScript.write(toFile: script, atomically: true, encoding: .utf8)
        let python = try await RESPTools.run(
            try RESPTools.tool("python3"), [script, String(cluster.respPort(1))], timeoutSeconds: 60,
            environment: ["QUORUMKV_TEST_PASSWORD": alicePassword])
        XCTAssertEqual(python.status, 0, python.output + python.errors)
        XCTAssertTrue(python.output.contains("redis-py auth: ok"), python.output + python.errors)
    }

    /// An HTTP connection is closed after 5 failed logins: curl reuses one connection for
    /// every URL until the server closes it, so the sixth request needs a new one.
    func testAnHTTPConnectionClosesAfterRepeatedFailedLogins() async throws {
        try await startCluster(nodes: 1)
        let netrc = "\(directory)/wrong-netrc"
        FileManager.default.createFile(
            atPath: netrc, contents: Data("machine 127.0.0.1 login alice password wrong\n".utf8), attributes: [.posixPermissions: 0o600])
        let url = "\(cluster.endpoint(0))/kv/apples/k"
        let result = try await RESPTools.run(
            try RESPTools.tool("curl"),
            ["-s", "-w", "%{http_code} %{num_connects}\n", "--netrc-file", netrc]
                + Array(repeating: ["-o", "/dev/null", url], count: 7).flatMap { $0 },
            timeoutSeconds: 60)
        let lines = Self.lines(result.output)
        XCTAssertEqual(lines.count, 7, result.output + result.errors)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("401 ") }, result.output)
        XCTAssertEqual(lines.map { $0.hasSuffix(" 1") }, [true, false, false, false, false, true, false], result.output)
        let metrics = try await http(0, "GET", "/metrics", as: basic("admin", adminPassword))
        XCTAssertTrue(metrics.text.contains("quorumkv_auth_connections_closed_total 1"), metrics.text)
    }

    func testTheUserCommandWritesA0600FileAndListsNoSecrets() async throws {
        let mode = try FileManager.default.attributesOfItem(atPath: aclPath)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let list = try await userCLI(["list"])
        XCTAssertEqual(
            Self.lines(list),
            ["alice on password=yes tokens=0 grants=read:a*", "admin on password=yes tokens=0 grants=read,write,delete,list,admin:*",
             "default off password=no tokens=0 grants="])
        let file = try String(contentsOfFile: aclPath, encoding: .utf8)
        XCTAssertFalse(file.contains(alicePassword) || list.contains(alicePassword), "only hashes are stored")
        XCTAssertTrue(file.contains("password:pbkdf2-sha256:600000:"), file)
        let binary = try ClusterHarness.quorumkvBinary()
        let badGrant = try await RESPTools.run(binary, ["user", "add", "bob", "--acl", aclPath, "--grant", "fly:x", "--no-password"], timeoutSeconds: 30)
        XCTAssertEqual(badGrant.status, 1)
        XCTAssertTrue(badGrant.errors.contains("unknown action 'fly'"), badGrant.errors)
        let again = try await RESPTools.run(binary, ["user", "add", "alice", "--acl", aclPath, "--no-password"], timeoutSeconds: 30)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.errors.contains("exists"), again.errors)
        let fromStdin = try await RESPTools.run(
            binary, ["user", "passwd", "alice", "--acl", aclPath], stdin: "new-password\n", timeoutSeconds: 60)
        XCTAssertEqual(fromStdin.status, 0, fromStdin.errors)
        XCTAssertNotEqual(try String(contentsOfFile: aclPath, encoding: .utf8), file, "a new hash")
    }

    /// redis-benchmark with `--user` and `-a` (its only way to take a password: a test
    /// user on a test machine) runs its SET and GET against a node with users.
    func testRedisBenchmarkLogsInWithUserAndPassword() async throws {
        try await startCluster(nodes: 1)
        let result = try await RESPTools.run(
            try RESPTools.tool("redis-benchmark"),
            ["-h", "127.0.0.1", "-p", String(cluster.respPort(0)), "--user", "admin", "-a", adminPassword, "-t", "set,get", "-n", "200",
             "-c", "4", "-q"], timeoutSeconds: 120)
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("SET:") && result.output.contains("GET:"), result.output + result.errors)
        XCTAssertFalse((result.output + result.errors).contains("NOAUTH") || (result.output + result.errors).contains("WRONGPASS"))
        let refused = try await RESPTools.run(
            try RESPTools.tool("redis-benchmark"),
            ["-h", "127.0.0.1", "-p", String(cluster.respPort(0)), "--user", "alice", "-a", "wrong", "-t", "get", "-n", "10", "-q"],
            timeoutSeconds: 60)
        XCTAssertTrue((refused.output + refused.errors).contains("WRONGPASS") || refused.status != 0, refused.output + refused.errors)
    }

    /// redis-cli's output lines without the blank line it prints after an error.
    static func lines(_ output: String) -> [String] {
        output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static let pythonScript = #"""
        import os, sys
        import redis

        port = int(sys.argv[1])
        client = redis.Redis(host="127.0.0.1", port=port, db=0, username="alice",
                             password=os.environ["QUORUMKV_TEST_PASSWORD"], socket_timeout=20)
        client.execute_command("SELECT", "apples")
        assert client.get("k") == b"apples value", client.get("k")
        try:
            client.set("k", "v")
            raise AssertionError("a write without the grant was accepted")
        except redis.exceptions.NoPermissionError as error:
            assert "no permissions" in str(error), error
        try:
            redis.Redis(host="127.0.0.1", port=port, username="alice", password="wrong", socket_timeout=20).ping()
            raise AssertionError("a wrong password was accepted")
        except redis.exceptions.AuthenticationError:
            pass
        print("redis-py auth: ok")
        """#

    func testACLChangesTakeEffectOnSIGHUPAndTheReloadRouteAndAMalformedFileKeepsTheOldACL() async throws {
        try await startCluster()
        let carolPassword = "carol-\(UUID().uuidString.prefix(8))"
        let carol = basic("carol", carolPassword)
        let before = try await http(0, "GET", "/kv/pears/k", as: carol)
        XCTAssertEqual(before.status, 401)
        try await userCLI(["add", "carol", "--grant", "read:pears"], password: carolPassword)

        // SIGHUP on node 1; node 2 has not reloaded yet.
        cluster.signal(0, SIGHUP)
        try await eventually("node 1 knows carol after SIGHUP", seconds: 30) {
            try await self.http(0, "GET", "/kv/pears/k", as: carol).status == 404
        }
        let notYet = try await http(1, "GET", "/kv/pears/k", as: carol)
        XCTAssertEqual(notYet.status, 401, "node 2 reads the file only when told")

        // The reload route: admin on * only.
        let byAlice = try await http(1, "POST", "/admin/acl/reload", as: basic("alice", alicePassword))
        XCTAssertEqual(byAlice.status, 403, byAlice.text)
        let reload = try await http(1, "POST", "/admin/acl/reload", as: basic("admin", adminPassword))
        XCTAssertEqual(reload.status, 200, reload.text)
        XCTAssertTrue(reload.text.contains("\"users\":4"), reload.text)
        let after = try await http(1, "GET", "/kv/pears/k", as: carol)
        XCTAssertEqual(after.status, 404, after.text)

        // A malformed file: the reload is refused with the line, the old ACL stays.
        let good = try String(contentsOfFile: aclPath, encoding: .utf8)
        try (good + "user broken maybe\n").write(toFile: aclPath, atomically: true, encoding: .utf8)
        let refused = try await http(1, "POST", "/admin/acl/reload", as: basic("admin", adminPassword))
        XCTAssertEqual(refused.status, 422, refused.text)
        XCTAssertTrue(refused.text.contains("line") && refused.text.contains("previous ACL"), refused.text)
        cluster.signal(0, SIGHUP)
        try await eventually("node 1 logs the refused reload", seconds: 30) {
            self.cluster.log(0).contains("ACL reload failed")
        }
        for node in [0, 1] {
            let still = try await http(node, "GET", "/kv/pears/k", as: carol)
            XCTAssertEqual(still.status, 404, "node \(node + 1) keeps the previous ACL: \(still.text)")
        }

        // Removing a user and reloading revokes it at once.
        try good.write(toFile: aclPath, atomically: true, encoding: .utf8)
        try await userCLI(["remove", "carol"])
        let removed = try await http(1, "POST", "/admin/acl/reload", as: basic("admin", adminPassword))
        XCTAssertEqual(removed.status, 200)
        let gone = try await http(1, "GET", "/kv/pears/k", as: carol)
        XCTAssertEqual(gone.status, 401)
    }

    func testBearerTokensWorkAndTheCLILogsInFromFilesAndTheEnvironment() async throws {
        try await startCluster(nodes: 1)
        let token = try await userCLI(["token", "admin"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let reload = try await http(0, "POST", "/admin/acl/reload", as: basic("admin", adminPassword))
        XCTAssertEqual(reload.status, 200)
        let put = try await http(0, "PUT", "/kv/apples/t", as: [("Authorization", "Bearer \(token)")], body: "by token")
        XCTAssertEqual(put.status, 204, put.text)
        let wrongToken = try await http(0, "GET", "/kv/apples/t", as: [("Authorization", "Bearer qkv_0000")])
        XCTAssertEqual(wrongToken.status, 401)

        let passwordFile = "\(directory)/alice.pw"
        FileManager.default.createFile(atPath: passwordFile, contents: Data(alicePassword.utf8), attributes: [.posixPermissions: 0o600])
        let binary = try ClusterHarness.quorumkvBinary()
        let get = try await RESPTools.run(
            binary, ["get", "t", "--bucket", "apples", "--endpoint", cluster.endpoint(0), "--user", "alice", "--password-file", passwordFile],
            timeoutSeconds: 30)
        XCTAssertEqual(get.output, "by token", get.errors)
        let viaEnvironment = try await RESPTools.run(
            binary, ["put", "t", "x", "--bucket", "apples", "--endpoint", cluster.endpoint(0)], timeoutSeconds: 30,
            environment: ["QUORUMKV_USER": "alice", "QUORUMKV_PASSWORD": alicePassword])
        XCTAssertNotEqual(viaEnvironment.status, 0, "alice may not write")
        XCTAssertTrue(viaEnvironment.errors.contains("forbidden") || viaEnvironment.output.contains("forbidden"), viaEnvironment.errors)
    }

    func testTheDefaultUserWorksOnALoopbackListenerOnly() async throws {
        // A file that leaves `default` on.
        try await userCLI(["remove", "default"])
        try await startCluster(nodes: 1, bindHost: "127.0.0.1")
        let loopback = try await http(0, "PUT", "/kv/apples/d", body: "default here")
        XCTAssertEqual(loopback.status, 204, loopback.text)
        let cliLoopback = try await redisCLI(0, user: nil, password: nil, stdin: "SELECT apples\nGET d\n")
        XCTAssertEqual(cliLoopback.output, "OK\ndefault here\n")
        cluster.shutdown()

        // The same file on a wildcard listener: clients still come from 127.0.0.1, but the
        // listener is not loopback, so they must log in.
        try await startCluster(nodes: 1, bindHost: "0.0.0.0")
        let wildcard = try await http(0, "GET", "/kv/apples/d")
        XCTAssertEqual(wildcard.status, 401, wildcard.text)
        let cliWildcard = try await redisCLI(0, user: nil, password: nil, stdin: "GET d\n")
        XCTAssertEqual(Self.lines(cliWildcard.output), ["NOAUTH Authentication required."])
    }

    func testAMalformedFileStopsTheNodeFromStarting() async throws {
        try "user alice on\nuser alice off\n".write(toFile: aclPath, atomically: true, encoding: .utf8)
        let ports = try ClusterHarness.freePorts(2)
        let result = try await RESPTools.run(
            try ClusterHarness.quorumkvBinary(),
            ["serve", "--node-id", "n1", "--http", "127.0.0.1:\(ports[0])", "--peer", "127.0.0.1:\(ports[1])",
             "--data-dir", "\(directory)/data", "--acl", aclPath], timeoutSeconds: 60)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("line 2") && result.errors.contains("defined twice"), result.errors)
    }
}
