import ArgumentParser
import QuorumTLS

/// `quorumkv cert init|issue`: a development CA and node certificates without openssl.
struct CertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Create a development CA and node certificates for TLS.",
        discussion: """
            For development and first steps; a production cluster may use certificates from
            any CA, as long as each node's certificate carries the SAN DNS:<node-id>.

              quorumkv cert init --dir ./tls
              quorumkv cert issue --ca-dir ./tls --node node1 --dns localhost --ip 127.0.0.1 --out ./tls
              quorumkv serve --node-id node1 … --tls-cert ./tls/node1.pem --tls-key ./tls/node1-key.pem --tls-ca ./tls/ca.pem

            Exit codes: 0 done; 1 the files could not be made (the message says why); 2 usage error.
            """,
        subcommands: [CertInitCommand.self, CertIssueCommand.self]
    )
}

struct CertInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a development CA: <dir>/ca.pem (share it) and <dir>/ca-key.pem (0600, keep it private).",
        discussion: "An existing CA in the directory is never overwritten."
    )

    @Option(help: "Directory for ca.pem and ca-key.pem; created when missing.")
    var dir: String

    @Option(name: .customLong("common-name"), help: "The CA's common name (default \"QuorumKV development CA\"); give a new CA a new name when rotating.")
    var commonName: String = "QuorumKV development CA"

    func run() async throws {
        do {
            try DevelopmentCA.initialize(directory: dir, commonName: commonName)
        } catch {
            FileOutput.standardError("error: \(error.message)\n")
            throw ExitCode(1)
        }
        FileOutput.standardOutput("created \(dir)/\(DevelopmentCA.caCertificateFile) and \(dir)/\(DevelopmentCA.caKeyFile) (0600)\n")
    }
}

struct CertIssueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a node certificate: <out>/<node>.pem and <out>/<node>-key.pem (0600).",
        discussion: """
            The certificate is for TLS servers and clients (the peer port is both) and names
            DNS:<node> (the rule peers check), each --dns name and each --ip address. Issuing
            again for the same node replaces its files; send SIGHUP to the node to use them.
            """
    )

    @Option(name: .customLong("ca-dir"), help: "Directory holding ca.pem and ca-key.pem from `cert init`.")
    var caDir: String

    @Option(help: "The node id the certificate is for (its --node-id).")
    var node: String

    @Option(name: .customLong("dns"), help: "Another DNS name clients reach the node by (repeat), e.g. localhost.")
    var dnsNames: [String] = []

    @Option(name: .customLong("ip"), help: "An IP address clients reach the node by (repeat), e.g. 127.0.0.1.")
    var ipAddresses: [String] = []

    @Option(help: "Directory for the certificate and key; created when missing.")
    var out: String

    func validate() throws {
        guard !node.isEmpty, node.utf8.count <= 64, !node.contains(where: { $0 == "=" || $0 == "," || $0 == " " || $0 == "/" }) else {
            throw ValidationError("--node must be a node id: 1-64 characters without '=', ',', '/' or spaces")
        }
    }

    func run() async throws {
        let paths: (certificate: String, key: String)
        do {
            paths = try DevelopmentCA.issue(
                DevelopmentCA.NodeRequest(nodeID: node, dnsNames: dnsNames, ipAddresses: ipAddresses), caDirectory: caDir,
                outputDirectory: out)
        } catch {
            FileOutput.standardError("error: \(error.message)\n")
            throw ExitCode(1)
        }
        FileOutput.standardOutput("created \(paths.certificate) and \(paths.key) (0600)\n")
    }
}
