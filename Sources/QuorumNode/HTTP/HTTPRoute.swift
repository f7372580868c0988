import QuorumCore

/// What an HTTP request asks for, decided from its method and URI alone (no NIO, no IO),
/// so routing is testable on its own. The paths and methods are `HTTPEndpoint`'s table:
///
/// - `GET|PUT|DELETE /kv/{bucket}/{key}?n=&r=&w=&pr=&pw=&timeout=` (PUT also `returnbody=` and `ttl=`)
/// - `GET|POST|DELETE /types/{bucket}/{key}?n=&r=&w=&pr=&pw=&timeout=` (GET also `member=`, repeatable):
///   counters, sets and maps (`HTTPTypedOperationDecoder` reads the POST body)
/// - `GET|PUT /buckets/{bucket}/props`
/// - `GET /buckets/{bucket}/keys?limit=&cursor=`
/// - `POST /buckets/{bucket}/truncate`, `POST /cluster/truncate` (every bucket)
/// - `GET /health`, `GET /status`, `GET /ring`, `GET /metrics`, `GET /`
/// - `POST /cluster/join?seed=host:port`, `POST /cluster/leave`
/// - `POST /admin/acl/reload`
///
/// The key is everything after `/kv/{bucket}/`, percent-decoded to bytes, so binary keys
/// and keys with `/` (sent as `%2F`, or even unescaped) work.
public enum HTTPRoute: Sendable, Equatable {
    case getKey(bucket: String, key: [UInt8], options: RequestOptions)
    /// `ttlSeconds`: the `ttl` parameter (the `X-TTL` header is read with the headers).
    case putKey(bucket: String, key: [UInt8], options: RequestOptions, returnBody: Bool, ttlSeconds: UInt64? = nil)
    case deleteKey(bucket: String, key: [UInt8], options: RequestOptions)
    /// `members`: the `member` parameters (elements or fields to read), nil for all.
    case getType(bucket: String, key: [UInt8], members: [[UInt8]]?, options: RequestOptions)
    /// The operation is in the body, read once the bucket's type is known.
    case updateType(bucket: String, key: [UInt8], options: RequestOptions)
    case resetType(bucket: String, key: [UInt8], options: RequestOptions)
    case getBucketProps(bucket: String)
    case setBucketProps(bucket: String)
    case listKeys(bucket: String, cursor: String?, limit: Int)
    /// Truncate one bucket, or every bucket when nil.
    case truncate(bucket: String?)
    case health
    case status
    case ring
    case metrics
    case statusPage
    /// Join the cluster `seed` (a member's peer address) belongs to.
    case joinCluster(seed: String)
    case leaveCluster
    /// Reads the node's ACL file again (the same as SIGHUP).
    case reloadACL

    /// Query parameters every `/kv` route accepts.
    public static let kvQueryParameters = ["n", "r", "w", "pr", "pw", "timeout"]
    /// `PUT /kv/...` also takes `returnbody=true|false`.
    public static let returnBodyParameter = "returnbody"
    /// `PUT /kv/...` also takes `ttl=SECONDS`: the value expires that long after the write.
    public static let ttlParameter = "ttl"
    /// `GET /types/...` takes `member=ELEMENT` (repeatable) to read only those elements or fields.
    public static let memberParameter = "member"
    /// Key pages hold this many keys unless `limit` says otherwise.
    public static let keyPageDefault = 100

    public var endpoint: HTTPEndpoint {
        switch self {
        case .getKey: return .getKey
        case .putKey: return .putKey
        case .deleteKey: return .deleteKey
        case .getType: return .getType
        case .updateType: return .updateType
        case .resetType: return .resetType
        case .getBucketProps: return .getBucketProps
        case .setBucketProps: return .setBucketProps
        case .listKeys: return .listKeys
        case .truncate(let bucket): return bucket == nil ? .truncateAll : .truncateBucket
        case .health: return .health
        case .status: return .status
        case .ring: return .ring
        case .metrics: return .metrics
        case .statusPage: return .statusPage
        case .joinCluster: return .joinCluster
        case .leaveCluster: return .leaveCluster
        case .reloadACL: return .reloadACL
        }
    }

    /// Matches a request to a route and checks its parameters.
    ///
    /// Order of checks: path shape (unknown → `.unknownRoute`), method (`.methodNotAllowed`
    /// with the allowed ones), then bucket name, key, and query (`.invalid` with a `KVError`).
    public static func parse(method: String, uri: String, limits: Limits = .defaults) throws(HTTPRouteError) -> HTTPRoute {
        let target = HTTPRequestTarget(uri: uri)
        let endpoint = try endpoint(method: method, target: target)
        do throws(KVError) {
            return try build(endpoint, target: target, limits: limits)
        } catch {
            throw .invalid(error)
        }
    }

    /// The endpoint a request is for, before its parameters are checked (for metrics, which
    /// count a request with bad parameters under the operation it tried).
    public static func endpoint(method: String, uri: String) throws(HTTPRouteError) -> HTTPEndpoint {
        try endpoint(method: method, target: HTTPRequestTarget(uri: uri))
    }

    static func endpoint(method: String, target: HTTPRequestTarget) throws(HTTPRouteError) -> HTTPEndpoint {
        guard let resource = target.resource else { throw .unknownRoute(path: target.pathText) }
        guard let endpoint = HTTPEndpoint.matching(method: method, resource: resource) else {
            throw .methodNotAllowed(allowed: HTTPEndpoint.allowedMethods(of: resource))
        }
        return endpoint
    }

    private static func build(_ endpoint: HTTPEndpoint, target: HTTPRequestTarget, limits: Limits) throws(KVError) -> HTTPRoute {
        let segments = target.segments
        switch endpoint {
        case .getKey, .putKey, .deleteKey:
            let bucket = try decodeBucket(segments[1], limits: limits)
            guard segments.count == 3 else {
                throw KVError.badParameter(name: "key", message: "missing key: use /kv/{bucket}/{key}")
            }
            let key = try decodeKey(segments[2], limits: limits)
            var pairs = try queryPairs(target.query)
            if endpoint == .putKey {
                let returnBody = try takeReturnBody(from: &pairs)
                let ttl = try takeTTL(from: &pairs, limits: limits)
                return .putKey(
                    bucket: bucket, key: key, options: try parseOptions(pairs: pairs), returnBody: returnBody, ttlSeconds: ttl)
            }
            if pairs.contains(where: { $0.0 == ttlParameter }) {
                throw .badParameter(name: ttlParameter, message: "ttl applies to PUT only")
            }
            if pairs.contains(where: { $0.0 == returnBodyParameter }) {
                throw .badParameter(name: returnBodyParameter, message: "returnbody applies to PUT only")
            }
            let options = try parseOptions(pairs: pairs)
            return endpoint == .getKey
                ? .getKey(bucket: bucket, key: key, options: options) : .deleteKey(bucket: bucket, key: key, options: options)
        case .getType, .updateType, .resetType:
            return try buildTyped(endpoint, target: target, limits: limits)
        case .getBucketProps, .setBucketProps:
            let bucket = try decodeBucket(segments[1], limits: limits)
            try rejectQuery(target.query)
            return endpoint == .getBucketProps ? .getBucketProps(bucket: bucket) : .setBucketProps(bucket: bucket)
        case .listKeys:
            let bucket = try decodeBucket(segments[1], limits: limits)
            let (cursor, limit) = try parseKeyPage(query: target.query, limits: limits)
            return .listKeys(bucket: bucket, cursor: cursor, limit: limit)
        case .truncateBucket:
            let bucket = try decodeBucket(segments[1], limits: limits)
            try rejectQuery(target.query)
            return .truncate(bucket: bucket)
        case .truncateAll:
            try rejectQuery(target.query)
            return .truncate(bucket: nil)
        case .health, .status, .ring, .metrics, .statusPage:
            try rejectQuery(target.query)
            switch endpoint {
            case .health: return .health
            case .status: return .status
            case .ring: return .ring
            case .metrics: return .metrics
            default: return .statusPage
            }
        case .joinCluster:
            let pairs = try queryPairs(target.query)
            guard pairs.count == 1, pairs[0].0 == "seed", !pairs[0].1.isEmpty else {
                throw .badParameter(name: "seed", message: "give the seed as ?seed=host:port, the peer address of any cluster member")
            }
            return .joinCluster(seed: pairs[0].1)
        case .leaveCluster:
            try rejectQuery(target.query)
            return .leaveCluster
        case .reloadACL:
            try rejectQuery(target.query)
            return .reloadACL
        }
    }

    /// `/types/{bucket}/{key}`: the key as `/kv` takes it; the `/kv` request options, and
    /// on GET the `member` parameters (text, or `base64:` + URL-safe base64 for bytes).
    private static func buildTyped(_ endpoint: HTTPEndpoint, target: HTTPRequestTarget, limits: Limits) throws(KVError) -> HTTPRoute {
        let segments = target.segments
        let bucket = try decodeBucket(segments[1], limits: limits)
        guard segments.count == 3 else {
            throw KVError.badParameter(name: "key", message: "missing key: use /types/{bucket}/{key}")
        }
        let key = try decodeKey(segments[2], limits: limits)
        var pairs = try queryPairs(target.query)
        for name in [ttlParameter, returnBodyParameter] where pairs.contains(where: { $0.0 == name }) {
            throw .badParameter(name: name, message: "\(name) applies to PUT /kv only; typed keys take n, r, w and timeout")
        }
        let memberTexts = pairs.filter { $0.0 == memberParameter }.map(\.1)
        pairs.removeAll { $0.0 == memberParameter }
        if let unknown = pairs.first(where: { !kvQueryParameters.contains($0.0) }) {
            throw .badParameter(
                name: unknown.0,
                message: "unknown query parameter \"\(unknown.0)\"; /types takes \(kvQueryParameters.joined(separator: ", ")) "
                    + "(and member on GET)")
        }
        let options = try parseOptions(pairs: pairs)
        switch endpoint {
        case .getType:
            guard !memberTexts.isEmpty else { return .getType(bucket: bucket, key: key, members: nil, options: options) }
            var members: [[UInt8]] = []
            for text in memberTexts {
                guard let bytes = TypedJSONValue.bytes(text) else {
                    throw .badParameter(
                        name: memberParameter, message: "member \"\(text)\" starts with base64: but the rest is not URL-safe base64")
                }
                guard bytes.count <= limits.typedMemberBytesMax else {
                    throw .tooLarge(what: "member", bytes: bytes.count, limit: limits.typedMemberBytesMax)
                }
                members.append(bytes)
            }
            return .getType(bucket: bucket, key: key, members: members, options: options)
        default:
            guard memberTexts.isEmpty else {
                throw .badParameter(name: memberParameter, message: "member applies to GET /types only; name elements in the body")
            }
            return endpoint == .updateType
                ? .updateType(bucket: bucket, key: key, options: options) : .resetType(bucket: bucket, key: key, options: options)
        }
    }

    /// Parses the `/kv` query string into request options. Unknown names, repeated names
    /// and values that don't parse are `bad_parameter` errors naming the parameter.
    public static func parseOptions(query: ArraySlice<UInt8>?) throws(KVError) -> RequestOptions {
        try parseOptions(pairs: queryPairs(query))
    }

    static func parseOptions(pairs: [(String, String)]) throws(KVError) -> RequestOptions {
        var options = RequestOptions()
        var seen: Set<String> = []
        for (name, value) in pairs {
            guard kvQueryParameters.contains(name) else {
                throw .badParameter(
                    name: name,
                    message: "unknown query parameter \"\(name)\"; expected one of \(kvQueryParameters.joined(separator: ", "))"
                        + " (and returnbody and ttl on PUT)")
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

    /// Removes `ttl` from the pairs and returns its value (nil when absent).
    static func takeTTL(from pairs: inout [(String, String)], limits: Limits) throws(KVError) -> UInt64? {
        let values = pairs.filter { $0.0 == ttlParameter }.map(\.1)
        pairs.removeAll { $0.0 == ttlParameter }
        guard values.count <= 1 else {
            throw .badParameter(name: ttlParameter, message: "query parameter \"ttl\" is given more than once")
        }
        return try values.first.map { (text) throws(KVError) in try parseTTL(text, name: ttlParameter, limits: limits) }
    }

    /// A ttl in whole seconds, 1...`limits.ttlSecondsMax`.
    public static func parseTTL(_ text: String, name: String, limits: Limits) throws(KVError) -> UInt64 {
        guard let seconds = UInt64(text), seconds >= 1, seconds <= limits.ttlSecondsMax else {
            throw .badParameter(
                name: name,
                message: "\(name) must be a whole number of seconds from 1 to \(limits.ttlSecondsMax), got \"\(text)\"; "
                    + "leave it out for a value that does not expire")
        }
        return seconds
    }

    /// Removes `returnbody` from the pairs and returns its value (false when absent).
    static func takeReturnBody(from pairs: inout [(String, String)]) throws(KVError) -> Bool {
        let values = pairs.filter { $0.0 == returnBodyParameter }.map(\.1)
        pairs.removeAll { $0.0 == returnBodyParameter }
        guard values.count <= 1 else {
            throw .badParameter(name: returnBodyParameter, message: "query parameter \"returnbody\" is given more than once")
        }
        switch values.first?.lowercased() {
        case nil, "false": return false
        case "true": return true
        case let other?:
            throw .badParameter(name: returnBodyParameter, message: "returnbody must be true or false, got \"\(other)\"")
        }
    }

    /// `limit` (1...`limits.keyPageMax`, default `keyPageDefault`) and `cursor` (opaque,
    /// checked by the service) of a key listing.
    static func parseKeyPage(query: ArraySlice<UInt8>?, limits: Limits) throws(KVError) -> (cursor: String?, limit: Int) {
        var cursor: String?
        var limit: Int?
        for (name, value) in try queryPairs(query) {
            switch name {
            case "limit":
                guard limit == nil else { throw .badParameter(name: "limit", message: "query parameter \"limit\" is given more than once") }
                guard let number = Int(value), (1...limits.keyPageMax).contains(number) else {
                    throw .badParameter(name: "limit", message: "limit must be an integer 1...\(limits.keyPageMax), got \"\(value)\"")
                }
                limit = number
            case "cursor":
                guard cursor == nil else { throw .badParameter(name: "cursor", message: "query parameter \"cursor\" is given more than once") }
                guard !value.isEmpty else {
                    throw .badParameter(name: "cursor", message: "cursor is empty; leave it out for the first page")
                }
                cursor = value
            default:
                throw .badParameter(
                    name: name, message: "unknown query parameter \"\(name)\"; expected limit or cursor")
            }
        }
        return (cursor, limit ?? min(keyPageDefault, limits.keyPageMax))
    }

    // MARK: - Pieces

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

/// A request URI split into path segments and query, and the resource its path names.
struct HTTPRequestTarget {
    /// Segments after the leading `/`, at most three (the key keeps its own `/`s).
    let segments: [ArraySlice<UInt8>]
    let query: ArraySlice<UInt8>?
    let pathText: String
    /// Nil when no route has this path.
    let resource: HTTPEndpoint.Resource?

    init(uri: String) {
        var bytes = ArraySlice(Array(uri.utf8))
        if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { bytes = bytes[..<hash] }
        let path: ArraySlice<UInt8>
        if let mark = bytes.firstIndex(of: UInt8(ascii: "?")) {
            path = bytes[..<mark]
            query = bytes[(mark + 1)...]
        } else {
            path = bytes
            query = nil
        }
        pathText = String(decoding: path, as: UTF8.self)
        guard path.first == UInt8(ascii: "/") else {
            segments = []
            resource = nil
            return
        }
        segments = path.dropFirst().split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false)
        resource = Self.resource(of: segments)
    }

    private static func resource(of segments: [ArraySlice<UInt8>]) -> HTTPEndpoint.Resource? {
        func text(_ index: Int) -> String { String(decoding: segments[index], as: UTF8.self) }
        switch (text(0), segments.count) {
        case ("", 1): return .root
        case ("kv", 2...): return .key
        case ("types", 2...): return .typedKey
        case ("buckets", 3) where text(2) == "props": return .bucketProps
        case ("buckets", 3) where text(2) == "keys": return .bucketKeys
        case ("buckets", 3) where text(2) == "truncate": return .bucketTruncate
        case ("cluster", 2) where text(1) == "truncate": return .clusterTruncate
        case ("health", 1): return .health
        case ("status", 1): return .status
        case ("ring", 1): return .ring
        case ("metrics", 1): return .metrics
        case ("cluster", 2) where text(1) == "join": return .clusterJoin
        case ("cluster", 2) where text(1) == "leave": return .clusterLeave
        case ("admin", 3) where text(1) == "acl" && text(2) == "reload": return .aclReload
        default: return nil
        }
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
