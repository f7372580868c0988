import QuorumCore
import QuorumNode

/// The state of one `quorumkv shell` (node, bucket, levels, last context, history) and
/// what each line does to it. Output goes to stdout, errors to stderr as
/// `error: <code>: <message>`; an error never ends the session.
final class ShellSession {
    enum Outcome { case proceed, quit }

    /// The context of the last read or write, and the key it belongs to.
    struct KnownContext {
        var bucket: String
        var key: String
        var token: String
    }

    private(set) var endpoint: String
    private(set) var bucket: String
    private(set) var options: RequestOptions
    private(set) var knownContext: KnownContext?
    /// The exit code of the last line that failed (nil when none has).
    private(set) var lastFailure: ClientExitCode?
    let history: ShellHistory
    let interactive: Bool
    private var client: KVHTTPClient
    private let keyLister: ShellKeyLister

    /// The `Authorization` header every request sends (`--user`), kept across `connect`.
    let authorization: String?

    init(
        endpoint: String, bucket: String, options: RequestOptions, history: ShellHistory, interactive: Bool,
        authorization: String? = nil
    ) {
        self.authorization = authorization
        self.endpoint = endpoint
        self.bucket = bucket
        self.options = options
        self.history = history
        self.interactive = interactive
        client = KVHTTPClient(baseURL: endpoint, authorization: authorization)
        keyLister = ShellKeyLister()
    }

    var prompt: String { ShellText.prompt(endpoint: endpoint, bucket: bucket, options: options) }

    /// Runs one line: expands `!n`, records it in the history, parses and executes it.
    func run(line: String) async -> Outcome {
        var line = line
        do throws(CommandFailure) {
            if let expanded = try expandRerun(line) {
                line = expanded
                if interactive { FileOutput.standardOutput(line + "\n") }
            }
            history.add(line)
            let statement: ShellStatement
            do {
                statement = try ShellCommandParser.parse(line)
            } catch {
                throw CommandFailure(code: error.code, message: error.message, exit: .usage)
            }
            return try await execute(statement)
        } catch {
            lastFailure = error.exit
            _ = error.report(json: false)
            return .proceed
        }
    }

    private func expandRerun(_ line: String) throws(CommandFailure) -> String? {
        let trimmed = line.drop(while: \.isWhitespace)
        guard trimmed.hasPrefix("!"), case .rerun(let number)? = try? ShellCommandParser.parse(line) else { return nil }
        if let number {
            guard let earlier = history.line(number) else {
                throw CommandFailure(code: "bad_parameter", message: "no line \(number) in HISTORY", exit: .usage)
            }
            return earlier
        }
        guard let previous = history.lines.last else {
            throw CommandFailure(code: "bad_parameter", message: "no previous line", exit: .usage)
        }
        return previous
    }

    private func execute(_ statement: ShellStatement) async throws(CommandFailure) -> Outcome {
        switch statement {
        case .empty:
            break
        case .get(let key):
            let result = try await call { client, bucket, options throws(KVClientError) in
                try await client.get(bucket: bucket, key: key, options: options)
            }
            knownContext = KnownContext(bucket: bucket, key: key, token: result.context)
            FileOutput.standardOutput(ShellText.read(result, key: key))
        case .put(let key, let value, let ttlSeconds):
            try await write(key: key, value: value, context: nil, ttlSeconds: ttlSeconds)
        case .resolve(let key, let value):
            try await write(key: key, value: value, context: try context(for: key, command: "RESOLVE"))
        case .delete(let key, let withContext):
            let context = withContext ? try self.context(for: key, command: "DELETE … CONTEXT") : nil
            let result = try await call { client, bucket, options throws(KVClientError) in
                try await client.delete(bucket: bucket, key: key, context: context, options: options)
            }
            remember(result, key: key)
            FileOutput.standardOutput("OK\n")
        case .use(let bucket):
            if let bucket, bucket != self.bucket {
                self.bucket = bucket
                keyLister.reset()
            }
            FileOutput.standardOutput("bucket: \(self.bucket)\n")
        case .consistency(let change):
            change?.apply(to: &options)
            FileOutput.standardOutput("consistency: \(ShellText.levels(options))\n")
        case .timeout(let change):
            switch change {
            case .milliseconds(let milliseconds)?: options.timeoutMilliseconds = milliseconds
            case .serverDefault?: options.timeoutMilliseconds = nil
            case nil: break
            }
            FileOutput.standardOutput(ShellText.timeout(options) + "\n")
        case .context:
            guard let knownContext else {
                throw CommandFailure(code: "no_context", message: "no read yet; GET a key first", exit: .usage)
            }
            let token = knownContext.token.isEmpty ? "(empty: the key has no history)" : knownContext.token
            FileOutput.standardOutput(
                "context: \(token) (key \(ShellText.quoted(knownContext.key)) in bucket \(knownContext.bucket))\n")
        case .keys(let limit, let more):
            let text = try await keyLister.list(
                client: client, bucket: bucket, limit: limit ?? ShellKeyLister.defaultLimit, more: more,
                timeoutMilliseconds: options.timeoutMilliseconds)
            FileOutput.standardOutput(text)
        case .props:
            let document = try await call { client, bucket, _ throws(KVClientError) in
                try await client.bucketProps(bucket: bucket)
            }
            FileOutput.standardOutput(ShellText.props(document))
        case .history(let last):
            let lines = history.lines
            let first = max(0, lines.count - (last ?? lines.count))
            for index in first..<lines.count {
                let number = String(index + 1)
                FileOutput.standardOutput(String(repeating: " ", count: max(0, 5 - number.count)) + number + "  " + lines[index] + "\n")
            }
        case .rerun:
            // Expanded before parsing; a `!n` that names another `!n` is refused there.
            throw CommandFailure(code: "bad_parameter", message: "a history line cannot run another", exit: .usage)
        case .connect(let endpoint):
            if let endpoint {
                self.endpoint = endpoint.contains("://") ? endpoint : "http://" + endpoint
                client = KVHTTPClient(baseURL: self.endpoint, authorization: authorization)
                keyLister.reset()
                knownContext = nil
            }
            FileOutput.standardOutput("endpoint: \(self.endpoint)\n")
        case .typed(let command):
            let output = try await call { client, bucket, options throws(KVClientError) in
                try await TypedClientRunner.run(command, client: client, bucket: bucket, options: options)
            }
            guard output.found else {
                throw CommandFailure(code: "not_found", message: "nothing found in bucket \(bucket)", exit: .notFound)
            }
            FileOutput.standardOutput(output.text.isEmpty ? "(empty)\n" : output.text)
        case .help(let topic):
            guard let text = ShellHelp.text(topic: topic) else {
                throw CommandFailure(
                    code: "syntax_error", message: "no command \"\(topic ?? "")\"; type HELP for the list", exit: .usage)
            }
            FileOutput.standardOutput(text)
        case .quit:
            return .quit
        }
        return .proceed
    }

    private func write(key: String, value: String, context: String?, ttlSeconds: UInt64? = nil) async throws(CommandFailure) {
        let result = try await call { client, bucket, options throws(KVClientError) in
            try await client.put(
                bucket: bucket, key: key, value: Array(value.utf8), contentType: ShellSession.contentType,
                context: context, options: options, ttlSeconds: ttlSeconds)
        }
        remember(result, key: key)
        FileOutput.standardOutput("OK\n")
    }

    static let contentType = "text/plain; charset=utf-8"

    /// A write's context supersedes exactly what was written: keep it for `RESOLVE`.
    private func remember(_ result: ClientWriteResult, key: String) {
        guard !result.context.isEmpty else { return }
        knownContext = KnownContext(bucket: bucket, key: key, token: result.context)
    }

    private func context(for key: String, command: String) throws(CommandFailure) -> String {
        guard let knownContext, knownContext.bucket == bucket, knownContext.key == key else {
            throw CommandFailure(
                code: "no_context",
                message: "\(command) needs the context of a GET of \(ShellText.quoted(key)) in bucket \(bucket); GET it first",
                exit: .usage)
        }
        return knownContext.token
    }

    private func call<T>(
        _ body: (KVHTTPClient, String, RequestOptions) async throws(KVClientError) -> T
    ) async throws(CommandFailure) -> T {
        do {
            return try await body(client, bucket, options)
        } catch {
            throw CommandFailure(error)
        }
    }
}
