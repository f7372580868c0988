import ArgumentParser
import Foundation
import QuorumCore
import QuorumNode

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Write a key's value.",
        discussion: """
            The value is the <value> argument, the contents of --file, or stdin (when <value> \
            is `-`, or when no value is given and stdin is not a terminal). Bytes are stored \
            as given, with --content-type (default application/octet-stream).

            Without --context the write is blind: in an lww bucket the newest write wins; in a \
            vclock bucket it becomes a new sibling. With the --context token a read returned, \
            it replaces the versions that read saw. Nothing is printed on success; --verbose \
            prints the new version's context on stderr, --json prints {"ok":true,"context":…}.

            A write that fails with quorum_not_met (exit 3) may still have been stored on the \
            replicas that acknowledged it.

            In a strong bucket (docs/strong.md) every write is linearizable and answers the new \
            value's ETag (--verbose: `etag: <token>` on stderr; --json: "etag"). --if-match \
            <etag> writes only if the key still holds the value of that ETag (`*`: any value); \
            --if-absent only if it holds none (in an eventual bucket too: create only). A failed \
            condition writes nothing and exits 6. A strong write that fails with unavailable \
            (exit 5) may or may not have been applied: read the key to see.

            \(ClientHelp.common)

            Examples:
              quorumkv put greeting hello
              quorumkv put greeting hello --w 3 --n 3
              quorumkv put greeting hello --consistency quorum --timeout 1000
              quorumkv put photo --file cat.jpg --content-type image/jpeg
              quorumkv put session:42 token --ttl 3600
              echo '{"a":1}' | quorumkv put config --content-type application/json
              ctx=$(quorumkv get cart --bucket carts --json | jq -r .context)
              quorumkv put cart '[1,2]' --bucket carts --context "$ctx"
              quorumkv put lock:job42 me --bucket locks --if-absent
              etag=$(quorumkv get balance --bucket accounts --json | jq -r .etag)
              quorumkv put balance 90 --bucket accounts --if-match "$etag"

            \(ClientExitCode.helpText)
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @Argument(help: "The value, or - to read stdin.")
    var value: String?

    @Option(help: ArgumentHelp("Read the value from this file.", valueName: "path"))
    var file: String?

    @Option(help: ArgumentHelp("The value's content type.", valueName: "type"))
    var contentType: String = "application/octet-stream"

    @Option(help: ArgumentHelp("Context token from an earlier read: the versions this write supersedes.", valueName: "token"))
    var context: String?

    @Option(help: ArgumentHelp(
        "Seconds until the value expires (from the coordinating node's clock); default: the bucket's ttl_seconds, or never.",
        valueName: "seconds"))
    var ttl: UInt64?

    @Option(help: ArgumentHelp(
        "Strong buckets: write only if the key still holds the value of this ETag (from a read or write; * for any value).",
        valueName: "etag"))
    var ifMatch: String?

    @Flag(help: "Write only if the key holds no value (create only; exit 6 when it has one).")
    var ifAbsent = false

    @OptionGroup var client: ClientOptions

    func run() async throws {
        do throws(CommandFailure) {
            try ClientOptions.checkKey(key)
            let options = try client.requestOptions()
            if ifMatch != nil && ifAbsent { throw CommandFailure.usage("give --if-match or --if-absent, not both") }
            if let ifMatch, ifMatch.isEmpty { throw CommandFailure.usage("--if-match needs an ETag (or *)") }
            let bytes = try readValue()
            if let ttl, ttl < 1 || ttl > Limits.defaults.ttlSecondsMax {
                throw CommandFailure.usage("--ttl must be a whole number of seconds from 1 to \(Limits.defaults.ttlSecondsMax)")
            }
            let result: ClientWriteResult
            do {
                result = try await client.client().put(
                    bucket: client.bucket, key: key, value: bytes, contentType: contentType, context: context,
                    options: options, conditions: WriteConditions(ifNoneMatch: ifAbsent), ttlSeconds: ttl, ifMatch: ifMatch)
            } catch {
                throw CommandFailure(error)
            }
            WriteReport.print(result, options: client)
        } catch {
            throw error.report(json: client.json)
        }
    }

    private func readValue() throws(CommandFailure) -> [UInt8] {
        switch (value, file) {
        case (.some, .some):
            throw .usage("give the value as an argument or with --file, not both")
        case (.some(let text), nil) where text != "-":
            return Array(text.utf8)
        case (nil, .some(let path)):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .usage("cannot read --file \(path)")
            }
            return Array(data)
        case (.some, nil):  // "-"
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        case (nil, nil):
            guard !FileOutput.standardInputIsTerminal else {
                throw .usage("no value: give it as an argument, with --file, or on stdin")
            }
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
    }
}

/// What `put` and `delete` print on success.
enum WriteReport {
    static func print(_ result: ClientWriteResult, options: ClientOptions) {
        if options.json {
            FileOutput.json(WriteOutput(ok: true, context: result.context, etag: result.etag))
        } else if options.verbose {
            if !result.context.isEmpty { FileOutput.standardError("context: \(result.context)\n") }
            if let etag = result.etag { FileOutput.standardError("etag: \(etag)\n") }
        }
    }
}
