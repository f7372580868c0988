import ArgumentParser
import QuorumNode

/// The exit codes of `quorumkv get|put|delete`, documented in each command's help.
enum ClientExitCode: Int32 {
    case success = 0
    /// The key is absent or deleted (get).
    case notFound = 1
    /// Bad flags or parameters, or the server rejected the request (400, 413).
    case usage = 2
    /// Too few replicas answered (server 503 `quorum_not_met`).
    case quorumNotMet = 3
    /// The node could not be reached, or did not answer in time.
    case unreachable = 4
    /// Any other server error (500, 503 `overloaded` or `unavailable`, a bad response).
    case serverError = 5
    /// A conditional write's condition did not hold (server 412 `precondition_failed`):
    /// `--if-match` or `--if-absent`; nothing was written.
    case conditionFailed = 6

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// Text for each command's `--help`.
    static let helpText = """
        Exit codes:
          0  success
          1  not found (the key is absent or deleted)
          2  usage error: bad flags or parameters (or server 400/413)
          3  quorum not met: too few replicas answered (server 503 quorum_not_met)
          4  unreachable: the connection failed or timed out
          5  other server error (500, 503 overloaded or unavailable, 412 sibling_limit, bad response)
          6  condition failed: --if-match or --if-absent did not hold (server 412); nothing was written
        """

    /// The exit code for a failed client call.
    static func code(for error: KVClientError) -> ClientExitCode {
        switch error {
        case .unreachable, .timedOut:
            return .unreachable
        case .invalidEndpoint:
            return .usage
        case .server(let status, let code, _, _):
            switch (status, code) {
            case (_, "quorum_not_met"): return .quorumNotMet
            case (412, "precondition_failed"): return .conditionFailed
            case (404, "not_found"): return .notFound
            case (400, _), (405, _), (413, _), (414, _), (431, _): return .usage
            default: return .serverError
            }
        case .badResponse, .responseTooLarge:
            return .serverError
        }
    }
}

/// Runs a root command like `AsyncParsableCommand.main()`, but argument-parsing errors
/// exit with `ClientExitCode.usage` (2) instead of ArgumentParser's EX_USAGE (64), so
/// every usage error has the documented code. Use from the root command:
/// `static func main() async { await CommandRunner.main(QuorumKV.self) }`.
enum CommandRunner {
    static func main<Root: AsyncParsableCommand>(_ root: Root.Type, arguments: [String]? = nil) async {
        do {
            var command = try root.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = root.exitCode(for: error)
            if code == .validationFailure {
                let message = root.fullMessage(for: error)
                FileOutput.standardError(message.hasSuffix("\n") ? message : message + "\n")
                root.exit(withError: ClientExitCode.usage.exitCode)
            }
            root.exit(withError: error)
        }
    }
}
