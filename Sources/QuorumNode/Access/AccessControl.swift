import Dispatch
import Foundation
import Logging
import QuorumCore
import Synchronization

/// A node's users: the ACL it loaded, the logins it verified, the failures it counted.
/// Shared by the HTTP and RESP servers; one per node.
///
/// Without `--acl` it is `open()`: not `enforcing`, and the servers skip it entirely (no
/// users; everyone acts as `default`, who may do everything), as before users existed.
/// With a file, every request acts as a user: one that logged in, or `default` on a
/// listener bound to a loopback address when the file leaves `default` on.
///
/// Authentication reads only this node's file: it never needs another node.
public final class AccessControl: Sendable {
    /// Who may read `/metrics`, `/status`, `/ring` and the status page.
    public enum MetricsAccess: String, Sendable, CaseIterable {
        /// Anyone who can reach the port, like `/health` (for a scraper on a private network).
        case open
        /// Any authenticated user (or `default` on a loopback listener).
        case user
        /// A user with `admin` on `*`.
        case admin
    }

    public enum LoginOutcome: Sendable, Equatable {
        case accepted(user: String)
        /// Wrong name or password, unknown or disabled user: one answer for all, so a
        /// client can't tell which users exist.
        case refused
        /// The source address failed too often in this window; not even checked.
        case rateLimited
    }

    public enum ReloadOutcome: Sendable, Equatable {
        case reloaded(users: Int)
        /// The file was not read or is malformed; the previous ACL stays.
        case kept(reason: String)
    }

    private struct Snapshot: Sendable {
        var acl: ACL
        /// Token digest → user name.
        var tokens: [[UInt8]: String]

        init(_ acl: ACL) {
            self.acl = acl
            var tokens: [[UInt8]: String] = [:]
            for name in acl.order {
                for digest in acl.users[name]?.tokenDigests ?? [] { tokens[digest] = name }
            }
            self.tokens = tokens
        }
    }

    /// The ACL file; nil when the node runs without one.
    public let path: String?
    public let limits: AccessLimits
    public let metricsAccess: MetricsAccess
    public let cache: CredentialCache
    public let limiter: LoginFailureLimiter
    public let counters = AccessCounters()
    private let logger: Logger
    private let current: Mutex<Snapshot>

    public var enforcing: Bool { path != nil }

    /// - Parameter path: where `reload` reads from; nil for a node without users.
    public init(
        acl: ACL, path: String?, limits: AccessLimits = .defaults, metricsAccess: MetricsAccess = .user,
        logger: Logger = Logger(label: "quorumkv.access")
    ) {
        self.path = path
        self.limits = limits
        self.metricsAccess = metricsAccess
        self.logger = logger
        cache = CredentialCache(limits: limits)
        limiter = LoginFailureLimiter(limits: limits)
        current = Mutex(Snapshot(acl))
    }

    /// A node without `--acl`: nothing is checked.
    public static func open() -> AccessControl { AccessControl(acl: .open, path: nil) }

    /// Loads `path`; a missing, unreadable or malformed file throws, saying which line and
    /// why, and the node must not start.
    public static func load(
        path: String, limits: AccessLimits = .defaults, metricsAccess: MetricsAccess = .user,
        logger: Logger = Logger(label: "quorumkv.access")
    ) throws(AccessFileError) -> AccessControl {
        let acl = try readFile(path, limits: limits)
        return AccessControl(acl: acl, path: path, limits: limits, metricsAccess: metricsAccess, logger: logger)
    }

    /// Reads and parses an ACL file.
    public static func readFile(_ path: String, limits: AccessLimits = .defaults) throws(AccessFileError) -> ACL {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > limits.fileBytesMax {
                throw AccessFileError.malformed(path: path, ACLParseError(line: 0, reason: "the file is \(size) bytes; the limit is \(limits.fileBytesMax)"))
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as AccessFileError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        do {
            return try ACLFileFormat.parse(Array(data), limits: limits)
        } catch {
            throw .malformed(path: path, error)
        }
    }

    public var acl: ACL { current.withLock { $0.acl } }

    /// Reads the file again (SIGHUP, `POST /admin/acl/reload`). On success the new users
    /// apply to the next request of every connection and every cached login is forgotten;
    /// on failure the previous ACL stays and the reason is logged and returned.
    public func reload() -> ReloadOutcome {
        guard let path else { return .kept(reason: "this node runs without --acl; there is no file to reload") }
        do {
            let acl = try Self.readFile(path, limits: limits)
            current.withLock { $0 = Snapshot(acl) }
            cache.clear()
            counters.reloads.add(1, ordering: .relaxed)
            logger.notice("ACL reloaded", metadata: ["users": "\(acl.order.count)"])
            return .reloaded(users: acl.order.count)
        } catch {
            counters.reloadFailures.add(1, ordering: .relaxed)
            logger.error("ACL reload failed; keeping the previous ACL", metadata: ["error": "\(error)"])
            return .kept(reason: "\(error); the previous ACL stays in force")
        }
    }

    /// The user an unauthenticated client acts as: `default` on a listener bound to a
    /// loopback address while the file leaves it on, nil otherwise (it must log in).
    public func anonymousUser(loopbackListener: Bool) -> String? {
        guard loopbackListener else { return nil }
        return current.withLock { $0.acl.defaultUser.enabled } ? ACL.defaultUserName : nil
    }

    /// Checks a name and password. The slow hash runs unless the pair verified within the
    /// cache's lifetime; an unknown user costs the same hash, so timing tells nothing.
    public func login(user name: String, password: [UInt8], source: String, loopbackListener: Bool) -> LoginOutcome {
        let now = Self.monotonicMilliseconds()
        if limiter.isBlocked(address: source, nowMilliseconds: now) {
            counters.loginsRateLimited.add(1, ordering: .relaxed)
            return .rateLimited
        }
        let user = current.withLock { $0.acl.users[name] }
        if name == ACL.defaultUserName {
            // Redis's `nopass` default: any password switches back to it, where it is allowed.
            if anonymousUser(loopbackListener: loopbackListener) != nil { return accepted(name) }
            return failed(source: source, now: now)
        }
        guard let user, user.enabled, let stored = user.password, password.count <= limits.passwordBytesMax else {
            _ = PasswordHasher.verify(password.prefix(limits.passwordBytesMax).map { $0 }, against: Self.decoy, limits: limits)
            return failed(source: source, now: now)
        }
        if cache.contains(user: name, password: password, nowMilliseconds: now) {
            counters.cacheHits.add(1, ordering: .relaxed)
            return accepted(name)
        }
        guard PasswordHasher.verify(password, against: stored, limits: limits) else { return failed(source: source, now: now) }
        cache.insert(user: name, password: password, nowMilliseconds: now)
        return accepted(name)
    }

    /// Checks an API token (a bearer token): its SHA-256 names the user. No slow hash: a
    /// token is 256 random bits, so its digest can't be guessed offline.
    public func login(token: [UInt8], source: String) -> LoginOutcome {
        let now = Self.monotonicMilliseconds()
        if limiter.isBlocked(address: source, nowMilliseconds: now) {
            counters.loginsRateLimited.add(1, ordering: .relaxed)
            return .rateLimited
        }
        guard token.count <= limits.tokenBytesMax else { return failed(source: source, now: now) }
        let digest = PasswordHasher.tokenDigest(token)
        let name: String? = current.withLock { snapshot in
            // The lookup finds the candidate; the constant-time comparison confirms it.
            guard let name = snapshot.tokens[digest], let user = snapshot.acl.users[name], user.enabled,
                user.tokenDigests.contains(where: { PasswordHasher.constantTimeEquals($0, digest) })
            else { return nil }
            return name
        }
        guard let name else { return failed(source: source, now: now) }
        return accepted(name)
    }

    /// The decision for `user` under the ACL in force now (a user removed by a reload is
    /// refused at once, on connections that logged in before it too).
    public func decide(user name: String, action: AccessAction, bucket: String?) -> AccessDecision {
        guard enforcing else { return .allowed }
        let user = current.withLock { snapshot in
            name == ACL.defaultUserName ? snapshot.acl.defaultUser : snapshot.acl.users[name]
        }
        guard let user else {
            return .denied(AccessDenial(user: name, action: action, bucket: bucket, reason: .userDisabled))
        }
        let decision = AccessDecision.decide(user: user, action: action, bucket: bucket)
        if !decision.isAllowed { counters.denials.add(1, ordering: .relaxed) }
        return decision
    }

    private func accepted(_ name: String) -> LoginOutcome {
        counters.loginsAccepted.add(1, ordering: .relaxed)
        return .accepted(user: name)
    }

    private func failed(source: String, now: UInt64) -> LoginOutcome {
        counters.loginsFailed.add(1, ordering: .relaxed)
        limiter.recordFailure(address: source, nowMilliseconds: now)
        return .refused
    }

    /// What an unknown user's password is checked against, so refusing one takes as long
    /// as refusing a wrong password.
    private static let decoy = PasswordHash(
        iterations: AccessLimits.defaults.passwordIterationsDefault, salt: Array(repeating: 0x5A, count: 16),
        derivedKey: Array(repeating: 0, count: 32))

    static func monotonicMilliseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }
}

/// An ACL file that can't be used: the node refuses to start, a reload keeps the old ACL.
public enum AccessFileError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformed(path: String, ACLParseError)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read the ACL file \(path): \(reason)"
        case .malformed(let path, let error): return "\(path): \(error) (fix the file, or edit it with `quorumkv user`)"
        }
    }
}
