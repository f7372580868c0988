import Foundation
import NIOSSL
import QuorumTLS
import X509
import XCTest

/// The development CA: what it issues chains to it (and not to another CA), carries the
/// SANs and usages the peer port needs, and its files are written safely.
final class DevelopmentCATests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = NSTemporaryDirectory() + "quorumkv-tls-unit-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testIssuedCertificateChainsToItsCAAndNotToAnother() async throws {
        let (ca, caKey) = try DevelopmentCA.makeCA(commonName: "test CA")
        let (other, _) = try DevelopmentCA.makeCA(commonName: "test CA")
        let (leaf, _) = try DevelopmentCA.issueCertificate(
            .init(nodeID: "node1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"]), caCertificate: ca, caKey: caKey)

        var verifier = Verifier(rootCertificates: CertificateStore([ca])) { RFC5280Policy(validationTime: Date()) }
        guard case .validCertificate(let chain) = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) else {
            return XCTFail("a certificate issued by the CA must verify against it")
        }
        XCTAssertEqual(chain.count, 2)

        // Same name, different key: chain building must not be fooled by the subject.
        var wrong = Verifier(rootCertificates: CertificateStore([other])) { RFC5280Policy(validationTime: Date()) }
        guard case .couldNotValidate = await wrong.validate(leaf: leaf, intermediates: CertificateStore()) else {
            return XCTFail("a certificate must not verify against another CA")
        }
    }

    func testNodeCertificateNamesTheNodeAndServesBothSides() throws {
        let (ca, caKey) = try DevelopmentCA.makeCA(commonName: "test CA")
        let (leaf, _) = try DevelopmentCA.issueCertificate(
            .init(nodeID: "node7", dnsNames: ["db.internal"], ipAddresses: ["10.0.0.7"]), caCertificate: ca, caKey: caKey)
        let names = try XCTUnwrap(try leaf.extensions.subjectAlternativeNames)
        XCTAssertTrue(names.contains(.dnsName("node7")))
        XCTAssertTrue(names.contains(.dnsName("db.internal")))
        XCTAssertTrue(names.contains { if case .ipAddress(let bytes) = $0 { return Array(bytes.bytes) == [10, 0, 0, 7] } else { return false } })
        let usage = try XCTUnwrap(try leaf.extensions.extendedKeyUsage)
        XCTAssertTrue(usage.contains(.serverAuth))
        XCTAssertTrue(usage.contains(.clientAuth))
        XCTAssertEqual(try leaf.extensions.basicConstraints, .notCertificateAuthority)
        XCTAssertLessThanOrEqual(leaf.notValidAfter, ca.notValidAfter)
    }

    func testBadIPAddressIsRefusedWithItsText() throws {
        let (ca, caKey) = try DevelopmentCA.makeCA(commonName: "test CA")
        XCTAssertThrowsError(try DevelopmentCA.issueCertificate(.init(nodeID: "n", ipAddresses: ["300.1.1.1"]), caCertificate: ca, caKey: caKey)) {
            XCTAssertTrue("\($0)".contains("300.1.1.1"), "\($0)")
        }
    }

    func testInitWritesAPrivateKeyAndNeverOverwrites() throws {
        try DevelopmentCA.initialize(directory: directory)
        let keyPath = "\(directory)/\(DevelopmentCA.caKeyFile)"
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let before = try String(contentsOfFile: keyPath, encoding: .utf8)
        XCTAssertThrowsError(try DevelopmentCA.initialize(directory: directory)) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
        XCTAssertEqual(try String(contentsOfFile: keyPath, encoding: .utf8), before)
    }

    func testIssuedFilesLoadIntoTLSContexts() throws {
        try DevelopmentCA.initialize(directory: directory)
        let paths = try DevelopmentCA.issue(.init(nodeID: "node1", ipAddresses: ["127.0.0.1"]), caDirectory: directory, outputDirectory: directory)
        let keyAttributes = try FileManager.default.attributesOfItem(atPath: paths.key)
        XCTAssertEqual((keyAttributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let material = try TLSMaterial(
            files: TLSFiles(certificatePath: paths.certificate, keyPath: paths.key, caPath: "\(directory)/\(DevelopmentCA.caCertificateFile)"))
        XCTAssertNotNil(material.peerServer)
        XCTAssertNotNil(material.peerClient)
    }
}
