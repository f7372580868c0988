import NIOSSL
import QuorumTLS

/// Certificates for a `--tls` bench run, made fresh in the run's data folder with the same
/// code as `quorumkv cert init|issue` (so the bench measures what operators deploy), and a
/// client context that trusts only that CA.
struct BenchCertificates {
    let directory: String
    let client: BenchTLS

    static func make(directory: String, nodeCount: Int) throws -> BenchCertificates {
        try DevelopmentCA.initialize(directory: directory, commonName: "QuorumKV bench CA")
        for index in 0..<nodeCount {
            try DevelopmentCA.issue(
                DevelopmentCA.NodeRequest(nodeID: "node\(index + 1)", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]),
                caDirectory: directory, outputDirectory: directory)
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(
            try TLSMaterial.certificates(at: "\(directory)/\(DevelopmentCA.caCertificateFile)", what: "bench CA"))
        configuration.minimumTLSVersion = .tlsv12
        return BenchCertificates(directory: directory, client: BenchTLS(context: try NIOSSLContext(configuration: configuration)))
    }

    /// TLS on every port of the node, mutual on the peer port.
    func serveArguments(nodeID: String) -> [String] {
        [
            "--tls-cert", "\(directory)/\(nodeID).pem", "--tls-key", "\(directory)/\(nodeID)-key.pem",
            "--tls-ca", "\(directory)/\(DevelopmentCA.caCertificateFile)",
        ]
    }
}
