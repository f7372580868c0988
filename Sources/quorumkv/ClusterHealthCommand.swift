import ArgumentParser
import QuorumNode

/// `quorumkv cluster health`: one `GET /health`, for container health checks. The runtime
/// image has no curl, and a secured node's /health is HTTPS: this speaks it with the CA in
/// `$QUORUMKV_CACERT`, so a health check needs nothing but the binary already there.
struct ClusterHealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a node's /health (no login needed); exit 0 when it answers.",
        discussion: """
            For health checks. https:// endpoints are checked against the CA file in
            $QUORUMKV_CACERT (else the system's CAs); the node's certificate must name the
            address used (e.g. --ip 127.0.0.1 or --dns localhost in `quorumkv cert issue`).

            Examples:
              quorumkv cluster health --endpoint http://127.0.0.1:8081
              QUORUMKV_CACERT=/etc/quorumkv/ca.pem quorumkv cluster health --endpoint https://localhost:8081

            Exit codes: 0 the node answered; 2 usage error; 4 unreachable or timed out; 5 any other answer.
            """
    )

    @Option(help: ArgumentHelp("The node to ask (default http://127.0.0.1:8081, or $QUORUMKV_ENDPOINT).", valueName: "url"))
    var endpoint: String?

    @Option(help: ArgumentHelp("Seconds to wait for the answer.", valueName: "seconds"))
    var timeout: Int = 3

    func validate() throws {
        guard (1...300).contains(timeout) else { throw ValidationError("--timeout must be 1...300 seconds, got \(timeout)") }
    }

    func run() async throws {
        let target = TargetFlags.endpoint(given: endpoint)
        do {
            _ = try await KVHTTPClient(baseURL: target).health(timeout: .seconds(Int64(timeout)))
        } catch {
            FileOutput.standardError("error: \(error)\n")
            throw ClientExitCode.code(for: error).exitCode
        }
        FileOutput.standardOutput("ok\n")
    }
}
