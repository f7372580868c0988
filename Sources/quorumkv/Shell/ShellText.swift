import QuorumCore
import QuorumNode

/// How `quorumkv shell` shows values, levels and its prompt.
enum ShellText {
    /// `qkv 127.0.0.1:8081 default r=quorum w=quorum> `; levels left to the bucket show as `bucket`.
    static func prompt(endpoint: String, bucket: String, options: RequestOptions) -> String {
        var parts = ["qkv", hostPort(endpoint), bucket, "r=\(level(options.r))", "w=\(level(options.w))"]
        if let n = options.n { parts.append("n=\(n)") }
        if let pr = options.pr { parts.append("pr=\(pr.description)") }
        if let pw = options.pw { parts.append("pw=\(pw.description)") }
        if let timeout = options.timeoutMilliseconds { parts.append("timeout=\(timeout)ms") }
        return parts.joined(separator: " ") + "> "
    }

    static func hostPort(_ endpoint: String) -> String {
        var text = Substring(endpoint)
        if text.lowercased().hasPrefix("http://") { text = text.dropFirst("http://".count) }
        while text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }

    /// `r=quorum w=bucket n=bucket`, then `pr=…` and `pw=…` when they are set.
    static func levels(_ options: RequestOptions) -> String {
        var parts = ["r=\(level(options.r))", "w=\(level(options.w))", "n=\(options.n.map(String.init) ?? "bucket")"]
        if let pr = options.pr { parts.append("pr=\(pr.description)") }
        if let pw = options.pw { parts.append("pw=\(pw.description)") }
        return parts.joined(separator: " ")
    }

    static func timeout(_ options: RequestOptions) -> String {
        options.timeoutMilliseconds.map { "timeout=\($0)ms" }
            ?? "timeout=default (the server's, \(Limits.defaults.requestTimeoutMillisecondsDefault)ms)"
    }

    private static func level(_ level: ConsistencyLevel?) -> String { level?.description ?? "bucket" }

    /// A value as a line: its text when it is UTF-8, else `base64:<…>`.
    static func value(_ bytes: [UInt8]) -> String {
        let (text, encoding) = HTTPValueText.encode(bytes)
        return encoding == "utf8" ? text : "base64:" + text
    }

    /// What `GET` prints.
    static func read(_ result: ClientReadResult, key: String) -> String {
        switch result.siblings.count {
        case 0:
            return "(not found)\n"
        case 1:
            return line(value(result.siblings[0].value))
        default:
            var text = ""
            for (index, sibling) in result.siblings.enumerated() {
                let timestamp = sibling.timestampMilliseconds.map { TimeText.iso8601(milliseconds: $0) } ?? "?"
                text += "sibling \(index + 1) (\(sibling.contentType), \(sibling.actor ?? "?"), \(timestamp)):\n"
                text += line(value(sibling.value))
            }
            text += "context: \(result.context)\n"
            text += "(\(result.siblings.count) siblings; RESOLVE \(quoted(key)) <value> writes one value in their place)\n"
            return text
        }
    }

    static func props(_ document: HTTPBucketPropsDocument) -> String {
        "bucket=\(document.bucket) n=\(document.n) r=\(document.r.description) w=\(document.w.description) "
            + "conflict=\(document.conflict.rawValue)" + (document.datatype.map { " datatype=\($0.rawValue)" } ?? "")
            + (document.consistency == .strong ? " consistency=strong" : "") + "\n"
    }

    /// A key as the user would type it back: quoted when it has spaces or quotes.
    static func quoted(_ key: String) -> String {
        guard key.isEmpty || key.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" }) else {
            return key
        }
        var text = "\""
        for character in key {
            switch character {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default: text.append(character)
            }
        }
        return text + "\""
    }

    private static func line(_ text: String) -> String { text.hasSuffix("\n") ? text : text + "\n" }
}
