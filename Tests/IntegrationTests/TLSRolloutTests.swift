import Foundation
import XCTest

/// The documented rollout (docs/security.md): a running plaintext-peer cluster moves to
/// mutual TLS one node at a time, `off` → `accept` → `require`, and after every single
/// restart every node still reaches every peer and a write reaches all three replicas.
final class TLSRolloutTests: XCTestCase {
    private var cluster: ClusterHarness!

    override func tearDown() async throws {
        cluster?.shutdown()
        cluster = nil
    }

    func testClusterMovesToPeerTLSOneNodeAtATime() async throws {
        let root = NSTemporaryDirectory() + "quorumkv-rollout-\(UUID().uuidString.prefix(8))"
        let certificates = try TestCertificates(directory: "\(root)/tls")
        let ca = try await certificates.makeCA("ca")
        var tlsArguments: [String: [String]] = [:]
        for id in ["node1", "node2", "node3"] {
            let issued = try await certificates.issue(node: id, ca: "ca", out: "nodes")
            tlsArguments[id] = ["--tls-cert", issued.certificate, "--tls-key", issued.key, "--tls-ca", ca]
        }
        func arguments(_ id: String, _ mode: String) -> [String] { tlsArguments[id]! + ["--peer-tls", mode] }
        cluster = try await ClusterHarness(
            nodes: 3, nodeArguments: Dictionary(uniqueKeysWithValues: tlsArguments.keys.map { ($0, arguments($0, "off")) }),
            httpsTrust: try TestCertificates.clientTrusting(ca), root: root)
        var written = 0
        for mode in ["accept", "require"] {
            for index in 0..<3 {
                let id = cluster.nodes[index].id
                cluster.signal(index, SIGTERM)
                cluster.nodeArguments[id] = arguments(id, mode)
                try await cluster.restart(index)
                try await cluster.waitUntilConnected(seconds: 60)
                // Through every node, so every node's outbound links (plaintext or TLS,
                // whichever its peer takes now) carry a write to all three replicas.
                for coordinator in 0..<3 {
                    written += 1
                    let key = "rollout-\(written)"
                    try await eventually("\(key) through node\(coordinator + 1) reaches all replicas after \(id) moved to \(mode)", seconds: 30) {
                        try await self.cluster.client(coordinator).put(key, mode, query: [("w", "3"), ("timeout", "1000")]).status == 204
                    }
                }
            }
        }
        // Now every node requires TLS: a plaintext peer gets nothing.
        let reply = try RawSocket.exchange(port: cluster.nodes[0].peerPort, send: Array(repeating: 0, count: 32))
        XCTAssertEqual(reply, "")
        let read = try await cluster.client(2).get("rollout-1", query: [("r", "3")])
        XCTAssertEqual(read.text, "accept")
    }
}
