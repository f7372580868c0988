import QuorumCore

/// A raw HTTP response as `KVHTTPClient.send` returns it.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }
}

/// Why a client call failed.
public enum KVClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The endpoint could not be reached (refused, unresolvable, connect timeout).
    case unreachable(endpoint: String, reason: String)
    /// Connected, but no complete answer came within the timeout.
    case timedOut(endpoint: String, milliseconds: Int64)
    /// The server answered with an error (non-2xx, other than 300 and a GET's 404).
    case server(status: Int, code: String, message: String, body: [UInt8])
    /// The endpoint string is not `http://host:port`.
    case invalidEndpoint(String)
    /// The answer was not HTTP the client understands, or was cut off.
    case badResponse(String)
    /// The answer's body is over the client's bound.
    case responseTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .unreachable(let endpoint, let reason): return "cannot reach \(endpoint): \(reason)"
        case .timedOut(let endpoint, let milliseconds): return "no answer from \(endpoint) within \(milliseconds) ms"
        case .server(let status, let code, let message, _): return "server answered \(status) \(code): \(message)"
        case .invalidEndpoint(let text): return "invalid endpoint \"\(text)\": expected http://host:port or https://host:port"
        case .badResponse(let reason): return "bad response: \(reason)"
        case .responseTooLarge(let limit): return "response larger than \(limit) bytes"
        }
    }

    /// The server's error code (`quorum_not_met`, …) when the server sent one.
    public var serverCode: String? {
        if case .server(_, let code, _, _) = self { return code }
        return nil
    }
}

/// One version of a value as the client sees it.
public struct ClientSibling: Sendable, Equatable {
    public var value: [UInt8]
    public var contentType: String
    /// Known when the server listed siblings (300); nil for a single value (200).
    public var timestampMilliseconds: UInt64?
    public var actor: String?

    public init(value: [UInt8], contentType: String, timestampMilliseconds: UInt64? = nil, actor: String? = nil) {
        self.value = value
        self.contentType = contentType
        self.timestampMilliseconds = timestampMilliseconds
        self.actor = actor
    }
}

/// A GET's answer: no siblings (404), one (200) or several (300), and the context.
public struct ClientReadResult: Sendable, Equatable {
    public var siblings: [ClientSibling]
    /// Opaque token to send back with a write; empty when the key has no history.
    public var context: String
    /// A strong bucket's value: its ETag token (without the quotes), to send back with
    /// `ifMatch`. Nil on eventual buckets and for an absent key.
    public var etag: String?

    public var found: Bool { !siblings.isEmpty }

    /// The value when there is exactly one version.
    public var value: [UInt8]? { siblings.count == 1 ? siblings[0].value : nil }

    public init(siblings: [ClientSibling], context: String, etag: String? = nil) {
        self.siblings = siblings
        self.context = context
        self.etag = etag
    }
}

/// A PUT's or DELETE's answer.
public struct ClientWriteResult: Sendable, Equatable {
    /// Context of the version written, when the server knows it (vclock buckets).
    public var context: String
    /// The key's live versions after the write, when the PUT asked `returnBody`.
    public var siblings: [ClientSibling]
    /// A strong bucket's write: the new value's ETag token (nil after a delete, and on
    /// eventual buckets).
    public var etag: String?

    public init(context: String, siblings: [ClientSibling] = [], etag: String? = nil) {
        self.context = context
        self.siblings = siblings
        self.etag = etag
    }
}

/// The ETag header as the client keeps it: the token without its quotes.
enum ClientETag {
    static func token(_ response: HTTPClientResponse) -> String? {
        guard var value = response.header(HTTPStrongHeaders.etag), !value.isEmpty else { return nil }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        return value
    }

    /// The `If-Match` value for a token given with or without its quotes (or `*`).
    static func header(_ token: String) -> String {
        token == "*" || (token.hasPrefix("\"") && token.hasSuffix("\"") && token.count >= 2) ? token : "\"\(token)\""
    }
}

extension RequestOptions {
    /// The options as `/kv` query parameters: n, r, w, pr, pw, timeout.
    public var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let n { items.append(("n", String(n))) }
        if let r { items.append(("r", r.description)) }
        if let w { items.append(("w", w.description)) }
        if let pr { items.append(("pr", pr.description)) }
        if let pw { items.append(("pw", pw.description)) }
        if let timeoutMilliseconds { items.append(("timeout", String(timeoutMilliseconds))) }
        return items
    }
}
