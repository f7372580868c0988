import Crypto
import QuorumTLS
import SwiftASN1
import X509
import XCTest

/// The SAN rule of the peer port: a certificate stands for a node only when a DNS-name SAN
/// is exactly that node's id.
final class PeerIdentityTests: XCTestCase {
    private func certificate(names: [GeneralName], commonName: String = "node1") throws -> Certificate {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName { CommonName(commonName) }
        let extensions = try Certificate.Extensions { SubjectAlternativeNames(names) }
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: Date() - 60,
            notValidAfter: Date() + 3600, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: key)
    }

    func testMatchesTheNamedNodeOnly() throws {
        let cert = try certificate(names: [.dnsName("node1"), .dnsName("localhost")])
        XCTAssertTrue(PeerIdentity.certificate(cert, names: "node1"))
        XCTAssertTrue(PeerIdentity.certificate(cert, names: "NODE1"), "DNS names compare without ASCII case")
        XCTAssertFalse(PeerIdentity.certificate(cert, names: "node2"))
        XCTAssertFalse(PeerIdentity.certificate(cert, names: "node"), "no prefix match")
        XCTAssertFalse(PeerIdentity.certificate(cert, names: "node10"), "no prefix match the other way")
    }

    func testWildcardsAndCommonNamesDoNotCount() throws {
        XCTAssertFalse(PeerIdentity.certificate(try certificate(names: [.dnsName("*")]), names: "node1"))
        XCTAssertFalse(PeerIdentity.certificate(try certificate(names: [.dnsName("*.nodes")]), names: "node1.nodes"))
        XCTAssertFalse(PeerIdentity.certificate(try certificate(names: [.dnsName("other")], commonName: "node1"), names: "node1"))
        XCTAssertFalse(
            PeerIdentity.certificate(try certificate(names: [.uniformResourceIdentifier("quorumkv://node/node1")]), names: "node1"),
            "only DNS-name SANs carry the node id")
    }

    func testDERFormAndNamesForMessages() throws {
        let cert = try certificate(names: [.dnsName("node3")])
        var serializer = DER.Serializer()
        try serializer.serialize(cert)
        XCTAssertTrue(PeerIdentity.certificate(derBytes: serializer.serializedBytes, names: "node3"))
        XCTAssertEqual(PeerIdentity.dnsNames(derBytes: serializer.serializedBytes), ["node3"])
        XCTAssertFalse(PeerIdentity.certificate(derBytes: [0x30, 0x00], names: "node3"), "garbage is no identity")
        XCTAssertEqual(PeerIdentity.requiredName(nodeID: "node3"), "DNS:node3")
    }
}
