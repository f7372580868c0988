import NIOHTTP1
import QuorumCore

/// The conditional request headers of an eventually consistent bucket. Eventual keys
/// have no ETags (a write that supersedes a version sends its `X-Context`), so the one
/// precondition a client can state is "create only": `If-None-Match: *` on a PUT. ETag
/// conditions (`If-Match`, `If-None-Match: "<etag>"`) need a strong bucket, whose headers
/// `HTTPStrongHeaders` reads.
public enum HTTPConditionalHeaders {
    public static let ifNoneMatch = "If-None-Match"
    public static let ifMatch = "If-Match"

    /// Said by every refusal of an ETag condition on an eventual bucket.
    static let needsStrongBucket =
        "conditional writes with ETags need a strong bucket (props consistency: strong, see docs/strong.md)"

    /// A PUT's write conditions from its headers and its `returnbody` parameter.
    ///
    /// - `If-None-Match: *` → create only (412 `precondition_failed` when the key holds a
    ///   live value); any other `If-None-Match` → 400, since no ETag can match.
    /// - `If-Match` → 400: eventual keys have no ETags; a write that supersedes a version
    ///   sends the version's `X-Context` instead.
    public static func putConditions(headers: HTTPHeaders, returnBody: Bool) throws(KVError) -> WriteConditions {
        try rejectIfMatch(headers)
        let values = headers[ifNoneMatch].flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces() }
        guard !values.isEmpty else { return WriteConditions(ifNoneMatch: false, returnBody: returnBody) }
        guard values.allSatisfy({ $0 == "*" }) else {
            throw .badParameter(
                name: ifNoneMatch,
                message: "only If-None-Match: * (create only) is supported on an eventual bucket; \(needsStrongBucket)")
        }
        return WriteConditions(ifNoneMatch: true, returnBody: returnBody)
    }

    /// A DELETE states no preconditions: `If-None-Match` and `If-Match` are 400.
    public static func checkDelete(headers: HTTPHeaders) throws(KVError) {
        try rejectIfMatch(headers)
        if headers.contains(name: ifNoneMatch) {
            throw .badParameter(name: ifNoneMatch, message: "If-None-Match applies to PUT only (If-None-Match: * creates only)")
        }
    }

    private static func rejectIfMatch(_ headers: HTTPHeaders) throws(KVError) {
        if headers.contains(name: ifMatch) {
            throw .badParameter(
                name: ifMatch,
                message: "If-Match is not supported on an eventual bucket: \(needsStrongBucket); "
                    + "on this bucket send the X-Context of the version you read")
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var view = self
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
