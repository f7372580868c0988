import ArgumentParser
import Foundation
import QuorumCore
import QuorumNode

struct ShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "An interactive shell, like cqlsh or redis-cli.",
        discussion: """
            The prompt shows the node, the bucket and the levels of later requests, such \
            as `qkv 127.0.0.1:8081 default r=quorum w=quorum> `, where `bucket` stands for \
            the bucket's own default. Type HELP in the shell for the commands:

              GET <key>                  PUT <key> <value>         RESOLVE <key> <value>
              DELETE <key> [CONTEXT]     USE <bucket>              CONTEXT
              CONSISTENCY [QUORUM | R 2 W 3 N 3 | DEFAULT]         TIMEOUT [<ms> | DEFAULT]
              KEYS [limit], KEYS MORE    PROPS                     HISTORY [count], !n, !!
              CONNECT [host:port]        HELP [command]            QUIT, EXIT or Ctrl-D

            A PUT value is the rest of the line, or one "quoted" string (\\n, \\t, \\" and \\\\ \
            escapes inside double quotes). RESOLVE and DELETE … CONTEXT write with the context \
            of the last GET of that key. Errors print `error: <code>: <message>` on stderr and \
            the shell goes on.

            History: the last \(ShellHistory.defaultLimit) lines are kept in \
            ~/\(ShellHistory.fileName) (or $\(ShellHistory.environmentVariable), or \
            --history-file); lines that start with a space are not saved. HISTORY lists them \
            and !n runs line n again. There is no line editing built in: for arrow keys and \
            search, run the shell under rlwrap (Debian package rlwrap): rlwrap quorumkv shell

            When stdin is not a terminal, the lines are read from it without prompts or \
            history file, so the shell runs scripts.

            \(ClientHelp.common)

            Examples:
              quorumkv shell
              quorumkv shell --endpoint http://127.0.0.1:8082 --bucket carts --r all
              rlwrap quorumkv shell
              printf 'CONSISTENCY ALL\\nPUT greeting hello\\nGET greeting\\n' | quorumkv shell

            Exit codes (when the input ends, or after QUIT):
              0  every line succeeded; a GET of an absent key prints (not found) and
                 succeeds
              2  the last line that failed was a usage error: an unknown command, a bad
                 value, or the server's 400/413 (also: bad flags of quorumkv shell)
              3  ... quorum not met (server 503 quorum_not_met)
              4  ... unreachable: the connection failed or timed out
              5  ... another server error (500, 503 overloaded or unavailable, bad response)
              6  ... a condition failed (server 412 precondition_failed)
            """
    )

    @OptionGroup var request: RequestFlags

    @Option(help: ArgumentHelp(
        "History file (default $\(ShellHistory.environmentVariable), else ~/\(ShellHistory.fileName)).", valueName: "path"))
    var historyFile: String?

    @Flag(help: "Keep no history file (HISTORY and !n still work within the session).")
    var noHistory = false

    func run() async throws {
        let options: RequestOptions
        do throws(CommandFailure) {
            options = try request.requestOptions()
        } catch {
            throw error.report(json: false)
        }
        let interactive = FileOutput.standardInputIsTerminal
        let historyPath = interactive && !noHistory ? (historyFile ?? ShellHistory.defaultPath()) : nil
        let session = ShellSession(
            endpoint: request.resolvedEndpoint, bucket: request.bucket, options: options,
            history: ShellHistory(path: historyPath), interactive: interactive,
            authorization: request.target.credentials.checkedAuthorization)
        if interactive { await greet(session) }
        while true {
            if interactive { FileOutput.standardOutput(session.prompt) }
            guard let line = readLine(strippingNewline: true) else {
                if interactive { FileOutput.standardOutput("\n") }
                break
            }
            if await session.run(line: line) == .quit { break }
        }
        if let failure = session.lastFailure { throw failure.exitCode }
    }

    /// Says which node answers, or that none does (the shell starts anyway).
    private func greet(_ session: ShellSession) async {
        let client = KVHTTPClient(baseURL: session.endpoint, authorization: session.authorization)
        do {
            let health = try await client.health(timeout: .seconds(2))
            FileOutput.standardOutput("Connected to \(health.node) at \(session.endpoint).\n")
        } catch {
            FileOutput.standardError("warning: \(error.description); the shell starts anyway\n")
        }
        FileOutput.standardOutput("Type HELP for commands, QUIT or Ctrl-D to leave.\n")
    }
}
