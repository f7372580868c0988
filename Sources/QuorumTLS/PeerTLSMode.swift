/// How the peer port speaks TLS. The middle setting exists so a running cluster can move
/// to TLS one node at a time without a moment where two nodes can't talk (docs/security.md).
public enum PeerTLSMode: String, Sendable, Codable, CaseIterable {
    /// Plaintext only, as before TLS existed.
    case off
    /// Takes TLS and plaintext peers on the peer port (told apart by the first byte: 0x16
    /// opens a TLS handshake); dials TLS and falls back to plaintext for a while when a
    /// peer refuses it. Mutual-TLS rules apply to every TLS connection.
    case accept
    /// Mutual TLS only, both ways; plaintext peers are closed at their first byte.
    case require
}
