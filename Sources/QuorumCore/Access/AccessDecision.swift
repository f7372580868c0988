/// The one place that decides whether a user may do an action on a bucket. Every
/// interface asks it through the shell's guarded `KVService` (or, for RESP commands that
/// reach no service, with the command table's category), so the rules live here only.
public enum AccessDecision: Sendable, Equatable {
    case allowed
    case denied(AccessDenial)

    public var isAllowed: Bool { self == .allowed }

    /// Decides `action` for `user` on `bucket`; a nil bucket is the whole node (membership,
    /// node details, `FLUSHALL`, reloading the ACL), which only a grant on `*` covers.
    public static func decide(user: ACLUser, action: AccessAction, bucket: String?) -> AccessDecision {
        guard user.enabled else { return .denied(AccessDenial(user: user.name, action: action, bucket: bucket, reason: .userDisabled)) }
        for grant in user.grants where grant.actions.contains(action) {
            if let bucket {
                if BucketPattern.matches(grant.pattern, bucket) { return .allowed }
            } else if grant.pattern == "*" {
                return .allowed
            }
        }
        let holdsAnywhere = user.grants.contains { $0.actions.contains(action) }
        return .denied(AccessDenial(user: user.name, action: action, bucket: bucket, reason: holdsAnywhere ? .bucketNotGranted : .actionNotGranted))
    }
}

/// Why a request was refused: enough for an error message that names the user, the action
/// and the bucket, never the grants the user does hold.
public struct AccessDenial: Sendable, Equatable, Error {
    public enum Reason: Sendable, Equatable {
        /// The user is `off`.
        case userDisabled
        /// The user holds this action on no bucket at all (Redis's "no permissions to run").
        case actionNotGranted
        /// The user holds the action, but not on this bucket (or not node-wide).
        case bucketNotGranted
    }

    public var user: String
    public var action: AccessAction
    public var bucket: String?
    public var reason: Reason

    public init(user: String, action: AccessAction, bucket: String?, reason: Reason) {
        self.user = user
        self.action = action
        self.bucket = bucket
        self.reason = reason
    }

    /// What the HTTP 403 and RESP `-NOPERM` say when the bucket is the issue.
    public var message: String {
        let target = bucket.map { "bucket '\($0)'" } ?? "this node (a grant on '*' is needed)"
        switch reason {
        case .userDisabled: return "User \(user) is disabled"
        case .actionNotGranted, .bucketNotGranted: return "User \(user) has no permissions to \(action.rawValue) \(target)"
        }
    }
}
