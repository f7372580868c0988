import ArgumentParser
import Foundation
import QuorumNode

struct ClusterStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how a node sees the cluster: members up or down, partitions, hints, repairs.",
        discussion: """
            Each node judges its peers from heartbeats (phi accrual; down at phi 8), so two
            nodes may briefly disagree. Ask several with --endpoint to compare.

            A node whose store still catches up or relearns in strong buckets' consensus
            says so on a last line (docs/operations.md, Replace a node).

            Examples:
              quorumkv cluster status
              quorumkv cluster status --endpoint http://127.0.0.1:8082
              quorumkv cluster status --json

            \(ClientExitCode.helpText)
            """
    )

    @Option(help: ArgumentHelp("The node to ask (default http://127.0.0.1:8081, or $QUORUMKV_ENDPOINT).", valueName: "url"))
    var endpoint: String?

    @OptionGroup var credentials: CredentialFlags

    @Flag(help: "Print the node's /status JSON.")
    var json = false

    func run() async throws {
        let target = TargetFlags.endpoint(given: endpoint)
        let response: HTTPClientResponse
        do {
            response = try await KVHTTPClient(baseURL: target, authorization: credentials.checkedAuthorization).send(method: "GET", path: "/status", timeout: .seconds(5))
        } catch {
            FileOutput.standardError("error: \(error)\n")
            throw ClientExitCode.code(for: error).exitCode
        }
        guard response.status == 200 else {
            let error = KVHTTPClient.serverError(response)
            FileOutput.standardError("error: \(error)\n")
            throw ClientExitCode.code(for: error).exitCode
        }
        if json {
            FileOutput.standardOutput(response.body)
            FileOutput.standardOutput("\n")
            return
        }
        guard let status = try? JSONDecoder().decode(NodeStatus.self, from: Data(response.body)) else {
            FileOutput.standardError("error: \(target)/status did not answer a QuorumKV status document\n")
            throw ClientExitCode.serverError.exitCode
        }
        FileOutput.standardOutput(Self.render(status))
    }

    static func render(_ status: NodeStatus) -> String {
        var lines = ["node \(status.node) (QuorumKV \(status.version), up \(status.uptimeSeconds) s), ring of \(status.ring.partitionCount) partitions"]
        lines.append("")
        lines.append("member      state  seen as  phi      partitions  address")
        for member in status.members {
            let seen = member.status == "left" ? "-" : member.reachable ? "up" : "DOWN"
            lines.append(
                "\(member.node.padding(toLength: 11, withPad: " ", startingAt: 0)) "
                    + "\(member.status.padding(toLength: 6, withPad: " ", startingAt: 0)) "
                    + "\(seen.padding(toLength: 8, withPad: " ", startingAt: 0)) "
                    + "\(String(format: "%-8.2f", member.phi)) "
                    + "\(String(member.partitions).padding(toLength: 11, withPad: " ", startingAt: 0)) \(member.address)")
        }
        lines.append("")
        lines.append(
            "hints: \(status.hints.pending) pending (\(status.hints.pendingBytes) bytes), \(status.hints.delivered) delivered, "
                + "\(status.hints.refused) refused, \(status.hints.expired) expired")
        lines.append("read repair: \(status.repair.readRepairs) reads repaired \(status.repair.readRepairReplicas) replica copies")
        let entropy = status.antiEntropy
        lines.append(
            "anti-entropy: \(entropy.enabled ? "on" : "off"), \(entropy.partitionsExchanged) exchanges "
                + "(\(entropy.failedExchanges) failed), \(entropy.keysRepaired) keys repaired, \(entropy.hashesMoved) hashes moved, "
                + "last took \(entropy.lastExchangeMilliseconds) ms")
        if entropy.transfersPending > 0 {
            lines.append("ring change: \(entropy.transfersPending) partition transfers pending, \(entropy.transfersDone) done")
        }
        lines.append(
            "storage: \(status.storage.keys) keys, \(status.storage.queuedWrites) writes queued, "
                + "\(status.storage.committedTransactions) transactions committed")
        if let consensus = status.consensus, consensus != "voting" {
            lines.append("strong consensus: \(consensus.replacingOccurrences(of: "_", with: " ")) (docs/operations.md, Replace a node)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
