import Foundation
import QuorumNode
import XCTest

/// Secure by default, with real processes: `serve` refuses a non-loopback listener without
/// users and TLS unless `--insecure`, and `cluster up --secure` makes and reuses a CA,
/// certificates, an ACL and an admin password, and serves HTTPS that needs a login.
final class SecureDefaultTests: XCTestCase {
    private var root = ""
    /// Processes this test started, killed in tearDown if a failed assertion left them.
    private var started: [Process] = []

    override func setUp() async throws {
        root = NSTemporaryDirectory() + "quorumkv-securedefault-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        for process in started where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for pid in Self.serveProcesses(mentioning: root) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: root)
    }

    // MARK: - serve

    func testAWildcardListenerWithoutUsersAndTLSIsRefusedInOneLineAndBindsNothing() async throws {
        let ports = try ClusterHarness.freePorts(2)
        let run = try await CLIRunner().run(
            ["serve", "--node-id", "n1", "--http", "0.0.0.0:\(ports[0])", "--peer", "127.0.0.1:\(ports[1])", "--data-dir", "\(root)/n1"],
            seconds: 30)
        XCTAssertEqual(run.status, 2, run.description)
        XCTAssertEqual(
            run.stderr,
            "error: --http 0.0.0.0:\(ports[0]) is not loopback and the node has no --acl and no TLS; give --acl and "
                + "--tls-cert/--tls-key (docs/security.md), or --insecure to serve in plain text without users\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(root)/n1"), "refused before the data directory is touched")
        for port in ports { XCTAssertTrue(Self.canBind(port: port), "port \(port) is still free: the node bound nothing") }

        let printed = try await CLIRunner().run(
            ["serve", "--print-config", "--node-id", "n1", "--resp", "[::]:\(ports[0])"], seconds: 30)
        XCTAssertEqual(printed.status, 2, "--print-config checks the same rule: \(printed)")
        XCTAssertTrue(printed.stderr.hasPrefix("error: --resp [::]:\(ports[0]) is not loopback"), printed.stderr)
    }

    func testInsecureStartsOnAWildcardAddressWithOneWarning() async throws {
        let ports = try ClusterHarness.freePorts(2)
        let printed = try await CLIRunner(environment: ["QUORUMKV_INSECURE": "true"]).run(
            ["serve", "--print-config", "--node-id", "n1", "--http", "0.0.0.0:\(ports[0])"], seconds: 30)
        XCTAssertEqual(printed.status, 0, printed.description)
        XCTAssertEqual(printed.json["insecure"] as? Bool, true, "QUORUMKV_INSECURE is a setting like the others")

        let log = "\(root)/n1.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ClusterHarness.quorumkvBinary())
        process.arguments = [
            "serve", "--node-id", "n1", "--http", "0.0.0.0:\(ports[0])", "--peer", "127.0.0.1:\(ports[1])",
            "--data-dir", "\(root)/n1", "--insecure",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        started.append(process)
        try await eventually("the insecure node answers /health", seconds: 30) {
            guard process.isRunning else { throw HarnessError("the node exited: \(Self.text(log))") }
            return try await TestClient(base: "http://127.0.0.1:\(ports[0])").request("GET", "/health", timeoutMilliseconds: 1000).status == 200
        }
        let warnings = Self.text(log).split(separator: "\n").filter { $0.contains("--insecure:") }
        XCTAssertEqual(warnings.count, 1, Self.text(log))
        XCTAssertTrue(warnings.first?.contains("warning") == true && warnings.first?.contains("is not loopback") == true, Self.text(log))
        kill(process.processIdentifier, SIGTERM)
        try await eventually("the node stops on SIGTERM", seconds: 30) { !process.isRunning }
        XCTAssertEqual(process.terminationStatus, 0)
    }

    // MARK: - cluster up --secure

    func testClusterUpSecureMakesPrivateFilesServesHTTPSWithLoginsAndReusesThePassword() async throws {
        let data = "\(root)/data"
        let base = try Self.freeConsecutivePorts(2, apart: 3)
        let arguments = [
            "cluster", "up", "--nodes", "2", "--data", data, "--http-port", String(base), "--resp-port", String(base + 2),
            "--peer-port", String(base + 4), "--partitions", "8", "--sync", "normal",
        ]

        let first = try await startCluster(arguments + ["--secure"], log: "\(root)/up1.log")
        let files = ["admin.password", "admin.netrc", "acl.txt", "ca-key.pem", "tls/node1-key.pem", "tls/node2-key.pem"]
        for file in files {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(data)/\(file)")[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600, "\(file) is private")
        }
        let password = try String(contentsOfFile: "\(data)/admin.password", encoding: .utf8)
            .trimmingCharacters(in: .newlines)
        XCTAssertGreaterThanOrEqual(password.count, 20)
        let output = Self.text("\(root)/up1.log")
        XCTAssertFalse(output.contains(password), "the password is never printed")
        XCTAssertTrue(output.contains("https://127.0.0.1:\(base)") && output.contains("rediss://127.0.0.1:\(base + 2)"), output)
        try await checkLogins(port: base, password: password, data: data)
        try await stopCluster(first, data: data)

        // Again, without --secure: the folder stays secured and keeps its password.
        let second = try await startCluster(arguments, log: "\(root)/up2.log")
        XCTAssertTrue(Self.text("\(root)/up2.log").contains("stays secured"), Self.text("\(root)/up2.log"))
        let again = try String(contentsOfFile: "\(data)/admin.password", encoding: .utf8).trimmingCharacters(in: .newlines)
        XCTAssertEqual(again, password, "a rerun never replaces the password")
        try await checkLogins(port: base + 1, password: password, data: data)
        try await stopCluster(second, data: data)
    }

    /// HTTPS trusting the cluster's CA: no login is 401, admin's login writes and reads.
    private func checkLogins(port: Int, password: String, data: String) async throws {
        let client = TestClient(base: "https://127.0.0.1:\(port)", tls: try TestCertificates.clientTrusting("\(data)/ca.pem"))
        let anonymous = try await client.request("GET", "/kv/default/greeting")
        XCTAssertEqual(anonymous.status, 401, anonymous.text)
        let login = [("Authorization", KVHTTPClient.basicAuthorization(user: "admin", password: Array(password.utf8)))]
        let written = try await client.request("PUT", "/kv/default/greeting", query: [("w", "all")], headers: login, body: Array("hi".utf8))
        XCTAssertEqual(written.status, 204, written.text)
        let read = try await client.request("GET", "/kv/default/greeting", query: [("r", "all")], headers: login)
        XCTAssertEqual(read.status, 200, read.text)
        XCTAssertEqual(read.text, "hi")
    }

    /// Starts `quorumkv <arguments>` (a `cluster up`) and waits until it says the cluster is up.
    private func startCluster(_ arguments: [String], log: String) async throws -> Process {
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ClusterHarness.quorumkvBinary())
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        started.append(process)
        try await eventually("cluster up says the cluster is up", seconds: 90) {
            guard process.isRunning else { throw HarnessError("cluster up exited: \(Self.text(log))") }
            return Self.text(log).contains("is up, secured")
        }
        return process
    }

    /// SIGTERM to `cluster up`; it must stop every node it started and exit 0.
    private func stopCluster(_ process: Process, data: String) async throws {
        kill(process.processIdentifier, SIGTERM)
        try await eventually("cluster up exits on SIGTERM", seconds: 30) { !process.isRunning }
        XCTAssertEqual(process.terminationStatus, 0)
        try await eventually("no node of the cluster still runs", seconds: 15) { Self.serveProcesses(mentioning: data).isEmpty }
    }

    // MARK: - helpers

    static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// `quorumkv serve` processes whose command line mentions `path`.
    static func serveProcesses(mentioning path: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.contains("serve") && words.contains(where: { $0.contains(path) }) ? pid : nil
        }
    }

    static func canBind(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = 0  // INADDR_ANY: also conflicts with a 127.0.0.1 bind
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A base port such that `base + k` is free for k in 0..<(count * apart): `cluster up`
    /// counts each node's ports up from a base.
    static func freeConsecutivePorts(_ count: Int, apart: Int) throws -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000...60_000)
            if (0..<(count * apart)).allSatisfy({ canBind(port: base + $0) }) { return base }
        }
        throw HarnessError("no run of \(count * apart) free ports found")
    }
}
