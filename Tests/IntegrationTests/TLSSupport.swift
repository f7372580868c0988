import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import QuorumCore
import QuorumNode
import QuorumTLS
import XCTest

/// Certificates for TLS tests, made at run time by `quorumkv cert init|issue` (the code
/// under test), in the test's own folder: nothing is committed.
struct TestCertificates {
    let directory: String
    let executable: String

    init(directory: String) throws {
        self.directory = directory
        executable = try ClusterHarness.quorumkvBinary()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// `cert init --dir <directory>/<name>`; returns the CA certificate's path.
    @discardableResult
    func makeCA(_ name: String) async throws -> String {
        let run = try await CLIRunner().run(["cert", "init", "--dir", "\(directory)/\(name)", "--common-name", "QuorumKV test \(name)"])
        guard run.status == 0 else { throw HarnessError("cert init failed: \(run)") }
        return "\(directory)/\(name)/ca.pem"
    }

    /// `cert issue` from CA `ca` into `<directory>/<out>`; returns the certificate and key paths.
    @discardableResult
    func issue(node: String, ca: String, out: String) async throws -> (certificate: String, key: String) {
        let run = try await CLIRunner().run([
            "cert", "issue", "--ca-dir", "\(directory)/\(ca)", "--node", node, "--dns", "localhost", "--ip", "127.0.0.1",
            "--out", "\(directory)/\(out)",
        ])
        guard run.status == 0 else { throw HarnessError("cert issue failed: \(run)") }
        return ("\(directory)/\(out)/\(node).pem", "\(directory)/\(out)/\(node)-key.pem")
    }

    /// A client context trusting only the CA file(s) at `caPath`.
    static func clientTrusting(_ caPath: String) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        return try NIOSSLContext(configuration: configuration)
    }
}

/// Reading `/metrics` for TLS counters.
enum TLSMetricsReader {
    /// The value of `quorumkv_tls_handshake_failures_total` with these labels, 0 when absent.
    static func failures(_ cluster: ClusterHarness, node: Int, port: String, reason: String) async throws -> Double {
        let text = try await cluster.client(node).request("GET", "/metrics").text
        return value(in: text, name: "quorumkv_tls_handshake_failures_total", labels: ["port=\"\(port)\"", "reason=\"\(reason)\""])
    }

    static func value(in text: String, name: String, labels: [String]) -> Double {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") {
            guard labels.allSatisfy({ line.contains($0) }), let last = line.split(separator: " ").last else { continue }
            return Double(last) ?? 0
        }
        return 0
    }
}

/// A peer as another node would dial it, from inside the test process: the real
/// `PeerClient` with chosen certificate, CA bundle and claimed node id.
enum TestPeer {
    /// Sends one (undecodable) request to `port` as `claimedNodeID` and says whether any
    /// answer came back: an answer, even an error answer, means the connection was accepted.
    static func isAccepted(
        port: Int, expectedNodeID: String, claimedNodeID: String, certificate: String, key: String, caPath: String
    ) async throws -> Bool {
        let material = try ReloadableTLS(files: TLSFiles(certificatePath: certificate, keyPath: key, caPath: caPath))
        let group = MultiThreadedEventLoopGroup.singleton
        let client = PeerClient(
            nodeID: expectedNodeID, host: "127.0.0.1", port: port, group: group,
            hello: PeerHello(nodeID: claimedNodeID, clusterDigest: PeerHello.clusterDigest(partitionCount: 64)),
            logger: .init(label: "test-peer"), tls: PeerTLS(mode: .require, material: material))
        let accepted: Bool
        do {
            _ = try await client.request([0xFF], timeout: .seconds(5)).get()
            accepted = true
        } catch {
            accepted = false
        }
        await client.close()
        return accepted
    }
}
