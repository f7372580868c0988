import Foundation
import NIOSSL
import X509

/// A node's TLS material read from its files and turned into ready contexts: one for the
/// client ports (HTTPS, RESP over TLS), and when a CA bundle is given, the two sides of
/// the peer port's mutual TLS. Built whole or not at all, so a reload either swaps in a
/// complete new set or keeps the old one.
public struct TLSMaterial: Sendable {
    /// Server side of the client ports: presents the node's chain, asks clients for nothing.
    public let clientPortServer: NIOSSLContext
    /// Server side of the peer port: presents the chain and requires a client certificate
    /// that chains to the CA bundle. Nil without a CA bundle.
    public let peerServer: NIOSSLContext?
    /// Dialling side of the peer port: presents the chain and verifies the reached node's
    /// chain against the CA bundle; the node id is checked by the caller (`PeerIdentity`),
    /// since hostname verification would accept an IP SAN instead. Nil without a CA bundle.
    public let peerClient: NIOSSLContext?
    /// The files it came from, for reloads and logs.
    public let files: TLSFiles

    public init(files: TLSFiles) throws(TLSMaterialError) {
        let chain = try Self.certificates(at: files.certificatePath, what: "certificate (--tls-cert)")
        let key = try Self.privateKey(at: files.keyPath)
        // A key that doesn't belong to the certificate fails every handshake later, with an
        // error far from its cause; check it here so start-up or the reload says so.
        try Self.checkKeyMatches(files: files)
        let chainSources = chain.map { NIOSSLCertificateSource.certificate($0) }
        var server = TLSConfiguration.makeServerConfiguration(certificateChain: chainSources, privateKey: .privateKey(key))
        server.minimumTLSVersion = .tlsv12
        clientPortServer = try Self.context(server, what: "the client ports")
        if let caPath = files.caPath {
            let roots = try Self.certificates(at: caPath, what: "CA bundle (--tls-ca)")
            var peerServerConfiguration = TLSConfiguration.makeServerConfigurationWithMTLS(
                certificateChain: chainSources, privateKey: .privateKey(key), trustRoots: .certificates(roots))
            peerServerConfiguration.minimumTLSVersion = .tlsv12
            peerServerConfiguration.sendCANameList = true
            peerServer = try Self.context(peerServerConfiguration, what: "the peer port")
            var client = TLSConfiguration.makeClientConfiguration()
            client.minimumTLSVersion = .tlsv12
            client.trustRoots = .certificates(roots)
            client.certificateChain = chainSources
            client.privateKey = .privateKey(key)
            client.certificateVerification = .noHostnameVerification
            peerClient = try Self.context(client, what: "dialling peers")
        } else {
            peerServer = nil
            peerClient = nil
        }
        self.files = files
    }

    /// A TLS client context that trusts only the CA(s) in `caPath`: how a tool reaches
    /// nodes serving certificates from a development CA (`cluster up --secure`).
    public static func clientContext(trusting caPath: String) throws(TLSMaterialError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(try certificates(at: caPath, what: "CA file"))
        return try context(configuration, what: "reaching nodes")
    }

    /// Every certificate in a PEM file, in order; at least one.
    public static func certificates(at path: String, what: String) throws(TLSMaterialError) -> [NIOSSLCertificate] {
        let bytes = try read(path, what: what)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw TLSMaterialError("\(what) \(path) is not a PEM certificate file (\(error)); expected -----BEGIN CERTIFICATE----- blocks")
        }
        guard !certificates.isEmpty else {
            throw TLSMaterialError("\(what) \(path) holds no certificate; expected -----BEGIN CERTIFICATE----- blocks")
        }
        return certificates
    }

    private static func privateKey(at path: String) throws(TLSMaterialError) -> NIOSSLPrivateKey {
        let bytes = try read(path, what: "private key (--tls-key)")
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            // The NIOSSL error names only the parse failure, never key bytes.
            throw TLSMaterialError(
                "private key (--tls-key) \(path) is not an unencrypted PEM private key; encrypted keys are not supported")
        }
    }

    private static func read(_ path: String, what: String) throws(TLSMaterialError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TLSMaterialError("cannot read \(what) \(path): missing or not readable by this user")
        }
        return Array(data)
    }

    /// Compares the certificate's public key with the private key's public half, through
    /// swift-certificates (NIOSSL doesn't expose a private key's public half). Keys it can't
    /// parse are left to the TLS context to judge.
    private static func checkKeyMatches(files: TLSFiles) throws(TLSMaterialError) {
        guard let certificateText = try? String(contentsOfFile: files.certificatePath, encoding: .utf8),
            let keyText = try? String(contentsOfFile: files.keyPath, encoding: .utf8),
            let certificate = try? Certificate(pemEncoded: Self.firstPEMBlock(certificateText, label: "CERTIFICATE") ?? ""),
            let key = try? Certificate.PrivateKey(pemEncoded: keyText)
        else { return }
        guard key.publicKey == certificate.publicKey else {
            throw TLSMaterialError(
                "\(files.keyPath) is not the private key of the first certificate in \(files.certificatePath); use the key issued with it")
        }
    }

    /// The first `-----BEGIN <label>-----` block of a PEM file with several.
    static func firstPEMBlock(_ text: String, label: String) -> String? {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else {
            return nil
        }
        return String(text[start.lowerBound..<stop.upperBound])
    }

    private static func context(_ configuration: TLSConfiguration, what: String) throws(TLSMaterialError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSMaterialError("the TLS settings for \(what) were refused: \(error); check that the key matches the certificate")
        }
    }
}
