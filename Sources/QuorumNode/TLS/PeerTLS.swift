import Logging
import NIOCore
import NIOSSL
import QuorumTLS

/// TLS of the peer port, both sides: the mode (`--peer-tls`), the node's reloadable
/// material (with the CA bundle peers must chain to) and the handshake bound.
public struct PeerTLS: Sendable {
    public let mode: PeerTLSMode
    /// Nil exactly when `mode` is `.off`.
    public let material: ReloadableTLS?
    public let limits: TLSLimits

    /// - Precondition: `material` is given, with a CA bundle, unless `mode` is `.off`
    ///   (the node's config validation says so to the operator first).
    public init(mode: PeerTLSMode, material: ReloadableTLS?, limits: TLSLimits = .defaults) {
        precondition(mode == .off || material?.current.peerServer != nil, "peer TLS \(mode) needs certificates and a CA bundle")
        self.mode = mode
        self.material = mode == .off ? nil : material
        self.limits = limits
    }

    public static let off = PeerTLS(mode: .off, material: nil)

    /// Front of an accepted peer connection's pipeline: nothing when off; otherwise the
    /// sniffer (plaintext passes only in `accept` mode) and the handshake guard.
    func configureServer(_ pipeline: ChannelPipeline.SynchronousOperations, logger: Logger) throws {
        guard mode != .off, let material else { return }
        let handshakeGuard = TLSHandshakeGuard(port: "peer", limits: limits, logger: logger)
        try pipeline.addHandler(
            TLSSniffer(allowsPlaintext: mode == .accept, handshakeGuard: handshakeGuard) {
                // Present since init checked it; a reload keeps a CA bundle (same files).
                NIOSSLServerHandler(context: material.current.peerServer!)
            })
        try pipeline.addHandler(handshakeGuard)
    }

    /// Front of a dialled peer connection's pipeline when it is to use TLS: verifies the
    /// reached node's chain against the CA bundle and, when `expectedNodeID` is known, that
    /// its certificate names it (`DNS:<node-id>`).
    ///
    /// The node id is checked here, not by NIOSSL's hostname verification: that accepts
    /// any certificate whose IP SAN matches the dialled address, so a certificate issued to
    /// another node on the same address would pass. The check runs in NIOSSL's
    /// additional-verification step (an underscored, pinned API), before the handshake
    /// completes, so not a byte of the hello or a request reaches a node that fails it.
    func configureClient(_ pipeline: ChannelPipeline.SynchronousOperations, expectedNodeID: String?, logger: Logger) throws {
        guard let material, let context = material.current.peerClient else { return }
        let handler: NIOSSLClientHandler
        if let expectedNodeID {
            handler = try NIOSSLClientHandler._makeSSLClientHandler(context: context, serverHostname: nil) { certificate, channel in
                guard let der = try? certificate.toDERBytes(), PeerIdentity.certificate(derBytes: der, names: expectedNodeID) else {
                    let names = (try? certificate.toDERBytes()).map(PeerIdentity.dnsNames(derBytes:)) ?? []
                    return channel.eventLoop.makeFailedFuture(
                        PeerIdentityMismatch(expected: expectedNodeID, presented: names))
                }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
        } else {
            handler = try NIOSSLClientHandler(context: context, serverHostname: nil)
        }
        try pipeline.addHandler(handler)
        try pipeline.addHandler(TLSHandshakeGuard(port: "peer", limits: limits, logger: logger))
    }

    /// The refusal for an accepted connection whose hello claims `nodeID`: nil when the
    /// connection is plaintext (only possible in `accept` mode) or its client certificate
    /// names the node; a message (without secrets) otherwise. Call on the channel's loop.
    static func identityRefusal(claimedNodeID nodeID: String, pipeline: ChannelPipeline.SynchronousOperations) -> String? {
        guard let tlsHandler = try? pipeline.handler(type: NIOSSLServerHandler.self) else { return nil }
        guard let certificate = tlsHandler.peerCertificate, let der = try? certificate.toDERBytes() else {
            return "no client certificate on a TLS peer connection; every node needs one naming \(PeerIdentity.requiredName(nodeID: nodeID))"
        }
        guard PeerIdentity.certificate(derBytes: der, names: nodeID) else {
            let names = PeerIdentity.dnsNames(derBytes: der)
            return "the client certificate names \(names.isEmpty ? "no DNS names" : names.map { "DNS:\($0)" }.joined(separator: ", ")) but the hello claims \(nodeID); issue it with `quorumkv cert issue --node \(nodeID)`"
        }
        return nil
    }
}

/// A reached node's certificate does not name the node that was dialled.
struct PeerIdentityMismatch: Error, CustomStringConvertible {
    var expected: String
    var presented: [String]

    var description: String {
        "the reached node's certificate names \(presented.isEmpty ? "no DNS names" : presented.map { "DNS:\($0)" }.joined(separator: ", ")), not \(PeerIdentity.requiredName(nodeID: expected))"
    }
}
