import QuorumNode
import XCTest

/// Secure by default: each case of `ListenerExposure.decide`, the rule `serve` applies
/// before it opens a port.
final class ListenerExposureTests: XCTestCase {
    private typealias Listener = ListenerExposure.Listener

    private func protection(
        acl: Bool = false, tls: Bool = false, ca: Bool = false, peerOff: Bool = false, insecure: Bool = false
    ) -> ListenerExposure.Protection {
        ListenerExposure.Protection(acl: acl, tls: tls, tlsCA: ca, peerTLSOff: peerOff, insecure: insecure)
    }

    private func listeners(http: String = "127.0.0.1", resp: String? = "127.0.0.1", peer: String = "127.0.0.1") -> [Listener] {
        [Listener(flag: "--http", host: http, port: 8081)]
            + (resp.map { [Listener(flag: "--resp", host: $0, port: 6381)] } ?? [])
            + [Listener(flag: "--peer", host: peer, port: 9081, isPeer: true)]
    }

    private func refusal(_ decision: ListenerExposure.Decision, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard case .refused(let message) = decision else {
            XCTFail("expected a refusal, got \(decision)", file: file, line: line)
            return ""
        }
        XCTAssertFalse(message.contains("\n"), "one line", file: file, line: line)
        return message
    }

    func testLoopbackAddresses() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"] {
            XCTAssertTrue(ListenerExposure.isLoopback(host: host), host)
        }
        for host in ["0.0.0.0", "::", "[::]", "10.0.0.1", "128.0.0.1", "::2", "qkv1", "node1.example", "", "localhost.example"] {
            XCTAssertFalse(ListenerExposure.isLoopback(host: host), host)
        }
    }

    func testLoopbackOnlyNeedsNothing() {
        XCTAssertEqual(ListenerExposure.decide(listeners: listeners(), protection: protection()), .allowed)
        XCTAssertEqual(ListenerExposure.decide(listeners: listeners(http: "::1", resp: nil, peer: "localhost"), protection: protection()), .allowed)
    }

    func testAWildcardHTTPListenerWithoutACLOrTLSIsRefusedWithTheFix() {
        let message = refusal(ListenerExposure.decide(listeners: listeners(http: "0.0.0.0"), protection: protection()))
        XCTAssertEqual(
            message,
            "--http 0.0.0.0:8081 is not loopback and the node has no --acl and no TLS; give --acl and --tls-cert/--tls-key "
                + "(docs/security.md), or --insecure to serve in plain text without users")
    }

    func testEveryExposedListenerIsNamed() {
        let message = refusal(ListenerExposure.decide(listeners: listeners(http: "::", resp: "0.0.0.0", peer: "10.0.0.1"), protection: protection()))
        XCTAssertTrue(message.hasPrefix("--http [::]:8081, --resp 0.0.0.0:6381, --peer 10.0.0.1:9081 are not loopback"), message)
        XCTAssertTrue(message.contains("give --acl and --tls-cert/--tls-key/--tls-ca (docs"), message)
        let noCA = refusal(ListenerExposure.decide(listeners: listeners(peer: "10.0.0.1"), protection: protection(peerOff: true)))
        XCTAssertFalse(noCA.contains("--peer-tls"), "without a CA the peer port is off anyway; --tls-ca is the fix: \(noCA)")
    }

    func testACLAloneOrTLSAloneIsNotEnough() {
        let tlsMissing = refusal(ListenerExposure.decide(listeners: listeners(resp: "0.0.0.0"), protection: protection(acl: true)))
        XCTAssertTrue(tlsMissing.contains("the node has no TLS; give --tls-cert/--tls-key"), tlsMissing)
        XCTAssertTrue(tlsMissing.hasSuffix("--insecure to serve in plain text"), tlsMissing)
        let aclMissing = refusal(ListenerExposure.decide(listeners: listeners(http: "10.1.2.3"), protection: protection(tls: true)))
        XCTAssertTrue(aclMissing.contains("the node has no --acl; give --acl (docs/security.md)"), aclMissing)
        XCTAssertTrue(aclMissing.hasSuffix("--insecure to serve without users"), aclMissing)
    }

    func testAnExposedClientPortNeedsNoCAWhileThePeerPortIsLoopback() {
        XCTAssertEqual(
            ListenerExposure.decide(listeners: listeners(http: "0.0.0.0", resp: "0.0.0.0"), protection: protection(acl: true, tls: true)),
            .allowed)
    }

    func testAnExposedPeerPortNeedsMutualTLS() {
        let noCA = refusal(ListenerExposure.decide(listeners: listeners(peer: "qkv1"), protection: protection(acl: true, tls: true)))
        XCTAssertTrue(noCA.contains("--peer qkv1:9081 is not loopback and the node has no --tls-ca for the peer port; give --tls-ca"), noCA)
        let off = refusal(
            ListenerExposure.decide(listeners: listeners(peer: "qkv1"), protection: protection(acl: true, tls: true, ca: true, peerOff: true)))
        XCTAssertTrue(off.contains("has --peer-tls off; give --peer-tls require"), off)
        XCTAssertEqual(
            ListenerExposure.decide(listeners: listeners(http: "0.0.0.0", resp: "0.0.0.0", peer: "qkv1"), protection: protection(acl: true, tls: true, ca: true)),
            .allowed, "users, TLS and mutual TLS between peers: the secured deploys")
    }

    func testInsecureStartsWithOneWarning() {
        let decision = ListenerExposure.decide(listeners: listeners(http: "0.0.0.0"), protection: protection(insecure: true))
        guard case .allowedInsecurely(let warning) = decision else { return XCTFail("\(decision)") }
        XCTAssertTrue(warning.contains("--http 0.0.0.0:8081 is not loopback"), warning)
        XCTAssertTrue(warning.contains("anyone who reaches it can read and change every key"), warning)
        XCTAssertFalse(warning.contains("\n"))
        XCTAssertEqual(
            ListenerExposure.decide(listeners: listeners(), protection: protection(insecure: true)), .allowed,
            "--insecure on loopback: nothing to warn about")
        XCTAssertEqual(
            ListenerExposure.decide(listeners: listeners(http: "0.0.0.0"), protection: protection(acl: true, tls: true, insecure: true)),
            .allowed, "--insecure with everything on: nothing to warn about")
    }
}
