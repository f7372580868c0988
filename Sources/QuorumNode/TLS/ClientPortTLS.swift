import Logging
import NIOCore
import NIOSSL
import QuorumTLS

/// TLS for a client port (HTTPS, RESP over TLS): the node's reloadable material and the
/// handshake bound. Every connection must open with a TLS handshake.
public struct ClientPortTLS: Sendable {
    public let material: ReloadableTLS
    public let limits: TLSLimits

    public init(material: ReloadableTLS, limits: TLSLimits = .defaults) {
        self.material = material
        self.limits = limits
    }

    /// Puts the sniffer and the handshake guard at the front of a new connection's pipeline,
    /// ahead of the protocol's own handlers. Call on the channel's event loop.
    func configure(_ pipeline: ChannelPipeline.SynchronousOperations, port: String, logger: Logger) throws {
        let handshakeGuard = TLSHandshakeGuard(port: port, limits: limits, logger: logger)
        let material = material
        try pipeline.addHandler(
            TLSSniffer(allowsPlaintext: false, handshakeGuard: handshakeGuard) {
                NIOSSLServerHandler(context: material.current.clientPortServer)
            })
        try pipeline.addHandler(handshakeGuard)
    }
}
