import Foundation
import XCTest

/// `quorumkv cert init|issue` as a user runs them, checked by an independent verifier
/// (openssl, when installed): the chain verifies, the SANs and usages are there, keys are 0600.
final class CertCommandTests: XCTestCase {
    func testInitAndIssueMakeChainsThatVerify() async throws {
        let directory = NSTemporaryDirectory() + "quorumkv-cert-cli-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = try TestCertificates(directory: directory)
        let ca = try await certificates.makeCA("ca")
        let issued = try await certificates.issue(node: "node1", ca: "ca", out: "nodes")
        for key in ["\(directory)/ca/ca-key.pem", issued.key] {
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber
            XCTAssertEqual(mode?.intValue, 0o600, "\(key) must be private")
        }
        let again = try await CLIRunner().run(["cert", "init", "--dir", "\(directory)/ca"])
        XCTAssertEqual(again.status, 1, "an existing CA is not overwritten: \(again)")
        XCTAssertTrue(again.stderr.contains("already exists"), again.stderr)

        let openssl = try RESPTools.tool("openssl")
        let verify = try await RESPTools.run(openssl, ["verify", "-CAfile", ca, issued.certificate], timeoutSeconds: 30)
        XCTAssertEqual(verify.status, 0, verify.output + verify.errors)
        XCTAssertTrue(verify.output.contains("OK"), verify.output)
        let text = try await RESPTools.run(openssl, ["x509", "-in", issued.certificate, "-noout", "-text"], timeoutSeconds: 30)
        XCTAssertTrue(text.output.contains("DNS:node1"), text.output)
        XCTAssertTrue(text.output.contains("IP Address:127.0.0.1"), text.output)
        XCTAssertTrue(text.output.contains("TLS Web Server Authentication"), text.output)
        XCTAssertTrue(text.output.contains("TLS Web Client Authentication"), text.output)

        // A certificate from another CA does not verify against this one.
        let other = try await certificates.makeCA("other")
        let stranger = try await certificates.issue(node: "node2", ca: "other", out: "other-nodes")
        let refused = try await RESPTools.run(openssl, ["verify", "-CAfile", ca, stranger.certificate], timeoutSeconds: 30)
        XCTAssertNotEqual(refused.status, 0)
        // A bundle of both CAs (rotation) verifies both.
        let bundle = try String(contentsOfFile: ca, encoding: .utf8) + String(contentsOfFile: other, encoding: .utf8)
        try bundle.write(toFile: "\(directory)/bundle.pem", atomically: true, encoding: .utf8)
        let both = try await RESPTools.run(
            openssl, ["verify", "-CAfile", "\(directory)/bundle.pem", issued.certificate, stranger.certificate], timeoutSeconds: 30)
        XCTAssertEqual(both.status, 0, both.output + both.errors)
    }
}
