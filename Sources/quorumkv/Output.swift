import ArgumentParser
import Foundation
import QuorumCore
import QuorumNode

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to stdout and stderr as bytes (values may be binary).
enum FileOutput {
    static func standardOutput(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    static func standardOutput(_ text: String) {
        standardOutput(Array(text.utf8))
    }

    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var standardInputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    static func json<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"internal","message":"output could not be encoded"}"#.utf8)
        standardOutput(Array(data) + [UInt8(ascii: "\n")])
    }
}

/// `--json` output of `get`.
struct ReadOutput: Encodable {
    struct Entry: Encodable {
        var value: String
        var encoding: String
        var contentType: String
        var timestampMilliseconds: UInt64?
        var actor: String?

        enum CodingKeys: String, CodingKey {
            case value, encoding, actor
            case contentType = "content_type"
            case timestampMilliseconds = "timestamp_ms"
        }
    }

    var found: Bool
    var siblings: [Entry]
    var context: String
    /// A strong bucket's value: its ETag token (absent on eventual buckets).
    var etag: String?

    init(_ result: ClientReadResult) {
        found = result.found
        context = result.context
        etag = result.etag
        siblings = result.siblings.map { sibling in
            let (text, encoding) = HTTPValueText.encode(sibling.value)
            return Entry(
                value: text, encoding: encoding, contentType: sibling.contentType,
                timestampMilliseconds: sibling.timestampMilliseconds, actor: sibling.actor)
        }
    }
}

/// `--json` output of `put` and `delete`.
struct WriteOutput: Encodable {
    var ok: Bool
    var context: String
    /// A strong bucket's write: the new value's ETag token (absent on eventual buckets).
    var etag: String? = nil
}

/// `--json` output of a failure (also printed as `error: <code>: <message>` on stderr).
struct ErrorOutput: Encodable {
    var error: String
    var message: String
}

/// A command's failure: what to print and the exit code.
struct CommandFailure: Error {
    var code: String
    var message: String
    var exit: ClientExitCode
    /// The command printed its own output for this failure; only the exit code remains.
    var alreadyReported = false

    static func usage(_ message: String) -> CommandFailure {
        CommandFailure(code: "bad_parameter", message: message, exit: .usage)
    }

    init(code: String, message: String, exit: ClientExitCode, alreadyReported: Bool = false) {
        self.code = code
        self.message = message
        self.exit = exit
        self.alreadyReported = alreadyReported
    }

    init(_ error: KVClientError) {
        exit = ClientExitCode.code(for: error)
        switch error {
        case .server(_, let code, let message, _):
            self.code = code
            self.message = message
        case .unreachable:
            code = "unreachable"
            message = error.description
        case .timedOut:
            code = "timeout"
            message = error.description
        case .invalidEndpoint:
            code = "bad_parameter"
            message = error.description
        case .badResponse, .responseTooLarge:
            code = "bad_response"
            message = error.description
        }
    }

    /// Prints the failure (stderr; also stdout as JSON with `--json`) and returns the exit code to throw.
    func report(json: Bool) -> ExitCode {
        guard !alreadyReported else { return exit.exitCode }
        FileOutput.standardError("error: \(code): \(message)\n")
        if json { FileOutput.json(ErrorOutput(error: code, message: message)) }
        return exit.exitCode
    }
}

enum TimeText {
    /// `2025-01-02T03:04:05.678Z`
    static func iso8601(milliseconds: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
