import Foundation
import XCTest

/// The TLS settings of `quorumkv serve`: what goes together, what the defaults are, and
/// that a node with unusable TLS files refuses to start and says which file.
final class TLSConfigTests: XCTestCase {
    private let base = ["serve", "--node-id", "n1", "--member", "n1=127.0.0.1:9"]

    func testSettingsThatMustGoTogether() async throws {
        let runner = try CLIRunner()
        let certificateOnly = try await runner.run(base + ["--print-config", "--tls-cert", "c.pem"], seconds: 30)
        XCTAssertEqual(certificateOnly.status, 2, certificateOnly.description)
        XCTAssertTrue(certificateOnly.stderr.contains("--tls-cert and --tls-key go together"), certificateOnly.stderr)
        let caOnly = try await runner.run(base + ["--print-config", "--tls-ca", "ca.pem"], seconds: 30)
        XCTAssertEqual(caOnly.status, 2, caOnly.description)
        let requireWithoutCA = try await runner.run(
            base + ["--print-config", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--peer-tls", "require"], seconds: 30)
        XCTAssertEqual(requireWithoutCA.status, 2, requireWithoutCA.description)
        XCTAssertTrue(requireWithoutCA.stderr.contains("--tls-ca"), requireWithoutCA.stderr)
        let badMode = try await runner.run(base + ["--print-config", "--peer-tls", "maybe"], seconds: 30)
        XCTAssertEqual(badMode.status, 2, badMode.description)
    }

    func testDefaultsAndTheCABundleTurningPeerTLSOn() async throws {
        let runner = try CLIRunner()
        let plain = try await runner.run(base + ["--print-config"], seconds: 30)
        XCTAssertEqual(plain.json["peer_tls"] as? String, "off")
        XCTAssertEqual(plain.json["tls_handshake_timeout_ms"] as? Int, 10_000)
        let withCA = try await runner.run(
            base + ["--print-config", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem"], seconds: 30)
        XCTAssertEqual(withCA.status, 0, withCA.description)
        XCTAssertEqual(withCA.json["peer_tls"] as? String, "require", "a CA bundle turns mutual TLS on by default")
        XCTAssertEqual(withCA.json["tls_ca"] as? String, "ca.pem")
    }

    func testUnreadableFilesStopTheStartNamingTheFile() async throws {
        let directory = NSTemporaryDirectory() + "quorumkv-tls-config-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try await CLIRunner().run(
            base + ["--data-dir", directory, "--http", "127.0.0.1:0", "--peer", "127.0.0.1:0",
                    "--tls-cert", "\(directory)/missing.pem", "--tls-key", "\(directory)/missing-key.pem"], seconds: 30)
        XCTAssertEqual(run.status, 1, run.description)
        XCTAssertTrue(run.stderr.contains("missing.pem"), run.stderr)
    }
}
