import Foundation
import XCTest

/// `quorumkv serve` settings: a config file, `QUORUMKV_*` variables and flags, each
/// overriding the one before, as `--print-config` shows them (without starting a node).
final class ServeConfigTests: XCTestCase {
    private func printConfig(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIRunner.Run {
        try await CLIRunner(environment: environment).run(["serve", "--print-config"] + arguments, seconds: 30)
    }

    func testFlagsOverrideTheEnvironmentWhichOverridesTheFile() async throws {
        let directory = NSTemporaryDirectory() + "quorumkv-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/node.json"
        try Data("""
            {"node_id": "from-file", "http": "127.0.0.1:7001", "peer": "127.0.0.1:7002", "partitions": 32,
             "sync": "normal", "read_repair": "0.25", "members": ["from-file=127.0.0.1:7002", "other=127.0.0.1:7012"]}
            """.utf8).write(to: URL(fileURLWithPath: file))

        let run = try await printConfig(
            ["--config", file, "--http", "127.0.0.1:7101"],
            environment: ["QUORUMKV_HTTP": "127.0.0.1:7201", "QUORUMKV_PARTITIONS": "16", "QUORUMKV_SLOPPY_QUORUM": "off"])
        XCTAssertEqual(run.status, 0, run.description)
        let settings = run.json
        XCTAssertEqual(settings["node_id"] as? String, "from-file", "only the file sets it")
        XCTAssertEqual(settings["http"] as? String, "127.0.0.1:7101", "the flag beats the variable and the file")
        XCTAssertEqual(settings["partitions"] as? Int, 16, "the variable beats the file")
        XCTAssertEqual(settings["sloppy_quorum"] as? String, "off")
        XCTAssertEqual(settings["sync"] as? String, "normal")
        XCTAssertEqual(settings["read_repair"] as? String, "0.25")
        XCTAssertEqual(settings["members"] as? [String], ["from-file=127.0.0.1:7002", "other=127.0.0.1:7012"])
        XCTAssertEqual(settings["tombstone_grace_ms"] as? Int, 86_400_000, "defaults are shown too")
        XCTAssertEqual(settings["data_dir"] as? String, "./data/from-file")

        // The output is itself a config file that gives the same settings.
        let printed = directory + "/printed.json"
        try Data(run.stdout).write(to: URL(fileURLWithPath: printed))
        let again = try await printConfig(["--config", printed])
        XCTAssertEqual(again.status, 0, again.description)
        XCTAssertEqual(again.text, run.text)
    }

    func testBadSettingsAreUsageErrorsNamingTheSource() async throws {
        let badNumber = try await printConfig(["--node-id", "n1"], environment: ["QUORUMKV_PARTITIONS": "many"])
        XCTAssertEqual(badNumber.status, 2, badNumber.description)
        XCTAssertTrue(badNumber.stderr.contains("QUORUMKV_PARTITIONS=many is not a whole number"), badNumber.stderr)

        let noID = try await printConfig([])
        XCTAssertEqual(noID.status, 2, noID.description)
        XCTAssertTrue(noID.stderr.contains("QUORUMKV_NODE_ID"), noID.stderr)

        let both = try await printConfig(["--node-id", "n1", "--join", "127.0.0.1:9081", "--member", "n1=127.0.0.1:9081"])
        XCTAssertEqual(both.status, 2, both.description)
        XCTAssertTrue(both.stderr.contains("--join and --member exclude each other"), both.stderr)
    }

    func testAPortInUseIsAStartFailureThatNamesTheListener() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, listen(fd, 1) == 0, getsockname(fd, raw, &length) == 0 else {
                    throw HarnessError("could not hold a port")
                }
            }
        }
        let busy = Int(UInt16(bigEndian: address.sin_port))
        let directory = NSTemporaryDirectory() + "quorumkv-busy-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let peer = try ClusterHarness.freePorts(1)[0]
        let run = try await CLIRunner().run(
            ["serve", "--node-id", "n1", "--http", "127.0.0.1:\(busy)", "--peer", "127.0.0.1:\(peer)", "--data-dir", directory],
            seconds: 30)
        XCTAssertEqual(run.status, 1, "a node that can't bind exits 1, as its help says: \(run)")
        XCTAssertTrue(run.stderr.contains("the HTTP listener could not bind 127.0.0.1:\(busy)"), run.stderr)
    }
}
