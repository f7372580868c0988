import Foundation
import QuorumTLS
import XCTest

/// Loading and reloading TLS files: errors name the file and the problem, never key bytes;
/// a failed reload keeps the material in use.
final class TLSMaterialTests: XCTestCase {
    private var directory = ""

    override func setUp() async throws {
        directory = NSTemporaryDirectory() + "quorumkv-tls-material-\(UUID().uuidString.prefix(8))"
        try DevelopmentCA.initialize(directory: directory)
        try DevelopmentCA.issue(.init(nodeID: "node1"), caDirectory: directory, outputDirectory: directory)
        try DevelopmentCA.issue(.init(nodeID: "node2"), caDirectory: directory, outputDirectory: directory)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func files(_ certificate: String, _ key: String) -> TLSFiles {
        TLSFiles(certificatePath: "\(directory)/\(certificate)", keyPath: "\(directory)/\(key)", caPath: "\(directory)/ca.pem")
    }

    func testMissingFileNamesItsPath() {
        XCTAssertThrowsError(try TLSMaterial(files: files("absent.pem", "node1-key.pem"))) {
            XCTAssertTrue("\($0)".contains("absent.pem"), "\($0)")
        }
    }

    func testKeyOfAnotherCertificateIsRefusedWithoutShowingIt() throws {
        let key = try String(contentsOfFile: "\(directory)/node2-key.pem", encoding: .utf8)
        XCTAssertThrowsError(try TLSMaterial(files: files("node1.pem", "node2-key.pem"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("node2-key.pem") && text.contains("not the private key"), text)
            for line in key.split(separator: "\n") where !line.hasPrefix("-----") {
                XCTAssertFalse(text.contains(line), "an error must not quote key material")
            }
        }
    }

    func testGarbageKeyIsRefusedWithoutShowingIt() throws {
        try "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n"
            .write(toFile: "\(directory)/bad-key.pem", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TLSMaterial(files: files("node1.pem", "bad-key.pem"))) {
            XCTAssertFalse("\($0)".contains("c2VjcmV0"), "\($0)")
        }
    }

    func testFailedReloadKeepsTheOldMaterialAndSuccessfulOneSwaps() throws {
        let reloadable = try ReloadableTLS(files: files("node1.pem", "node1-key.pem"))
        let first = reloadable.current.clientPortServer
        try "not a certificate".write(toFile: "\(directory)/node1.pem", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try reloadable.reload()) {
            XCTAssertTrue("\($0)".contains("node1.pem"), "\($0)")
        }
        XCTAssertTrue(reloadable.current.clientPortServer === first, "a failed reload keeps what was in use")
        try DevelopmentCA.issue(.init(nodeID: "node1"), caDirectory: directory, outputDirectory: directory)
        try reloadable.reload()
        XCTAssertFalse(reloadable.current.clientPortServer === first, "a good reload swaps in new contexts")
    }

    func testCABundleWithSeveralCAsLoads() throws {
        let second = directory + "/second"
        try DevelopmentCA.initialize(directory: second, commonName: "second CA")
        let bundle = try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8) + String(contentsOfFile: "\(second)/ca.pem", encoding: .utf8)
        try bundle.write(toFile: "\(directory)/bundle.pem", atomically: true, encoding: .utf8)
        XCTAssertEqual(try TLSMaterial.certificates(at: "\(directory)/bundle.pem", what: "bundle").count, 2)
    }
}
