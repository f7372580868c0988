import ArgumentParser
import Foundation
import QuorumCore
import QuorumNode

/// The node and bucket a client command talks to: shared by `get`, `put`, `delete`,
/// `keys` and `shell`.
struct TargetFlags: ParsableArguments {
    static let defaultEndpoint = "http://127.0.0.1:8081"
    static let endpointEnvironmentVariable = "QUORUMKV_ENDPOINT"

    @Option(help: ArgumentHelp(
        "The node to talk to (default \(defaultEndpoint), or $\(endpointEnvironmentVariable) when set).",
        valueName: "url"))
    var endpoint: String?

    @Option(help: "The bucket: 1-64 of A-Z a-z 0-9 _ . -")
    var bucket: String = "default"

    @OptionGroup var credentials: CredentialFlags

    /// `--endpoint`, else `$QUORUMKV_ENDPOINT`, else the default.
    var resolvedEndpoint: String { Self.endpoint(given: endpoint) }

    /// `given`, else `$QUORUMKV_ENDPOINT`, else the default: how every client command picks its node.
    static func endpoint(given: String?) -> String {
        if let given, !given.isEmpty { return given }
        if let value = ProcessInfo.processInfo.environment[endpointEnvironmentVariable], !value.isEmpty {
            return value
        }
        return defaultEndpoint
    }

    /// The client, logged in as `credentials` say (checked in their `validate()`).
    func client() -> KVHTTPClient {
        KVHTTPClient(baseURL: resolvedEndpoint, authorization: credentials.checkedAuthorization)
    }

    func checkBucket() throws(CommandFailure) {
        do {
            try validateBucketName(bucket)
        } catch {
            throw .usage("--bucket: \(error.message)")
        }
    }

    /// A `--timeout` value in milliseconds, checked.
    static func milliseconds(_ text: String?) throws(CommandFailure) -> Int? {
        guard let text else { return nil }
        guard let milliseconds = Int(text), milliseconds >= 1 else {
            throw .usage("--timeout must be a positive number of milliseconds, got \"\(text)\"")
        }
        return milliseconds
    }
}

/// Where a request goes and with which n/r/w: shared by `get`, `put`, `delete` and `shell`.
///
/// Numbers and levels are taken as text and checked in `requestOptions()`, so every bad
/// value exits with the documented usage code (2) and a message naming the flag.
struct RequestFlags: ParsableArguments {
    @OptionGroup var target: TargetFlags

    @Option(help: ArgumentHelp("Replicas this request uses (at most the bucket's n).", valueName: "count"))
    var n: String?

    @Option(help: ArgumentHelp("Replicas that must answer a read: a number, or one/two/three/quorum/all.", valueName: "level"))
    var r: String?

    @Option(help: ArgumentHelp("Replicas that must acknowledge a write: a number, or one/two/three/quorum/all.", valueName: "level"))
    var w: String?

    @Option(help: ArgumentHelp("Primary replicas (no stand-ins) that must answer a read.", valueName: "level"))
    var pr: String?

    @Option(help: ArgumentHelp("Primary replicas (no stand-ins) that must acknowledge a write.", valueName: "level"))
    var pw: String?

    @Option(help: ArgumentHelp(
        "Sets both r and w for this request, where --r/--w are not given (ONE, TWO, QUORUM, ALL or a number).",
        valueName: "level"))
    var consistency: String?

    @Option(help: ArgumentHelp("Request timeout in milliseconds (server default 2000).", valueName: "ms"))
    var timeout: String?

    var bucket: String { target.bucket }
    var resolvedEndpoint: String { target.resolvedEndpoint }

    func client() -> KVHTTPClient { target.client() }

    /// The per-request options, checked.
    func requestOptions() throws(CommandFailure) -> RequestOptions {
        var options = RequestOptions()
        try target.checkBucket()
        if let n {
            guard let number = Int(n), number >= 1 else { throw .usage("--n must be a positive integer, got \"\(n)\"") }
            options.n = number
        }
        let consistency = try Self.level("consistency", self.consistency)
        options.r = try Self.level("r", r) ?? consistency
        options.w = try Self.level("w", w) ?? consistency
        options.pr = try Self.level("pr", pr)
        options.pw = try Self.level("pw", pw)
        options.timeoutMilliseconds = try TargetFlags.milliseconds(timeout)
        return options
    }

    static func level(_ flag: String, _ text: String?) throws(CommandFailure) -> ConsistencyLevel? {
        guard let text else { return nil }
        guard let level = ConsistencyLevel(parsing: text) else {
            throw .usage("--\(flag) must be a number or one of one, two, three, quorum, all; got \"\(text)\"")
        }
        return level
    }
}

/// The options of `get`, `put` and `delete`: the request flags and the output flags.
struct ClientOptions: ParsableArguments {
    @OptionGroup var request: RequestFlags

    @Flag(help: "Print JSON on stdout for scripts.")
    var json = false

    @Flag(name: .shortAndLong, help: "Also print the context token on stderr.")
    var verbose = false

    var bucket: String { request.bucket }

    func client() -> KVHTTPClient { request.client() }

    func requestOptions() throws(CommandFailure) -> RequestOptions { try request.requestOptions() }

    static func checkKey(_ key: String) throws(CommandFailure) {
        guard !key.isEmpty else { throw .usage("the key must not be empty") }
    }
}

/// Shared help text: endpoint and options.
enum ClientHelp {
    static let common = """
        The node is --endpoint, else $QUORUMKV_ENDPOINT, else http://127.0.0.1:8081. \
        Any node answers any key. --r/--w/--pr/--pw take a number or ONE, TWO, THREE, QUORUM, ALL; \
        --consistency sets r and w at once.
        """
}
