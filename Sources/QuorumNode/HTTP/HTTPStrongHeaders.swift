import NIOHTTP1
import QuorumCore

/// The ETag headers of a strongly consistent bucket (docs/strong.md): a read answers the
/// value's `ETag`, a write states its condition with `If-Match` or `If-None-Match: *`.
///
/// An ETag is the ballot its value was committed under (`StrongETag`), sent as a quoted
/// opaque token. Strong comparison only: a weak tag (`W/"…"`) is refused, since no two
/// commits are "semantically equal" here. One tag per header, because a compare-and-set
/// checks one condition; `*` stands for "any value" (`If-Match`) or "no value"
/// (`If-None-Match`).
public enum HTTPStrongHeaders {
    public static let etag = "ETag"

    /// The `ETag` header's value: the token in double quotes (RFC 9110 §8.8.3).
    public static func value(of etag: StrongETag) -> String { "\"\(etag.token)\"" }

    /// A PUT's condition: nil for an unconditional write.
    public static func putCondition(headers: HTTPHeaders) throws(KVError) -> StrongCondition? {
        let match = try single(HTTPConditionalHeaders.ifMatch, in: headers)
        let noneMatch = try single(HTTPConditionalHeaders.ifNoneMatch, in: headers)
        switch (match, noneMatch) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw .badParameter(
                name: HTTPConditionalHeaders.ifMatch,
                message: "send either If-Match (replace a value you read) or If-None-Match: * (create only), not both")
        case (let match?, nil):
            return try ifMatchCondition(match)
        case (nil, let noneMatch?):
            guard noneMatch == "*" else {
                throw .badParameter(
                    name: HTTPConditionalHeaders.ifNoneMatch,
                    message: "If-None-Match takes only * (create only) on a strong bucket, got \(noneMatch); "
                        + "to replace the value you read, send If-Match with its ETag")
            }
            return .ifAbsent
        }
    }

    /// A DELETE's condition: nil for an unconditional delete; `If-None-Match` is refused.
    public static func deleteCondition(headers: HTTPHeaders) throws(KVError) -> StrongCondition? {
        if headers.contains(name: HTTPConditionalHeaders.ifNoneMatch) {
            throw .badParameter(
                name: HTTPConditionalHeaders.ifNoneMatch,
                message: "If-None-Match applies to PUT only; to delete only the value you read, send If-Match with its ETag")
        }
        guard let match = try single(HTTPConditionalHeaders.ifMatch, in: headers) else { return nil }
        return try ifMatchCondition(match)
    }

    /// `If-Match: *` holds for any value; `If-Match: "<token>"` for exactly that commit.
    static func ifMatchCondition(_ value: String) throws(KVError) -> StrongCondition {
        if value == "*" { return .ifPresent }
        return .ifMatch(try parse(value, header: HTTPConditionalHeaders.ifMatch))
    }

    /// An entity tag as a client sends it back: `"<token>"` (the quotes may be left out).
    public static func parse(_ value: String, header: String) throws(KVError) -> StrongETag {
        if value.hasPrefix("W/") {
            throw .badParameter(
                name: header, message: "\(header) needs a strong ETag; \(value) is weak (W/), and this server issues none")
        }
        var token = Substring(value)
        if token.count >= 2, token.first == "\"", token.last == "\"" { token = token.dropFirst().dropLast() }
        guard let etag = StrongETag(token: String(token)) else {
            throw .badParameter(
                name: header,
                message: "\(value) is not an ETag this cluster issued; read the key (GET) for its current ETag and send it quoted")
        }
        return etag
    }

    /// The one value of a header, trimmed; nil when absent or empty. A list of several
    /// tags is refused: a compare-and-set checks one.
    private static func single(_ name: String, in headers: HTTPHeaders) throws(KVError) -> String? {
        let values = headers[name].flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        guard values.count <= 1 else {
            throw .badParameter(
                name: name, message: "\(name) takes one ETag (or *) on a strong bucket, got \(values.count): \(values.joined(separator: ", "))")
        }
        return values.first
    }
}
