import ArgumentParser
import Foundation
import QuorumNode

struct ClusterLeaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leave",
        abstract: "Make a node hand its partitions off and leave the cluster; its process then exits.",
        discussion: """
            The node becomes `leaving`: it keeps serving while it first gathers each of its
            partitions from the other replicas, then copies it to the nodes that take it
            over. When every copy is done it is `left`, tells the others, and exits with
            code 0. This command waits for the process to stop answering unless --no-wait.
            The last member of a cluster can't leave (nobody would hold its data).

            Examples:
              quorumkv cluster leave --node http://127.0.0.1:8084
              quorumkv cluster leave --node http://10.0.0.4:8081 --timeout 3600

            \(ClientExitCode.helpText)
            """
    )

    @Option(help: ArgumentHelp("The node that leaves (default http://127.0.0.1:8081, or $QUORUMKV_ENDPOINT).", valueName: "url"))
    var node: String?

    @Flag(inversion: .prefixedNo, help: "Wait until the node has handed off and exited.")
    var wait = true

    @OptionGroup var credentials: CredentialFlags

    @Option(help: "Seconds to wait for the hand-off to finish (default 600).")
    var timeout: Int = 600

    func run() async throws {
        let client = KVHTTPClient(baseURL: TargetFlags.endpoint(given: node), authorization: credentials.checkedAuthorization)
        let change = try await MembershipWait.call { () async throws(KVClientError) in try await client.leaveCluster() }
        FileOutput.standardOutput("\(change.node) is \(change.status) (\(change.transfersPending) partition transfers to run)\n")
        guard wait else { return }
        try await MembershipWait.poll(client: client, node: change.node, until: "left", timeoutSeconds: timeout)
        FileOutput.standardOutput("\(change.node) has left the cluster\n")
    }
}
