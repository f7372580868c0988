import QuorumCore

/// What an HTTP request asks for, decided from its method and URI alone (no NIO, no IO),
/// so routing is testable on its own.
///
/// Routes:
/// - `GET|PUT|DELETE /kv/{bucket}/{key}?n=&r=&w=&pr=&pw=&timeout=`
/// - `GET|PUT /buckets/{bucket}/props`
/// - `GET /health`
///
/// The key is everything after `/kv/{bucket}/`, percent-decoded to bytes, so binary keys
/// and keys with `/` (sent as `%2F`, or even unescaped) work.
public enum HTTPRoute: Sendable, Equatable {
    case getKey(bucket: String, key: [UInt8], options: RequestOptions)
    case putKey(bucket: String, key: [UInt8], options: RequestOptions)
    case deleteKey(bucket: String, key: [UInt8], options: RequestOptions)
    case getBucketProps(bucket: String)
    case setBucketProps(bucket: String)
    case health

    /// Query parameters the `/kv` routes accept.
    public static let kvQueryParameters = ["n", "r", "w", "pr", "pw", "timeout"]

    /// Matches a request to a route and checks its parameters.
    ///
    /// Order of checks: path shape (unknown → `.unknownRoute`), method (`.methodNotAllowed`
    /// with the allowed ones), then bucket name, key, and query (`.invalid` with a `KVError`).
    public static func parse(method: String, uri: String, limits: Limits = .defaults) throws(HTTPRouteError) -> HTTPRoute {
        let (rawPath, rawQuery) = split(uri: uri)
        guard rawPath.first == UInt8(ascii: "/") else { throw .unknownRoute(path: String(decoding: rawPath, as: UTF8.self)) }
        let pathText = String(decoding: rawPath, as: UTF8.self)
        // Segments after the leading "/": "kv", bucket, key...
        let segments = rawPath.dropFirst().split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false)
        let first = segments.first.map { String(decoding: $0, as: UTF8.self) } ?? ""

        switch first {
        case "kv" where segments.count >= 2:
            let allowed = ["GET", "PUT", "DELETE"]
            guard allowed.contains(method) else { throw .methodNotAllowed(allowed: allowed) }
            do throws(KVError) {
                let bucket = try decodeBucket(segments[1], limits: limits)
                guard segments.count == 3 else {
                    throw KVError.badParameter(name: "key", message: "missing key: use /kv/{bucket}/{key}")
                }
                let key = try decodeKey(segments[2], limits: limits)
                let options = try parseOptions(query: rawQuery)
                switch method {
                case "GET": return .getKey(bucket: bucket, key: key, options: options)
                case "PUT": return .putKey(bucket: bucket, key: key, options: options)
                default: return .deleteKey(bucket: bucket, key: key, options: options)
                }
            } catch {
                throw .invalid(error)
            }
        case "buckets" where segments.count == 3 && segments[2].elementsEqual("props".utf8):
            let allowed = ["GET", "PUT"]
            guard allowed.contains(method) else { throw .methodNotAllowed(allowed: allowed) }
            do throws(KVError) {
                let bucket = try decodeBucket(segments[1], limits: limits)
                try rejectQuery(rawQuery)
                return method == "GET" ? .getBucketProps(bucket: bucket) : .setBucketProps(bucket: bucket)
            } catch {
                throw .invalid(error)
            }
        case "health" where segments.count == 1:
            guard method == "GET" else { throw .methodNotAllowed(allowed: ["GET"]) }
            do throws(KVError) {
                try rejectQuery(rawQuery)
            } catch {
                throw .invalid(error)
            }
            return .health
        default:
            throw .unknownRoute(path: pathText)
        }
    }

    /// Parses the `/kv` query string into request options. Unknown names, repeated names
    /// and values that don't parse are `bad_parameter` errors naming the parameter.
    public static func parseOptions(query: ArraySlice<UInt8>?) throws(KVError) -> RequestOptions {
        var options = RequestOptions()
        var seen: Set<String> = []
        for (name, value) in try queryPairs(query) {
            guard kvQueryParameters.contains(name) else {
                throw .badParameter(
                    name: name,
                    message: "unknown query parameter \"\(name)\"; expected one of \(kvQueryParameters.joined(separator: ", "))")
            }
            guard seen.insert(name).inserted else {
                throw .badParameter(name: name, message: "query parameter \"\(name)\" is given more than once")
            }
            switch name {
            case "n":
                guard let number = Int(value) else {
                    throw .badParameter(name: "n", message: "n must be an integer, got \"\(value)\"")
                }
                options.n = number
            case "timeout":
                guard let number = Int(value) else {
                    throw .badParameter(name: "timeout", message: "timeout must be an integer number of milliseconds, got \"\(value)\"")
                }
                options.timeoutMilliseconds = number
            default:
                guard let level = ConsistencyLevel(parsing: value) else {
                    throw .badParameter(
                        name: name,
                        message: "\(name) must be an integer or one of one, two, three, quorum, all; got \"\(value)\"")
                }
                switch name {
                case "r": options.r = level
                case "w": options.w = level
                case "pr": options.pr = level
                default: options.pw = level
                }
            }
        }
        return options
    }

    // MARK: - Pieces

    static func split(uri: String) -> (path: ArraySlice<UInt8>, query: ArraySlice<UInt8>?) {
        var bytes = ArraySlice(Array(uri.utf8))
        if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { bytes = bytes[..<hash] }
        guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return (bytes, nil) }
        return (bytes[..<mark], bytes[(mark + 1)...])
    }

    static func decodeBucket(_ raw: ArraySlice<UInt8>, limits: Limits) throws(KVError) -> String {
        guard let bytes = PercentEncoding.decode(raw) else {
            throw .badParameter(name: "bucket", message: "bucket name has a malformed %-escape")
        }
        let name = String(decoding: bytes, as: UTF8.self)
        try validateBucketName(name, limits: limits)
        return name
    }

    static func decodeKey(_ raw: ArraySlice<UInt8>, limits: Limits) throws(KVError) -> [UInt8] {
        guard let key = PercentEncoding.decode(raw) else {
            throw .badParameter(name: "key", message: "key has a malformed %-escape; escape a literal % as %25")
        }
        guard !key.isEmpty else { throw .badParameter(name: "key", message: "key must not be empty") }
        guard key.count <= limits.keyBytesMax else {
            throw .tooLarge(what: "key", bytes: key.count, limit: limits.keyBytesMax)
        }
        return key
    }

    static func rejectQuery(_ query: ArraySlice<UInt8>?) throws(KVError) {
        if let (name, _) = try queryPairs(query).first {
            throw .badParameter(name: name, message: "unknown query parameter \"\(name)\"; this route takes none")
        }
    }

    static func queryPairs(_ query: ArraySlice<UInt8>?) throws(KVError) -> [(String, String)] {
        guard let query else { return [] }
        var pairs: [(String, String)] = []
        for item in query.split(separator: UInt8(ascii: "&")) {
            let parts = item.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let nameBytes = PercentEncoding.decode(parts[0], plusAsSpace: true),
                let valueBytes = PercentEncoding.decode(parts.count > 1 ? parts[1] : [], plusAsSpace: true)
            else {
                throw .badParameter(name: "query", message: "query string has a malformed %-escape")
            }
            let name = String(decoding: nameBytes, as: UTF8.self).lowercased()
            guard !name.isEmpty else { continue }
            pairs.append((name, String(decoding: valueBytes, as: UTF8.self)))
        }
        return pairs
    }
}

/// Why a request matched no route, or matched one with bad parameters.
public enum HTTPRouteError: Error, Sendable, Equatable {
    /// No route has this path: 404 `not_found`.
    case unknownRoute(path: String)
    /// The path is known but not with this method: 405 with `Allow`.
    case methodNotAllowed(allowed: [String])
    /// The route is right but a bucket, key or query parameter is not: 400 or 413.
    case invalid(KVError)
}
