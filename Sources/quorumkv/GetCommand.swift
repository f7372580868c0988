import ArgumentParser
import QuorumCore
import QuorumNode

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Read a key's value.",
        discussion: """
            Prints the value's bytes on stdout, exactly as stored (a newline is added only when \
            stdout is a terminal and the value lacks one). --verbose also prints the context \
            token on stderr as `context: <token>`; send it back with `put --context` to \
            supersede what you read.

            When the key has several siblings (a vclock bucket after concurrent writes), each \
            is printed as `sibling N (content type, actor, timestamp):` then its value, and \
            finally `context: <token>`; the exit code is still 0. Write with that context to \
            resolve them. --json prints {"found":…,"siblings":[{"value","encoding",\
            "content_type","timestamp_ms","actor"}],"context":…}; values that are not UTF-8 \
            are base64 with "encoding":"base64".

            In a strong bucket (docs/strong.md) the read is linearizable and the value has an \
            ETag instead of a context: --verbose prints `etag: <token>` on stderr, --json adds \
            "etag". Send it back with `put --if-match` or `delete --if-match`.

            \(ClientHelp.common)

            Examples:
              quorumkv get greeting
              quorumkv get greeting --r 2 --bucket sessions
              quorumkv get greeting --consistency all --timeout 500
              quorumkv get greeting --json | jq -r .siblings[0].value
              QUORUMKV_ENDPOINT=http://10.0.0.7:8081 quorumkv get greeting -v
              quorumkv get balance --bucket accounts --json | jq -r .etag

            \(ClientExitCode.helpText)
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @OptionGroup var client: ClientOptions

    func run() async throws {
        do throws(CommandFailure) {
            try ClientOptions.checkKey(key)
            let options = try client.requestOptions()
            let result: ClientReadResult
            do {
                result = try await client.client().get(bucket: client.bucket, key: key, options: options)
            } catch {
                throw CommandFailure(error)
            }
            try print(result)
        } catch {
            throw error.report(json: client.json)
        }
    }

    private func print(_ result: ClientReadResult) throws(CommandFailure) {
        if client.json {
            FileOutput.json(ReadOutput(result))
            if !result.found {
                // The JSON above already says found=false; only stderr gets the error line.
                FileOutput.standardError("error: not_found: \(notFoundMessage)\n")
                throw CommandFailure(code: "not_found", message: notFoundMessage, exit: .notFound, alreadyReported: true)
            }
            return
        }
        switch result.siblings.count {
        case 0:
            throw CommandFailure(code: "not_found", message: notFoundMessage, exit: .notFound)
        case 1:
            writeValue(result.siblings[0].value, newlineForTerminalOnly: true)
            if client.verbose {
                if let etag = result.etag {
                    FileOutput.standardError("etag: \(etag)\n")
                } else {
                    FileOutput.standardError("context: \(result.context)\n")
                }
            }
        default:
            for (index, sibling) in result.siblings.enumerated() {
                let timestamp = sibling.timestampMilliseconds.map { TimeText.iso8601(milliseconds: $0) } ?? "?"
                FileOutput.standardOutput(
                    "sibling \(index + 1) (\(sibling.contentType), \(sibling.actor ?? "?"), \(timestamp)):\n")
                writeValue(sibling.value, newlineForTerminalOnly: false)
            }
            FileOutput.standardOutput("context: \(result.context)\n")
        }
    }

    private var notFoundMessage: String {
        "no value for key \"\(key)\" in bucket \"\(client.bucket)\" (absent or deleted)"
    }

    private func writeValue(_ value: [UInt8], newlineForTerminalOnly: Bool) {
        FileOutput.standardOutput(value)
        let needsNewline = value.last != UInt8(ascii: "\n")
        if needsNewline && (!newlineForTerminalOnly || FileOutput.standardOutputIsTerminal) {
            FileOutput.standardOutput("\n")
        }
    }
}
