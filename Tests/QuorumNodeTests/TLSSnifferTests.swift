import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import QuorumTLS
import XCTest

@testable import QuorumNode

/// The front of a TLS client port, stepped on an embedded channel: plaintext is closed
/// with nothing written, a handshake byte brings in the TLS handler, and a handshake that
/// stalls is closed when the deadline passes (and not before).
final class TLSSnifferTests: XCTestCase {
    private static let directory = NSTemporaryDirectory() + "quorumkv-sniffer-\(UUID().uuidString.prefix(8))"
    private let limits = TLSLimits(handshakeTimeout: .milliseconds(800))

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func material() throws -> ReloadableTLS {
        let ca = "\(Self.directory)/ca.pem"
        if !FileManager.default.fileExists(atPath: ca) {
            try DevelopmentCA.initialize(directory: Self.directory)
            try DevelopmentCA.issue(.init(nodeID: "node1"), caDirectory: Self.directory, outputDirectory: Self.directory)
        }
        return try ReloadableTLS(
            files: TLSFiles(certificatePath: "\(Self.directory)/node1.pem", keyPath: "\(Self.directory)/node1-key.pem", caPath: ca))
    }

    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try ClientPortTLS(material: try material(), limits: limits).configure(
            channel.pipeline.syncOperations, port: "resp", logger: Logger(label: "test"))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func testPlaintextIsClosedWithNothingWritten() throws {
        let channel = try channel()
        _ = try? channel.writeInbound(ByteBuffer(string: "PING\r\n"))
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "not a byte back to a plaintext client")
        XCTAssertFalse(channel.isActive)
    }

    func testHandshakeByteBringsInTheTLSHandler() throws {
        let channel = try channel()
        _ = try? channel.writeInbound(ByteBuffer(bytes: [0x16]))
        XCTAssertNoThrow(try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))
        XCTAssertThrowsError(try channel.pipeline.syncOperations.handler(type: TLSSniffer.self), "the sniffer removes itself")
        XCTAssertTrue(channel.isActive)
        _ = try? channel.finish()
    }

    func testStalledHandshakeIsClosedAtTheDeadline() throws {
        let channel = try channel()
        _ = try? channel.writeInbound(ByteBuffer(bytes: [0x16]))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(700))
        XCTAssertTrue(channel.isActive, "not closed before the deadline")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        XCTAssertFalse(channel.isActive, "closed once the deadline passed")
    }

    func testSilentConnectionIsClosedAtTheDeadlineToo() throws {
        let channel = try channel()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))
        XCTAssertFalse(channel.isActive, "a client that never starts a handshake is closed on the same deadline")
    }

    /// The reason words on /metrics come from BoringSSL's error text and our own errors.
    func testRefusalReasonsAreSortedFromTheErrorText() {
        struct Text: Error, CustomStringConvertible { var description: String }
        XCTAssertEqual(TLSRefusal.classify(Text(description: "handshakeFailed(PEER_DID_NOT_RETURN_A_CERTIFICATE)")), .noClientCertificate)
        XCTAssertEqual(TLSRefusal.classify(Text(description: "handshakeFailed(CERTIFICATE_VERIFY_FAILED)")), .untrustedCertificate)
        XCTAssertEqual(TLSRefusal.classify(Text(description: "TLSV1_ALERT_UNKNOWN_CA")), .untrustedCertificate)
        XCTAssertEqual(TLSRefusal.classify(PeerIdentityMismatch(expected: "node1", presented: ["node2"])), .nodeIDMismatch)
        XCTAssertEqual(TLSRefusal.classify(Text(description: "WRONG_VERSION_NUMBER")), .handshakeFailed)
        XCTAssertEqual(
            "\(PeerIdentityMismatch(expected: "node1", presented: ["node2"]))",
            "the reached node's certificate names DNS:node2, not DNS:node1")
    }
}
