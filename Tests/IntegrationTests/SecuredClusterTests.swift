import Foundation
import XCTest

/// Users and TLS together, as a secured cluster runs: three nodes with certificates from
/// `quorumkv cert`, mutual TLS between them and an ACL from `quorumkv user`; redis-cli
/// with `--tls --cacert --user` (the password in `REDISCLI_AUTH`, never on a command line)
/// and curl with `--cacert --netrc-file`. Each assertion fails when its rule is broken.
final class SecuredClusterTests: XCTestCase {
    private var cluster: ClusterHarness!
    private var root = ""
    private var caPath: String { "\(root)/tls/ca/ca.pem" }
    private var aclPath: String { "\(root)/acl.txt" }
    private let alicePassword = "alice-\(UUID().uuidString.prefix(12))"

    override func setUp() async throws {
        _ = try RESPTools.tool("redis-cli")
        _ = try RESPTools.tool("curl")
        root = NSTemporaryDirectory() + "quorumkv-secured-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let certificates = try TestCertificates(directory: "\(root)/tls")
        try await certificates.makeCA("ca")
        var nodeArguments: [String: [String]] = [:]
        for id in ["node1", "node2", "node3"] {
            let issued = try await certificates.issue(node: id, ca: "ca", out: "nodes")
            nodeArguments[id] = ["--tls-cert", issued.certificate, "--tls-key", issued.key]
        }
        let passwordFile = "\(root)/alice.pw"
        FileManager.default.createFile(
            atPath: passwordFile, contents: Data((alicePassword + "\n").utf8), attributes: [.posixPermissions: 0o600])
        for arguments in [["add", "alice", "--grant", "read,write:default", "--grant", "read:apples", "--password-file", passwordFile], ["add", "default", "--disabled"]] {
            let run = try await CLIRunner().run(["user"] + arguments + ["--acl", aclPath], seconds: 120)
            XCTAssertEqual(run.status, 0, run.description)
        }
        cluster = try await ClusterHarness(
            nodes: 3, extraArguments: ["--tls-ca", caPath, "--peer-tls", "require", "--acl", aclPath],
            nodeArguments: nodeArguments, httpsTrust: try TestCertificates.clientTrusting(caPath), root: root)
    }

    override func tearDown() async throws {
        cluster?.shutdown()
        cluster = nil
    }

    private func redisCLI(_ node: Int, user: String?, password: String?, _ arguments: String...) async throws -> String {
        var all = ["--tls", "--cacert", caPath, "-h", "127.0.0.1", "-p", String(cluster.respPort(node))]
        if let user { all += ["--user", user] }
        let result = try await RESPTools.run(
            try RESPTools.tool("redis-cli"), all + arguments, timeoutSeconds: 30,
            environment: password.map { ["REDISCLI_AUTH": $0] } ?? [:])
        return (result.output + result.errors).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testRedisCliAndCurlLogInOverTLSAndGrantsHold() async throws {
        let set = try await redisCLI(0, user: "alice", password: alicePassword, "SET", "k", "v", "W", "3")
        XCTAssertTrue(set.hasSuffix("OK"), set)
        let read = try await redisCLI(1, user: "alice", password: alicePassword, "GET", "k", "R", "3")
        XCTAssertTrue(read.hasSuffix("v"), "a write through one node reads back through another, all over TLS: \(read)")
        let anonymous = try await redisCLI(2, user: nil, password: nil, "GET", "k")
        XCTAssertTrue(anonymous.contains("NOAUTH"), anonymous)
        let wrong = try await redisCLI(2, user: "alice", password: "not-her-password", "GET", "k")
        XCTAssertTrue(wrong.contains("WRONGPASS") || wrong.contains("AUTH failed"), wrong)
        let notGranted = try await redisCLI(2, user: "alice", password: alicePassword, "FLUSHALL")
        XCTAssertTrue(notGranted.contains("NOPERM"), "alice has no admin grant: \(notGranted)")

        let netrc = "\(root)/netrc"
        FileManager.default.createFile(
            atPath: netrc, contents: Data("machine 127.0.0.1 login alice password \(alicePassword)\n".utf8),
            attributes: [.posixPermissions: 0o600])
        func curl(_ path: String, netrc: String?) async throws -> String {
            let output = try await RESPTools.run(
                try RESPTools.tool("curl"),
                ["--silent", "--max-time", "10", "--cacert", caPath, "-w", "\n%{http_code}"] + (netrc.map { ["--netrc-file", $0] } ?? [])
                    + ["https://127.0.0.1:\(cluster.nodes[2].httpPort)\(path)"],
                timeoutSeconds: 30)
            return output.output
        }
        let written = try await curl("/kv/default/k?r=3", netrc: netrc)
        XCTAssertEqual(written, "v\n200", "what redis-cli wrote, read over HTTPS as alice")
        let absent = try await curl("/kv/apples/k?r=3", netrc: netrc)
        XCTAssertTrue(absent.hasSuffix("\n404"), "a granted read of an absent key: \(absent)")
        let refused = try await curl("/kv/pears/k?r=3", netrc: netrc)
        XCTAssertTrue(refused.hasSuffix("\n403"), "bucket pears is not granted to alice: \(refused)")
        let unauthenticated = try await curl("/kv/default/k", netrc: nil)
        XCTAssertTrue(unauthenticated.hasSuffix("\n401"), unauthenticated)
    }
}
