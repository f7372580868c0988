import ArgumentParser
import QuorumCore
import QuorumNode

/// `quorumkv type <command> <args>`: counters, sets and maps in Redis's words, over the
/// HTTP API. The shell takes the same commands (`TypedClientCommand` parses both).
struct TypeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "type",
        abstract: "Counters, sets and maps in a typed bucket: incr, sadd, smembers, hset, hget, ...",
        discussion: """
            The bucket (--bucket) must be typed: `quorumkv type create set --bucket tags` makes \
            it a set bucket (only before it holds data; the type is then fixed). Command words \
            are case-insensitive:

            \(TypedClientCommand.usage.map { "  \($0.usage)\n      \($0.summary)" }.joined(separator: "\n"))

            Updates print the reply (a new value or a count); --json prints the API's JSON \
            ({"value": 7, "acks": 2} or {"count": 1, "acks": 2}; reads: the value). Removes \
            take away what the node has seen: an add it had not seen survives (add wins). \
            See docs/datatypes.md.

            \(ClientHelp.common)

            Examples:
              quorumkv type create counter --bucket hits
              quorumkv type incrby page:home 5 --bucket hits --w 2
              quorumkv type create set --bucket tags
              quorumkv type sadd post:1 red green --bucket tags
              quorumkv type smembers post:1 --bucket tags --r 2
              quorumkv type create map --bucket users
              quorumkv type hset user:1 name Ada lang Swift --bucket users
              quorumkv type read user:1 --bucket users --json

            \(ClientExitCode.helpText)
            """
    )

    // `allUnrecognized`: a word such as `-5` (`incrby k -5`) is an argument, not an unknown flag.
    @Argument(parsing: .allUnrecognized, help: "The command and its arguments, e.g. `sadd KEY ELEMENT...`.")
    var words: [String]

    @OptionGroup var client: ClientOptions

    func run() async throws {
        do throws(CommandFailure) {
            let command: TypedClientCommand
            do {
                command = try TypedClientCommand.parse(words)
            } catch {
                throw CommandFailure(code: error.code, message: error.message, exit: .usage)
            }
            let options = try client.requestOptions()
            let output: TypedClientOutput
            do {
                output = try await TypedClientRunner.run(command, client: client.client(), bucket: client.bucket, options: options)
            } catch {
                throw CommandFailure(error)
            }
            if client.json { FileOutput.json(output.json) } else { FileOutput.standardOutput(output.text) }
            guard output.found else {
                let message = "nothing found for \(words.joined(separator: " ")) in bucket \"\(client.bucket)\""
                throw CommandFailure(code: "not_found", message: message, exit: .notFound)
            }
        } catch {
            throw error.report(json: client.json)
        }
    }
}
