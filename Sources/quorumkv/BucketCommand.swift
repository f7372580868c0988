import ArgumentParser
import QuorumCore
import QuorumNode

/// `quorumkv bucket show|create`: a bucket's props, and making a bucket with the ones
/// fixed at creation (today: a strong bucket; `quorumkv type create` makes typed ones).
struct BucketCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bucket",
        abstract: "Show a bucket's properties, or create a strongly consistent bucket.",
        subcommands: [BucketShowCommand.self, BucketCreateCommand.self]
    )
}

/// The flags of `bucket show` and `bucket create`: node, bucket, credentials, output.
/// Not `ClientOptions`: its `--consistency` is a request's r/w level, while here it is
/// the bucket's consistency model.
struct BucketFlags: ParsableArguments {
    @OptionGroup var target: TargetFlags

    @Flag(help: "Print the props as JSON on stdout (the API's document).")
    var json = false
}

struct BucketShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a bucket's properties.",
        discussion: """
            Prints `bucket=… n=… r=… w=… conflict=…`, then `datatype=…` for a typed bucket and \
            `consistency=strong` for a strong one; --json prints the API's props document.

            Examples:
              quorumkv bucket show --bucket accounts
              quorumkv bucket show --bucket accounts --json

            \(ClientExitCode.helpText)
            """
    )

    @OptionGroup var flags: BucketFlags

    func run() async throws {
        do throws(CommandFailure) {
            try flags.target.checkBucket()
            let document: HTTPBucketPropsDocument
            do {
                document = try await flags.target.client().bucketProps(bucket: flags.target.bucket)
            } catch {
                throw CommandFailure(error)
            }
            if flags.json { FileOutput.json(document) } else { FileOutput.standardOutput(ShellText.props(document)) }
        } catch {
            throw error.report(json: flags.json)
        }
    }
}

struct BucketCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a bucket with its fixed properties, e.g. a strongly consistent one.",
        discussion: """
            --consistency strong makes --bucket a strong bucket (docs/strong.md): every read \
            and write of a key is linearizable and conditional writes (put --if-match, \
            --if-absent) are offered. Consistency is fixed when a bucket is created: a bucket \
            that already has props (or holds data under them) can't become strong, and a \
            strong bucket's n can't change later, so give --n now if not 3. The command \
            answers once every member holds the props; exit 5 (unavailable) when one did not \
            confirm: run it again once the member is back.

            Examples:
              quorumkv bucket create --bucket accounts --consistency strong
              quorumkv bucket create --bucket locks --consistency strong --n 5
              quorumkv bucket create --bucket solo --consistency strong --n 1

            \(ClientExitCode.helpText)
            """
    )

    @Option(help: ArgumentHelp(
        "The bucket's consistency model: eventual or strong (not given: a new bucket is eventual, an existing one keeps its own).",
        valueName: "model"))
    var consistency: String?

    @Option(help: ArgumentHelp("Replicas of each key (default 3; fixed for a strong bucket).", valueName: "count"))
    var n: Int?

    @OptionGroup var flags: BucketFlags

    func run() async throws {
        do throws(CommandFailure) {
            try flags.target.checkBucket()
            var model: BucketConsistency?
            if let consistency {
                guard let parsed = BucketConsistency(rawValue: consistency.lowercased()) else {
                    throw CommandFailure.usage("--consistency must be eventual or strong, got \"\(consistency)\"")
                }
                model = parsed
            }
            if let n, n < 1 { throw CommandFailure.usage("--n must be a positive integer, got \(n)") }
            let document: HTTPBucketPropsDocument
            do {
                document = try await flags.target.client().setBucketProps(
                    bucket: flags.target.bucket, update: BucketPropsUpdate(n: n, consistency: model))
            } catch {
                throw CommandFailure(error)
            }
            if flags.json { FileOutput.json(document) } else { FileOutput.standardOutput(ShellText.props(document)) }
        } catch {
            throw error.report(json: flags.json)
        }
    }
}
