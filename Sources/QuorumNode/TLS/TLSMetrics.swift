import Metrics
import QuorumTLS

/// TLS counters and bounds on `/metrics` (through the process's swift-metrics backend).
/// Labels: `port` is `http`, `resp` or `peer`; `reason` is one of `TLSRefusal`'s words.
enum TLSMetrics {
    static let handshakeFailures = "quorumkv_tls_handshake_failures_total"
    static let handshakeTimeoutSeconds = "quorumkv_tls_handshake_timeout_seconds"
    static let reloads = "quorumkv_tls_reloads_total"

    static func refused(port: String, reason: TLSRefusal) {
        Counter(label: handshakeFailures, dimensions: [("port", port), ("reason", reason.rawValue)]).increment()
    }

    /// Publishes the handshake bound, so a dashboard shows what the counters are measured against.
    static func publish(limits: TLSLimits) {
        Gauge(label: handshakeTimeoutSeconds).record(Double(limits.handshakeTimeout.nanoseconds) / 1e9)
    }

    static func reloaded(succeeded: Bool) {
        Counter(label: reloads, dimensions: [("result", succeeded ? "ok" : "failed")]).increment()
    }
}

/// Why a TLS connection was refused or dropped before it carried any request.
enum TLSRefusal: String, Sendable {
    /// The first byte was not a TLS handshake on a port that only takes TLS.
    case notTLS = "not_tls"
    /// The handshake did not finish within `TLSLimits.handshakeTimeout`.
    case handshakeTimeout = "handshake_timeout"
    /// A peer sent no client certificate.
    case noClientCertificate = "no_client_certificate"
    /// The other side's certificate does not chain to the trusted CAs (or is expired).
    case untrustedCertificate = "untrusted_certificate"
    /// A peer's certificate does not name the node id it claims (or the node dialled).
    case nodeIDMismatch = "node_id_mismatch"
    /// Any other handshake failure (protocol version, ciphers, a closed socket).
    case handshakeFailed = "handshake_failed"

    /// Sorts a handshake error by BoringSSL's reason text, which is stable across versions.
    static func classify(_ error: any Error) -> TLSRefusal {
        if error is PeerIdentityMismatch { return .nodeIDMismatch }
        let text = "\(error)".uppercased()
        if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || text.contains("CERTIFICATE_REQUIRED") {
            return .noClientCertificate
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("UNKNOWN_CA") || text.contains("BAD_CERTIFICATE")
            || text.contains("CERTIFICATE_UNKNOWN")
        {
            return .untrustedCertificate
        }
        return .handshakeFailed
    }
}
