/// Every method and path the HTTP router knows, in one table. `HTTPRoute.parse` matches
/// against it, `docs/openapi.json` documents it (its `operationId`s are these raw values),
/// and `OpenAPITests` checks the two agree.
///
/// `HEAD` is answered wherever `GET` is, as `GET` without the body (RFC 9110 §9.3.2); it
/// is not listed separately.
public enum HTTPEndpoint: String, CaseIterable, Sendable {
    case getKey, putKey, deleteKey
    /// Typed keys (counters, sets, maps): read, update with a JSON operation, reset.
    case getType, updateType, resetType
    case getBucketProps, setBucketProps
    case listKeys
    case truncateBucket, truncateAll
    case health, status, ring, metrics, statusPage
    case joinCluster, leaveCluster
    case reloadACL

    /// The paths the router tells apart; each has one or more endpoints (one per method).
    public enum Resource: Sendable, Equatable {
        case key, typedKey, bucketProps, bucketKeys, bucketTruncate, clusterTruncate, health, status, ring, metrics, root, clusterJoin,
            clusterLeave, aclReload
    }

    public var method: String {
        switch self {
        case .putKey, .setBucketProps: return "PUT"
        case .updateType, .joinCluster, .leaveCluster, .truncateBucket, .truncateAll, .reloadACL: return "POST"
        case .deleteKey, .resetType: return "DELETE"
        default: return "GET"
        }
    }

    public var resource: Resource {
        switch self {
        case .getKey, .putKey, .deleteKey: return .key
        case .getType, .updateType, .resetType: return .typedKey
        case .getBucketProps, .setBucketProps: return .bucketProps
        case .listKeys: return .bucketKeys
        case .truncateBucket: return .bucketTruncate
        case .truncateAll: return .clusterTruncate
        case .health: return .health
        case .status: return .status
        case .ring: return .ring
        case .metrics: return .metrics
        case .statusPage: return .root
        case .joinCluster: return .clusterJoin
        case .leaveCluster: return .clusterLeave
        case .reloadACL: return .aclReload
        }
    }

    /// The path in OpenAPI template form, e.g. `/kv/{bucket}/{key}`.
    public var pathTemplate: String {
        switch resource {
        case .key: return "/kv/{bucket}/{key}"
        case .typedKey: return "/types/{bucket}/{key}"
        case .bucketProps: return "/buckets/{bucket}/props"
        case .bucketKeys: return "/buckets/{bucket}/keys"
        case .bucketTruncate: return "/buckets/{bucket}/truncate"
        case .clusterTruncate: return "/cluster/truncate"
        case .health: return "/health"
        case .status: return "/status"
        case .ring: return "/ring"
        case .metrics: return "/metrics"
        case .root: return "/"
        case .clusterJoin: return "/cluster/join"
        case .clusterLeave: return "/cluster/leave"
        case .aclReload: return "/admin/acl/reload"
        }
    }

    /// The `operation` label of the request metrics: a small, fixed set.
    public var operationLabel: String {
        switch self {
        case .getKey: return "get"
        case .putKey: return "put"
        case .deleteKey: return "delete"
        case .getType: return "type_read"
        case .updateType: return "type_update"
        case .resetType: return "type_reset"
        case .getBucketProps: return "get_props"
        case .setBucketProps: return "set_props"
        case .listKeys: return "list_keys"
        case .truncateBucket: return "truncate_bucket"
        case .truncateAll: return "truncate_all"
        case .health: return "health"
        case .status: return "status"
        case .ring: return "ring"
        case .metrics: return "metrics"
        case .statusPage: return "status_page"
        case .joinCluster: return "join"
        case .leaveCluster: return "leave"
        case .reloadACL: return "acl_reload"
        }
    }

    /// The endpoints at a path, in table order.
    public static func endpoints(of resource: Resource) -> [HTTPEndpoint] {
        allCases.filter { $0.resource == resource }
    }

    /// The `Allow` header's methods for a path: its own, plus `HEAD` where `GET` is.
    public static func allowedMethods(of resource: Resource) -> [String] {
        var methods = endpoints(of: resource).map(\.method)
        if let get = methods.firstIndex(of: "GET") { methods.insert("HEAD", at: get + 1) }
        return methods
    }

    /// The endpoint for a method at a path; `HEAD` selects the `GET` endpoint.
    public static func matching(method: String, resource: Resource) -> HTTPEndpoint? {
        let wanted = method == "HEAD" ? "GET" : method
        return endpoints(of: resource).first { $0.method == wanted }
    }
}
