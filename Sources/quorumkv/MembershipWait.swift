import ArgumentParser
import Foundation
import QuorumNode

/// What `cluster join` and `cluster leave` share: one call with the CLI's error handling,
/// then a bounded wait for the node to reach a status.
enum MembershipWait {
    static func call(_ body: () async throws(KVClientError) -> MembershipChange) async throws -> MembershipChange {
        do {
            return try await body()
        } catch {
            FileOutput.standardError("error: \(error)\n")
            throw ClientExitCode.code(for: error).exitCode
        }
    }

    /// Polls the node's `/status` every 500 ms until it reports `status` for itself —
    /// for `left`, until it stops answering (it exits once it has left) — printing the
    /// transfers still pending when that number changes. Fails after `timeoutSeconds`.
    static func poll(client: KVHTTPClient, node: String, until status: String, timeoutSeconds: Int) async throws {
        let deadline = Date().addingTimeInterval(TimeInterval(timeoutSeconds))
        var lastPending = -1
        while Date() < deadline {
            do {
                let report = try await client.status(timeout: .seconds(5))
                let own = report.members.first { $0.node == node }?.status
                if own == status { return }
                if report.antiEntropy.transfersPending != lastPending {
                    lastPending = report.antiEntropy.transfersPending
                    FileOutput.standardOutput("\(node): \(own ?? "unknown"), \(lastPending) partition transfers pending\n")
                }
            } catch .unreachable where status == "left" {
                return  // the process exits once it has left
            } catch {
                FileOutput.standardError("error: \(error)\n")
                throw ClientExitCode.code(for: error).exitCode
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        FileOutput.standardError(
            "error: \(node) did not become \(status) within \(timeoutSeconds) s; `quorumkv cluster status` shows its transfers\n")
        throw ClientExitCode.serverError.exitCode
    }
}
