import QuorumCore

/// A user name (nil: `default`, as `AUTH password` means) and password from `AUTH` or
/// `HELLO … AUTH`. Prints with the password redacted, so no log line or error shows it.
public struct RESPCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var user: String?
    public var password: [UInt8]

    public init(user: String?, password: [UInt8]) {
        self.user = user
        self.password = password
    }

    public var userName: String { user ?? ACL.defaultUserName }
    public var description: String { "RESPCredentials(user: \(userName), password: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["user": userName, "password": "<redacted>"]) }
}

/// The replies of logging in, worded exactly as Redis words them, so clients and tools
/// that match on them (redis-cli, redis-py, redis-benchmark) behave as with Redis.
public enum RESPAuthReplies {
    public static let noAuth = RESPValue.error(prefix: "NOAUTH", "Authentication required.")
    public static let helloNoAuth = RESPValue.error(
        prefix: "NOAUTH",
        "HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
    public static let wrongPass = RESPValue.error(prefix: "WRONGPASS", "invalid username-password pair or user is disabled.")
    /// Not Redis's (it has no limit): same prefix, so clients treat it as a failed login.
    public static let rateLimited = RESPValue.error(
        prefix: "WRONGPASS", "too many failed logins from this address; wait and try again later.")

    /// A node without an ACL behaves as Redis with its `nopass` default user: `AUTH
    /// default <anything>` succeeds, `AUTH <password>` says no password is set, any other
    /// user is unknown. Nil means accepted.
    static func withoutACL(_ credentials: RESPCredentials) -> RESPValue? {
        switch credentials.user {
        case nil:
            return .error(
                prefix: "ERR",
                "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
        case ACL.defaultUserName?:
            return nil
        default:
            return wrongPass
        }
    }

    /// `-NOPERM` for a refused command: Redis's wording when the user holds the action on
    /// no bucket, the bucket named when only the bucket is the problem.
    static func noPermission(_ denial: AccessDenial, command: String) -> RESPValue {
        switch denial.reason {
        case .actionNotGranted, .userDisabled:
            return .error(prefix: "NOPERM", "User \(denial.user) has no permissions to run the '\(command)' command")
        case .bucketNotGranted:
            return .error(prefix: "NOPERM", denial.message + " (command '\(command)')")
        }
    }
}

/// What a RESP command needs, from the command table's category: the check for commands
/// that reach no service (`INFO`, `CONFIG`) and the Redis-worded refusal for the rest
/// (the guarded service checks those again, action by action).
public enum RESPCommandAccess {
    /// The action and bucket (nil: node-wide) `name` needs in `bucket`; nil for commands
    /// any logged-in user may run (the `connection` category).
    public static func requirement(command name: String, bucket: String) -> (action: AccessAction, bucket: String?)? {
        guard let spec = RESPCommand.spec(named: name) else { return nil }
        switch spec.category {
        case .connection: return nil
        case .read: return (.read, bucket)
        case .write: return (["del", "unlink", "qdel", "delifeq"].contains(spec.name) ? .delete : .write, bucket)
        case .keyspace: return (["scan", "keys", "dbsize"].contains(spec.name) ? .list : .read, bucket)
        case .admin: return (.admin, spec.name == "flushdb" ? bucket : nil)
        }
    }
}
