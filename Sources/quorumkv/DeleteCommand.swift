import ArgumentParser
import QuorumCore
import QuorumNode

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a key.",
        discussion: """
            Writes a tombstone, versioned like a write, so the key stays deleted on every \
            replica (read repair, hinted handoff and anti-entropy never bring it back). \
            Deleting a key that is absent succeeds. Pass --context from a read to delete \
            exactly the versions that read saw (vclock buckets). Nothing is printed on \
            success; --json prints {"ok":true,"context":…}.

            \(ClientHelp.common)

            Examples:
              quorumkv delete greeting
              quorumkv delete greeting --w all
              ctx=$(quorumkv get cart --bucket carts --json | jq -r .context)
              quorumkv delete cart --bucket carts --context "$ctx"

            \(ClientExitCode.helpText)
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @Option(help: ArgumentHelp("Context token from an earlier read: the versions this delete supersedes.", valueName: "token"))
    var context: String?

    @OptionGroup var client: ClientOptions

    func run() async throws {
        do throws(CommandFailure) {
            try ClientOptions.checkKey(key)
            let options = try client.requestOptions()
            let result: ClientWriteResult
            do {
                result = try await client.client().delete(bucket: client.bucket, key: key, context: context, options: options)
            } catch {
                throw CommandFailure(error)
            }
            WriteReport.print(result, options: client)
        } catch {
            throw error.report(json: client.json)
        }
    }
}
