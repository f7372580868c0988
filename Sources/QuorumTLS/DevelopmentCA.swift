import Crypto
import Foundation
import SwiftASN1
import X509

/// A development certificate authority on disk (`quorumkv cert init`) and the node
/// certificates it issues (`quorumkv cert issue`), made with swift-certificates so getting
/// started needs no openssl command. P-256 keys: small, fast handshakes, supported by
/// every TLS client QuorumKV is tested with.
public enum DevelopmentCA {
    public static let caCertificateFile = "ca.pem"
    public static let caKeyFile = "ca-key.pem"
    /// CA lifetime: long enough for a development cluster, short enough to be replaced.
    public static let caValidity: TimeInterval = 5 * 365 * 24 * 3600
    /// Node certificate lifetime.
    public static let nodeValidity: TimeInterval = 365 * 24 * 3600
    /// Certificates are valid from a little before now, so a peer whose clock is slightly
    /// behind doesn't refuse a certificate issued a moment ago.
    static let backdate: TimeInterval = 3600

    /// Creates `ca.pem` and `ca-key.pem` (mode 0600) in `directory`, which is created when
    /// missing. Refuses to overwrite an existing CA: replacing it would orphan every node
    /// certificate it issued.
    public static func initialize(directory: String, commonName: String = "QuorumKV development CA") throws(TLSMaterialError) {
        let certificatePath = "\(directory)/\(caCertificateFile)"
        let keyPath = "\(directory)/\(caKeyFile)"
        for path in [certificatePath, keyPath] where FileManager.default.fileExists(atPath: path) {
            throw TLSMaterialError("\(path) already exists; a CA is not overwritten (remove it first, or use another --dir)")
        }
        let (certificate, key) = try makeCA(commonName: commonName)
        try createDirectory(directory)
        try write(try pem(key), to: keyPath, mode: 0o600)
        try write(try pem(certificate), to: certificatePath, mode: 0o644)
    }

    /// A self-signed CA certificate and its key, in memory (tests and the bench use this).
    public static func makeCA(commonName: String, now: Date = Date()) throws(TLSMaterialError) -> (Certificate, Certificate.PrivateKey) {
        do {
            let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
            let name = try DistinguishedName { CommonName(commonName) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                notValidBefore: now - backdate, notValidAfter: now + caValidity, issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: key)
            return (certificate, key)
        } catch {
            throw TLSMaterialError("could not create the CA certificate: \(error)")
        }
    }

    /// What a node certificate is issued for.
    public struct NodeRequest: Sendable {
        public var nodeID: String
        /// Extra DNS names clients reach the node by (e.g. `localhost`, a service name).
        public var dnsNames: [String]
        /// IP addresses clients reach the node by (e.g. `127.0.0.1`).
        public var ipAddresses: [String]

        public init(nodeID: String, dnsNames: [String] = [], ipAddresses: [String] = []) {
            self.nodeID = nodeID
            self.dnsNames = dnsNames
            self.ipAddresses = ipAddresses
        }
    }

    /// Issues a node certificate from the CA in `caDirectory` into `outputDirectory` as
    /// `<node-id>.pem` (certificate) and `<node-id>-key.pem` (key, mode 0600). Returns the two paths.
    @discardableResult
    public static func issue(_ request: NodeRequest, caDirectory: String, outputDirectory: String) throws(TLSMaterialError) -> (certificate: String, key: String) {
        let (caCertificate, caKey) = try loadCA(directory: caDirectory)
        let (certificate, key) = try issueCertificate(request, caCertificate: caCertificate, caKey: caKey)
        try createDirectory(outputDirectory)
        let certificatePath = "\(outputDirectory)/\(request.nodeID).pem"
        let keyPath = "\(outputDirectory)/\(request.nodeID)-key.pem"
        try write(try pem(key), to: keyPath, mode: 0o600)
        try write(try pem(certificate), to: certificatePath, mode: 0o644)
        return (certificatePath, keyPath)
    }

    /// A node certificate signed by the given CA, in memory. Usable as a TLS server and a
    /// TLS client certificate (the peer port is both), with SANs `DNS:<node-id>` (the
    /// `PeerIdentity` rule), each extra DNS name and each IP address.
    public static func issueCertificate(
        _ request: NodeRequest, caCertificate: Certificate, caKey: Certificate.PrivateKey, now: Date = Date()
    ) throws(TLSMaterialError) -> (Certificate, Certificate.PrivateKey) {
        var names: [GeneralName] = [.dnsName(request.nodeID)]
        for dns in request.dnsNames where dns != request.nodeID { names.append(.dnsName(dns)) }
        for ip in request.ipAddresses {
            guard let bytes = ipAddressBytes(ip) else {
                throw TLSMaterialError("--ip \(ip) is not an IPv4 or IPv6 address")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        do {
            let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
            let subject = try DistinguishedName { CommonName(request.nodeID) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: key.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: (try? caCertificate.extensions.subjectKeyIdentifier)?.keyIdentifier)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                notValidBefore: now - backdate, notValidAfter: min(now + nodeValidity, caCertificate.notValidAfter),
                issuer: caCertificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions, issuerPrivateKey: caKey)
            return (certificate, key)
        } catch {
            throw TLSMaterialError("could not issue a certificate for \(request.nodeID): \(error)")
        }
    }

    /// Reads `ca.pem` and `ca-key.pem` from a `cert init` directory.
    public static func loadCA(directory: String) throws(TLSMaterialError) -> (Certificate, Certificate.PrivateKey) {
        let certificatePath = "\(directory)/\(caCertificateFile)"
        let keyPath = "\(directory)/\(caKeyFile)"
        guard let certificateText = try? String(contentsOfFile: certificatePath, encoding: .utf8) else {
            throw TLSMaterialError("cannot read \(certificatePath); create a CA with `quorumkv cert init --dir \(directory)`")
        }
        guard let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            throw TLSMaterialError("cannot read \(keyPath); it must be readable by this user")
        }
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: certificateText)
        } catch {
            throw TLSMaterialError("\(certificatePath) is not a PEM certificate")
        }
        do {
            key = try Certificate.PrivateKey(pemEncoded: keyText)
        } catch {
            throw TLSMaterialError("\(keyPath) is not a PEM private key")
        }
        guard key.publicKey == certificate.publicKey else {
            throw TLSMaterialError("\(keyPath) is not the key of \(certificatePath)")
        }
        return (certificate, key)
    }

    public static func pem(_ certificate: Certificate) throws(TLSMaterialError) -> String {
        // A final newline, so `cat a.pem b.pem > bundle.pem` makes a valid bundle.
        do { return try certificate.serializeAsPEM().pemString + "\n" } catch {
            throw TLSMaterialError("could not encode a certificate as PEM: \(error)")
        }
    }

    public static func pem(_ key: Certificate.PrivateKey) throws(TLSMaterialError) -> String {
        do { return try key.serializeAsPEM().pemString + "\n" } catch {
            throw TLSMaterialError("could not encode a private key as PEM")
        }
    }

    /// Writes a file created with `mode` from the start (no window where a key is readable
    /// by others), replacing any file there.
    public static func write(_ text: String, to path: String, mode: mode_t) throws(TLSMaterialError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard descriptor >= 0 else {
            throw TLSMaterialError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // O_CREAT's mode is filtered by the umask and ignored for an existing file; set it outright.
        fchmod(descriptor, mode)
        do {
            try FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).write(contentsOf: Data(text.utf8))
        } catch {
            throw TLSMaterialError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private static func createDirectory(_ path: String) throws(TLSMaterialError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TLSMaterialError("cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    /// The 4 or 16 bytes of an IP address, or nil when `text` isn't one.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
