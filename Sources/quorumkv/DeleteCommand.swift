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

            In a strong bucket (docs/strong.md) --if-match <etag> deletes only if the key still \
            holds the value of that ETag (exit 6 and nothing deleted otherwise).

            \(ClientHelp.common)

            Examples:
              quorumkv delete greeting
              quorumkv delete greeting --w all
              ctx=$(quorumkv get cart --bucket carts --json | jq -r .context)
              quorumkv delete cart --bucket carts --context "$ctx"
              quorumkv delete lock:job42 --bucket locks --if-match "$etag"

            \(ClientExitCode.helpText)
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @Option(help: ArgumentHelp("Context token from an earlier read: the versions this delete supersedes.", valueName: "token"))
    var context: String?

    @Option(help: ArgumentHelp(
        "Strong buckets: delete only if the key still holds the value of this ETag (* for any value).", valueName: "etag"))
    var ifMatch: String?

    @OptionGroup var client: ClientOptions

    func run() async throws {
        do throws(CommandFailure) {
            try ClientOptions.checkKey(key)
            let options = try client.requestOptions()
            if let ifMatch, ifMatch.isEmpty { throw CommandFailure.usage("--if-match needs an ETag (or *)") }
            let result: ClientWriteResult
            do {
                result = try await client.client().delete(
                    bucket: client.bucket, key: key, context: context, options: options, ifMatch: ifMatch)
            } catch {
                throw CommandFailure(error)
            }
            WriteReport.print(result, options: client)
        } catch {
            throw error.report(json: client.json)
        }
    }
}
