import ArgumentParser
import Foundation
import QuorumNode

struct ClusterJoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Make a running node (alone and empty) join a cluster through one of its members.",
        discussion: """
            The node enters the cluster as `joining`, copies the partitions it will own from
            their current replicas (anti-entropy exchanges, bounded batches), and then
            serves them (`up`). This command waits for that unless --no-wait is given.
            A node can also join as it starts: `quorumkv serve ... --join SEED`.

            Examples:
              quorumkv cluster join 127.0.0.1:9081 --node http://127.0.0.1:8084
              quorumkv cluster join 10.0.0.1:9081 --node http://10.0.0.4:8081 --timeout 3600

            \(ClientExitCode.helpText)
            """
    )

    @Argument(help: ArgumentHelp("Any cluster member's peer address (its --peer), host:port.", valueName: "seed"))
    var seed: String

    @Option(help: ArgumentHelp("The node that joins (default http://127.0.0.1:8081, or $QUORUMKV_ENDPOINT).", valueName: "url"))
    var node: String?

    @OptionGroup var credentials: CredentialFlags

    @Flag(inversion: .prefixedNo, help: "Wait until the node serves its partitions.")
    var wait = true

    @Option(help: "Seconds to wait for the copies to finish (default 600).")
    var timeout: Int = 600

    func run() async throws {
        let client = KVHTTPClient(baseURL: TargetFlags.endpoint(given: node), authorization: credentials.checkedAuthorization)
        let change = try await MembershipWait.call { () async throws(KVClientError) in try await client.joinCluster(seed: seed) }
        FileOutput.standardOutput("\(change.node) is \(change.status) (\(change.transfersPending) partition transfers to run)\n")
        guard wait else { return }
        try await MembershipWait.poll(client: client, node: change.node, until: "up", timeoutSeconds: timeout)
        FileOutput.standardOutput("\(change.node) is up and serves its partitions\n")
    }
}
