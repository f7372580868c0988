import NIOHTTP1
import QuorumCore

/// Expiry over HTTP: a PUT's ttl from `?ttl=SECONDS` or the `X-TTL` header, and a GET's
/// remaining time in `X-TTL`.
public enum HTTPExpiryHeaders {
    public static let ttlHeader = "X-TTL"

    /// The PUT's ttl in seconds, nil when it gives none (the bucket's default ttl then
    /// applies). Both forms at once must agree; a bad value is a 400 naming it.
    public static func ttlSeconds(parameter: UInt64?, headers: HTTPHeaders, limits: Limits) throws(KVError) -> UInt64? {
        let values = headers[ttlHeader]
        guard values.count <= 1 else {
            throw .badParameter(name: ttlHeader, message: "X-TTL is given more than once; give one ttl in seconds")
        }
        let header = try values.first.map { (text) throws(KVError) in
            try HTTPRoute.parseTTL(text.trimmingCharacters(), name: ttlHeader, limits: limits)
        }
        if let parameter, let header, parameter != header {
            throw .badParameter(
                name: ttlHeader, message: "the ttl parameter (\(parameter)) and the X-TTL header (\(header)) differ; give one")
        }
        return parameter ?? header
    }

    /// Whole seconds until the key's deadline, rounded up so a live key never shows 0; nil
    /// when the key does not expire or is absent.
    public static func remainingSeconds(_ result: ReadResult, nowMilliseconds: UInt64) -> UInt64? {
        guard !result.siblings.isEmpty, let deadline = result.deadlineMilliseconds else { return nil }
        let remaining = deadline > nowMilliseconds ? deadline - nowMilliseconds : 0
        return (remaining + 999) / 1000
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
