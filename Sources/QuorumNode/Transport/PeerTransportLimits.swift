import NIOCore
import QuorumCore

/// Bounds of the node-to-node transport, so a slow or hostile peer can't make a node
/// buffer, wait or retry without limit.
public struct PeerTransportLimits: Sendable, Equatable {
    /// Largest frame, header included, either way; a larger incoming frame closes its
    /// connection, a larger outgoing payload fails before it is sent.
    public var frameBytesMax: Int
    /// Requests outstanding on one connection. The client fails requests past it with
    /// `.overloaded` at once; the server answers them with an "overloaded" error frame.
    public var inFlightMax: Int
    /// How long a connect may take before the peer counts as unreachable.
    public var connectTimeout: TimeAmount
    /// A server connection with no traffic either way for this long is closed. Generous,
    /// because clients keep one connection per peer and reuse it.
    public var idleTimeout: TimeAmount
    /// First pause after a failed connect, during which requests fail fast.
    public var backoffMin: TimeAmount
    /// Longest pause; each further failed connect doubles the pause up to this.
    public var backoffMax: TimeAmount

    public init(
        frameBytesMax: Int = Limits.defaults.frameBytesMax,
        inFlightMax: Int = Limits.defaults.peerInFlightMax,
        connectTimeout: TimeAmount = .seconds(1),
        idleTimeout: TimeAmount = .seconds(300),
        backoffMin: TimeAmount = .milliseconds(50),
        backoffMax: TimeAmount = .seconds(1)
    ) {
        precondition(frameBytesMax > Frame.headerBytes, "frameBytesMax \(frameBytesMax) leaves no room for a payload")
        precondition(inFlightMax > 0, "inFlightMax must be positive, got \(inFlightMax)")
        precondition(backoffMin > .zero && backoffMin <= backoffMax, "need 0 < backoffMin <= backoffMax")
        self.frameBytesMax = frameBytesMax
        self.inFlightMax = inFlightMax
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.backoffMin = backoffMin
        self.backoffMax = backoffMax
    }

    /// The transport's bounds taken from the node's `Limits`; the rest keep their defaults.
    public init(limits: Limits) {
        self.init(frameBytesMax: limits.frameBytesMax, inFlightMax: limits.peerInFlightMax)
    }

    public static let defaults = PeerTransportLimits()

    /// Largest payload that fits in one frame.
    var payloadBytesMax: Int { frameBytesMax - Frame.headerBytes }
}
