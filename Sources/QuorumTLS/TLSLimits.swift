import NIOCore

/// Bounds of the TLS layer, in one place so the docs, `/metrics` and the code agree.
public struct TLSLimits: Sendable, Equatable {
    /// A connection whose TLS handshake has not finished this long after it was accepted
    /// (or dialled) is closed and counted as `reason="handshake_timeout"`, so a client that
    /// opens a socket and stalls mid-handshake can't hold a connection slot for ever.
    public var handshakeTimeout: TimeAmount

    public init(handshakeTimeout: TimeAmount = .seconds(10)) {
        precondition(handshakeTimeout > .zero, "handshakeTimeout must be positive")
        self.handshakeTimeout = handshakeTimeout
    }

    public static let defaults = TLSLimits()
}
