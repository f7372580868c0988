/// A node's users, as one ACL file describes them. A value: the shell swaps a whole new
/// one in on reload, so a request sees one ACL from start to end.
public struct ACL: Sendable, Equatable {
    /// Users by name, in file order in `order`.
    public private(set) var users: [String: ACLUser]
    public private(set) var order: [String]

    /// The built-in user unauthenticated clients of a loopback listener act as.
    public static let defaultUserName = "default"

    public init(users: [ACLUser] = []) {
        self.users = [:]
        order = []
        for user in users { upsert(user) }
    }

    /// Adds `user`, or replaces the user of the same name in place.
    public mutating func upsert(_ user: ACLUser) {
        if users[user.name] == nil { order.append(user.name) }
        users[user.name] = user
    }

    /// Removes a user; false when there was none of that name.
    @discardableResult
    public mutating func remove(_ name: String) -> Bool {
        guard users.removeValue(forKey: name) != nil else { return false }
        order.removeAll { $0 == name }
        return true
    }

    /// The `default` user: the file's line when it has one, otherwise enabled with every
    /// action on every bucket (what a node without an ACL allows everyone).
    public var defaultUser: ACLUser {
        users[Self.defaultUserName]
            ?? ACLUser(name: Self.defaultUserName, enabled: true, grants: [ACLGrant(actions: Set(AccessAction.allCases), pattern: "*")])
    }

    /// The ACL of a node started without `--acl`: only the `default` user, allowed everything.
    public static let open = ACL()
}

/// One user line.
public struct ACLUser: Sendable, Equatable {
    public var name: String
    /// `off`: every login and every request as this user is refused.
    public var enabled: Bool
    /// Nil: the user can't log in with a password (tokens only, or `default`).
    public var password: PasswordHash?
    /// SHA-256 digests (32 bytes) of the user's API tokens.
    public var tokenDigests: [[UInt8]]
    public var grants: [ACLGrant]

    public init(name: String, enabled: Bool, password: PasswordHash? = nil, tokenDigests: [[UInt8]] = [], grants: [ACLGrant] = []) {
        self.name = name
        self.enabled = enabled
        self.password = password
        self.tokenDigests = tokenDigests
        self.grants = grants
    }
}

/// Actions on the buckets whose names match `pattern` (a glob: `*` any run, `?` one byte;
/// no other byte is special).
public struct ACLGrant: Sendable, Equatable {
    public var actions: Set<AccessAction>
    public var pattern: String

    public init(actions: Set<AccessAction>, pattern: String) {
        self.actions = actions
        self.pattern = pattern
    }
}

/// A salted PBKDF2-SHA256 hash with its parameters, so they can be raised later without
/// invalidating the hashes already written.
public struct PasswordHash: Sendable, Equatable {
    /// The only scheme today; the name is stored so another can be added beside it.
    public static let pbkdf2SHA256 = "pbkdf2-sha256"

    public var scheme: String
    public var iterations: Int
    public var salt: [UInt8]
    public var derivedKey: [UInt8]

    public init(scheme: String = PasswordHash.pbkdf2SHA256, iterations: Int, salt: [UInt8], derivedKey: [UInt8]) {
        self.scheme = scheme
        self.iterations = iterations
        self.salt = salt
        self.derivedKey = derivedKey
    }
}
