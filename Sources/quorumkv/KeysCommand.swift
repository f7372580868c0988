import ArgumentParser
import Foundation
import QuorumNode

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List a bucket's keys, page by page.",
        discussion: """
            Prints one key per line, in the cluster's listing order (by partition, then by \
            key), at most --limit of them (default \(defaultLimit)); --all pages through the \
            whole bucket. Keys are printed as each page arrives, so memory stays bounded. \
            Deleted keys are left out; each partition is read from one replica, so a write or \
            delete of the last moments may not show yet. A key that is not UTF-8 is printed \
            as base64:<base64>. \
            When keys remain, stderr says how to go on: `more: --cursor <token>`.

            --json prints {"keys":[…],"keys_base64":[…],"next":<cursor or null>} like the \
            HTTP API: keys that are not UTF-8 are in keys_base64; next is the cursor to pass \
            to --cursor for the following keys (null when the listing is complete).

            The node is --endpoint, else $QUORUMKV_ENDPOINT, else http://127.0.0.1:8081.

            Examples:
              quorumkv keys
              quorumkv keys --bucket carts --limit 10
              quorumkv keys --bucket carts --all > keys.txt
              quorumkv keys --bucket carts --limit 500 --cursor "$cursor"
              quorumkv keys --json | jq -r .next

            Exit codes:
              0  success (an empty bucket too)
              2  usage error: bad flags, or a cursor this cluster did not issue (server 400)
              3  quorum not met: no replica of some partition answered (server 503)
              4  unreachable: the connection failed or timed out
              5  other server error (500, 503 overloaded, bad response, no keys route)
            """
    )

    static let defaultLimit = 1000

    @OptionGroup var target: TargetFlags

    @Option(help: ArgumentHelp("Most keys to print (default \(defaultLimit)).", valueName: "count"))
    var limit: String?

    @Flag(help: "Print every key of the bucket.")
    var all = false

    @Option(help: ArgumentHelp("Start after the keys a previous listing printed (its `next`).", valueName: "token"))
    var cursor: String?

    @Option(help: ArgumentHelp("Timeout of each page's request in milliseconds.", valueName: "ms"))
    var timeout: String?

    @Flag(help: "Print JSON on stdout for scripts.")
    var json = false

    func run() async throws {
        do throws(CommandFailure) {
            try target.checkBucket()
            let limit = try checkedLimit()
            let paging = KeyPaging(
                client: target.client(), bucket: target.bucket, timeoutMilliseconds: try TargetFlags.milliseconds(timeout))
            let printer = KeysPrinter(json: json)
            let next: String?
            do {
                next = try await paging.keys(limit: limit, from: cursor) { printer.print($0) }
            } catch {
                var failure = CommandFailure(error)
                // A 404 here is a server without the keys route, not an absent key.
                if failure.exit == .notFound { failure.exit = .serverError }
                if printer.abandon(failure) {
                    FileOutput.standardError("error: \(failure.code): \(failure.message)\n")
                    failure.alreadyReported = true
                }
                throw failure
            }
            printer.end(next: next)
        } catch {
            throw error.report(json: json)
        }
    }

    /// nil with --all (no bound).
    private func checkedLimit() throws(CommandFailure) -> Int? {
        if all {
            guard limit == nil else { throw .usage("give --limit or --all, not both") }
            return nil
        }
        guard let limit else { return Self.defaultLimit }
        guard let number = Int(limit), number >= 1 else {
            throw .usage("--limit must be a positive integer, got \"\(limit)\"")
        }
        return number
    }
}

/// Prints keys as they arrive: lines (binary keys as `base64:<…>`), or one JSON document
/// written piece by piece, `{"keys":[…],"keys_base64":[…],"next":…}` as the server's pages.
final class KeysPrinter {
    let json: Bool
    private var started = false
    /// Keys that are not UTF-8, for the JSON's `keys_base64` (rare, so kept until the end).
    private var binary: [String] = []
    private let encoder = JSONEncoder()

    init(json: Bool) {
        self.json = json
        encoder.outputFormatting = [.withoutEscapingSlashes]
    }

    func print(_ page: HTTPKeyPageDocument) {
        guard json else {
            FileOutput.standardOutput((page.keys + page.keysBase64.map { "base64:" + $0 }).map { $0 + "\n" }.joined())
            return
        }
        binary += page.keysBase64
        guard !page.keys.isEmpty else { return }
        var text = started ? "" : #"{"keys":["#
        for key in page.keys {
            text += (started ? "," : "") + encoded(key)
            started = true
        }
        FileOutput.standardOutput(text)
    }

    func end(next: String?) {
        if json {
            FileOutput.standardOutput(closing(next: next) + "}\n")
        } else if let next {
            FileOutput.standardError("more: --cursor \(next)\n")
        }
    }

    /// After a failure mid-listing in JSON: closes the document, with the error in it, so
    /// it still parses. Returns false when nothing was printed yet.
    func abandon(_ failure: CommandFailure) -> Bool {
        guard json, started || !binary.isEmpty else { return false }
        FileOutput.standardOutput(
            closing(next: nil) + #","error":"# + encoded(failure.code) + #","message":"# + encoded(failure.message) + "}\n")
        return true
    }

    private func closing(next: String?) -> String {
        (started ? "" : #"{"keys":["#) + #"],"keys_base64":["# + binary.map(encoded).joined(separator: ",")
            + #"],"next":"# + (next.map(encoded) ?? "null")
    }

    private func encoded(_ text: String) -> String {
        (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
