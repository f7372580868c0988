/// Where a node's TLS material lives: PEM files, re-read on every reload so a rotated file
/// takes effect without a restart.
public struct TLSFiles: Sendable, Equatable, Codable {
    /// The node's certificate, optionally followed by intermediates (leaf first).
    public var certificatePath: String
    /// The certificate's private key (PEM, PKCS#8 or SEC1/PKCS#1).
    public var keyPath: String
    /// One or more CA certificates peers' certificates must chain to; more than one while a
    /// CA is being rotated. Needed for the peer port's mutual TLS, not for client ports.
    public var caPath: String?

    public init(certificatePath: String, keyPath: String, caPath: String?) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.caPath = caPath
    }
}

/// A reason TLS material could not be loaded. Names the file and what is wrong with it,
/// never its contents: a key must not reach a log through an error message.
public struct TLSMaterialError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
