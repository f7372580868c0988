import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import XCTest

/// A three-node cluster with TLS on every port, certificates from `quorumkv cert`, driven by
/// real clients (redis-cli, curl, redis-py) and by peers with the wrong certificates. Each
/// test fails when its rule is broken.
final class TLSClusterTests: XCTestCase {
    private var cluster: ClusterHarness!
    private var certificates: TestCertificates!
    private var root = ""
    /// The file every node reads as --tls-ca; tests rewrite it to rotate CAs.
    private var bundlePath: String { "\(root)/tls/bundle.pem" }
    /// Handshake bound of this cluster, short so the deadline test is quick.
    private let handshakeTimeoutMilliseconds = 1500

    override func setUp() async throws {
        _ = try RESPTools.tool("redis-cli")
        _ = try RESPTools.tool("curl")
        root = NSTemporaryDirectory() + "quorumkv-tls-\(UUID().uuidString.prefix(8))"
        certificates = try TestCertificates(directory: "\(root)/tls")
        let ca = try await certificates.makeCA("ca1")
        try FileManager.default.copyItem(atPath: ca, toPath: bundlePath)
        var nodeArguments: [String: [String]] = [:]
        for id in ["node1", "node2", "node3"] {
            let issued = try await certificates.issue(node: id, ca: "ca1", out: "nodes")
            nodeArguments[id] = ["--tls-cert", issued.certificate, "--tls-key", issued.key]
        }
        cluster = try await ClusterHarness(
            nodes: 3,
            extraArguments: ["--tls-ca", bundlePath, "--peer-tls", "require", "--tls-handshake-timeout", String(handshakeTimeoutMilliseconds)],
            nodeArguments: nodeArguments, httpsTrust: try TestCertificates.clientTrusting(ca), root: root)
    }

    override func tearDown() async throws {
        cluster?.shutdown()
        cluster = nil
    }

    private var caPath: String { "\(root)/tls/ca1/ca.pem" }

    private func redisCLI(_ node: Int, ca: String? = nil, _ arguments: String...) async throws -> RESPTools.Result {
        try await RESPTools.run(
            try RESPTools.tool("redis-cli"),
            ["--tls", "--cacert", ca ?? caPath, "-h", "127.0.0.1", "-p", String(cluster.respPort(node))] + arguments,
            timeoutSeconds: 30)
    }

    private func curl(_ node: Int, ca: String? = nil, _ path: String) async throws -> RESPTools.Result {
        try await RESPTools.run(
            try RESPTools.tool("curl"),
            ["--silent", "--show-error", "--fail", "--max-time", "10", "--cacert", ca ?? caPath,
             "https://127.0.0.1:\(cluster.nodes[node].httpPort)\(path)"],
            timeoutSeconds: 30)
    }

    // MARK: - Client ports

    /// Writes to all three replicas (so every peer link carries mutual TLS) through
    /// redis-cli over TLS, reads back through another node, then curl and redis-py.
    func testRedisCliCurlAndRedisPyOverTLS() async throws {
        let set = try await redisCLI(0, "SET", "tls:greeting", "hello over tls", "W", "3")
        XCTAssertEqual(set.output, "OK\n", set.errors)
        let get = try await redisCLI(1, "GET", "tls:greeting", "R", "3")
        XCTAssertEqual(get.output, "hello over tls\n", get.errors)
        let viaCurl = try await curl(2, "/kv/default/tls:greeting?r=3")
        XCTAssertEqual(viaCurl.status, 0, viaCurl.errors)
        XCTAssertEqual(viaCurl.output, "hello over tls")

        let cli = try await CLIRunner(environment: ["QUORUMKV_CACERT": caPath]).run(
            ["get", "tls:greeting", "--r", "3", "--endpoint", cluster.endpoint(1)], seconds: 30)
        XCTAssertEqual(cli.status, 0, cli.description)
        XCTAssertEqual(cli.text, "hello over tls", cli.description)

        let script = "\(root)/tls_client.py"
        try #"""
            import sys, redis
            client = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2], socket_timeout=20)
            assert client.ping() is True
            assert client.set("tls:py", "from python") is True
            assert client.get("tls:greeting") == b"hello over tls"
            print("redis-py over tls: ok")
            """#.write(toFile: script, atomically: true, encoding: .utf8)
        let python = try await RESPTools.run(
            try RESPTools.tool("python3"), [script, String(cluster.respPort(2)), caPath], timeoutSeconds: 60)
        XCTAssertTrue(python.output.contains("redis-py over tls: ok"), python.output + python.errors)
    }

    /// A client trusting another CA is refused: the node presents only its own chain.
    func testClientTrustingAnotherCAIsRefused() async throws {
        let other = try await certificates.makeCA("stranger")
        let refused = try await curl(0, ca: other, "/health")
        XCTAssertNotEqual(refused.status, 0, "curl must not trust a node certificate from another CA")
        let redis = try await redisCLI(0, ca: other, "PING")
        XCTAssertNotEqual(redis.output, "PONG\n")
    }

    /// Plaintext on a TLS port gets no byte back, only the close, and is counted.
    func testPlainTCPOnTLSPortsGetsNothing() async throws {
        let resp = try RawSocket.exchange(port: cluster.respPort(0), send: Array("PING\r\n".utf8), timeoutSeconds: 10)
        XCTAssertEqual(resp, "", "a plaintext RESP client must get nothing")
        let http = try RawSocket.exchange(
            port: cluster.nodes[0].httpPort, send: Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8), timeoutSeconds: 10)
        XCTAssertEqual(http, "", "a plaintext HTTP client must get nothing")
        let peer = try RawSocket.exchange(port: cluster.nodes[0].peerPort, send: Array(repeating: 0, count: 32), timeoutSeconds: 10)
        XCTAssertEqual(peer, "", "a plaintext peer must get nothing from a --peer-tls require node")
        for port in ["resp", "http", "peer"] {
            let counted = try await TLSMetricsReader.failures(cluster, node: 0, port: port, reason: "not_tls")
            XCTAssertGreaterThanOrEqual(counted, 1, "not_tls on \(port) must be counted")
        }
    }

    /// A connection that opens a handshake and stalls is closed on the deadline, counted.
    func testStalledHandshakeIsClosedOnTheDeadline() async throws {
        let started = Date()
        // One byte of a TLS record header: the node waits for the rest, then gives up.
        let reply = try RawSocket.exchange(port: cluster.respPort(1), send: [0x16], timeoutSeconds: 20)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(reply, "")
        XCTAssertGreaterThanOrEqual(elapsed, Double(handshakeTimeoutMilliseconds) / 1000 * 0.9, "closed before the deadline")
        XCTAssertLessThan(elapsed, 15, "a stalled handshake must be closed near its deadline")
        let counted = try await TLSMetricsReader.failures(cluster, node: 1, port: "resp", reason: "handshake_timeout")
        XCTAssertGreaterThanOrEqual(counted, 1)
        let metrics = try await cluster.client(1).request("GET", "/metrics").text
        XCTAssertTrue(metrics.contains("quorumkv_tls_handshake_timeout_seconds 1.5"), "the bound is on /metrics")
    }

    // MARK: - Peer port

    /// Only a certificate from the cluster's CA naming the node id the hello claims gets in;
    /// the dialing side checks the reached node's name. Refusals are counted by reason.
    func testPeerPortAdmitsOnlyTheRightCertificate() async throws {
        let port = cluster.nodes[0].peerPort
        let right = try await certificates.issue(node: "node2", ca: "ca1", out: "visitor")
        let accepted = try await TestPeer.isAccepted(
            port: port, expectedNodeID: "node1", claimedNodeID: "node2", certificate: right.certificate, key: right.key, caPath: caPath)
        XCTAssertTrue(accepted, "a certificate from the cluster CA naming the claimed node must be accepted")

        // The dialing side: node1's certificate does not name node3.
        let wrongServer = try await TestPeer.isAccepted(
            port: port, expectedNodeID: "node3", claimedNodeID: "node2", certificate: right.certificate, key: right.key, caPath: caPath)
        XCTAssertFalse(wrongServer, "a dialer must refuse a node whose certificate does not name the node it meant to reach")

        // A SAN naming another node than the hello claims.
        let impostor = try await certificates.issue(node: "node9", ca: "ca1", out: "impostor")
        let claimed = try await TestPeer.isAccepted(
            port: port, expectedNodeID: "node1", claimedNodeID: "node2", certificate: impostor.certificate, key: impostor.key,
            caPath: caPath)
        XCTAssertFalse(claimed, "a certificate naming node9 must not pass as node2")
        let mismatches = try await TLSMetricsReader.failures(cluster, node: 0, port: "peer", reason: "node_id_mismatch")
        XCTAssertGreaterThanOrEqual(mismatches, 1)

        // A certificate from another CA (the visitor still trusts the cluster's CA).
        try await certificates.makeCA("rogue")
        let rogue = try await certificates.issue(node: "node2", ca: "rogue", out: "rogue")
        let rogueAccepted = try await TestPeer.isAccepted(
            port: port, expectedNodeID: "node1", claimedNodeID: "node2", certificate: rogue.certificate, key: rogue.key, caPath: caPath)
        XCTAssertFalse(rogueAccepted, "a certificate from another CA must be refused")
        try await eventually("the untrusted certificate is counted", seconds: 10) {
            try await TLSMetricsReader.failures(self.cluster, node: 0, port: "peer", reason: "untrusted_certificate") >= 1
        }

        // No client certificate at all.
        let withoutCertificate = try await Self.connectsWithoutClientCertificate(port: port, caPath: caPath)
        XCTAssertFalse(withoutCertificate, "a TLS client without a certificate must be refused")
        try await eventually("the missing client certificate is counted", seconds: 10) {
            try await TLSMetricsReader.failures(self.cluster, node: 0, port: "peer", reason: "no_client_certificate") >= 1
        }
        let log = cluster.log(0)
        XCTAssertFalse(log.contains("PRIVATE KEY"), "no key material in the log")
    }

    /// A TLS client without a certificate: true if the peer port kept the connection open
    /// and answered a hello-sized write within 5 s.
    static func connectsWithoutClientCertificate(port: Int, caPath: String) async throws -> Bool {
        let group = MultiThreadedEventLoopGroup.singleton
        let context = try TestCertificates.clientTrusting(caPath)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "node1"))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var bytes = channel.allocator.buffer(capacity: 16)
        bytes.writeBytes(Array(repeating: UInt8(0), count: 16))
        try? await channel.writeAndFlush(bytes).get()
        let closed = try? await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { try? await channel.closeFuture.get(); return true }
            tasks.addTask { try await Task.sleep(for: .seconds(5)); return false }
            let first = try await tasks.next() ?? false
            tasks.cancelAll()
            return first
        }
        try? await channel.close().get()
        return closed != true
    }

    // MARK: - Reload

    /// CA rotation without a restart: a second CA joins the bundle, node1 gets a
    /// certificate from it, and after SIGHUP a client trusting only the new CA gets in,
    /// as does a peer certificate from the new CA. A broken file keeps the old material.
    func testReloadRotatesCertificatesAndCAsWithoutRestart() async throws {
        let newCA = try await certificates.makeCA("ca2")
        let before = try await curl(0, ca: newCA, "/health")
        XCTAssertNotEqual(before.status, 0, "before the reload node1 presents a certificate from the old CA")
        let newPeer = try await certificates.issue(node: "node2", ca: "ca2", out: "ca2-visitor")
        let peerBefore = try await TestPeer.isAccepted(
            port: cluster.nodes[0].peerPort, expectedNodeID: "node1", claimedNodeID: "node2", certificate: newPeer.certificate,
            key: newPeer.key, caPath: caPath)
        XCTAssertFalse(peerBefore, "a peer certificate from a CA not yet in the bundle is refused")

        // Step 1: both CAs in the bundle everywhere. Step 2: node1's certificate from the new CA.
        let bundle = try String(contentsOfFile: caPath, encoding: .utf8) + String(contentsOfFile: newCA, encoding: .utf8)
        try bundle.write(toFile: bundlePath, atomically: true, encoding: .utf8)
        try await certificates.issue(node: "node1", ca: "ca2", out: "nodes")
        for index in 0..<3 { cluster.signal(index, SIGHUP) }

        try await eventually("node1 presents the new CA's certificate", seconds: 15) {
            try await self.curl(0, ca: newCA, "/health").status == 0
        }
        let peerAfter = try await TestPeer.isAccepted(
            port: cluster.nodes[0].peerPort, expectedNodeID: "node1", claimedNodeID: "node2", certificate: newPeer.certificate,
            key: newPeer.key, caPath: newCA)
        XCTAssertTrue(peerAfter, "after the reload the bundle's new CA is trusted, and node1 chains to it")
        // The node kept running: same process, data still there, peers still reached.
        try await eventually("a write reaches all three replicas after the rotation", seconds: 15) {
            try await self.redisCLI(0, ca: newCA, "SET", "tls:after-reload", "v", "W", "3").output == "OK\n"
        }

        // A broken certificate file: the reload fails, says why, and the old material stays.
        let node3Certificate = "\(root)/tls/nodes/node3.pem"
        try "garbage".write(toFile: node3Certificate, atomically: true, encoding: .utf8)
        cluster.signal(2, SIGHUP)
        try await eventually("node3 logs the failed reload", seconds: 15) {
            self.cluster.log(2).contains("TLS reload failed")
        }
        XCTAssertTrue(cluster.log(2).contains("node3.pem"), "the failure names the file")
        let still = try await curl(2, "/health")
        XCTAssertEqual(still.status, 0, "a failed reload keeps serving the previous certificate: \(still.errors)")
    }
}
