import QuorumCore
import Synchronization

/// What `AccessControl` counts, for `/metrics`.
public final class AccessCounters: Sendable {
    public let loginsAccepted = Atomic<Int>(0)
    public let loginsFailed = Atomic<Int>(0)
    public let loginsRateLimited = Atomic<Int>(0)
    public let connectionsClosed = Atomic<Int>(0)
    public let denials = Atomic<Int>(0)
    public let cacheHits = Atomic<Int>(0)
    public let reloads = Atomic<Int>(0)
    public let reloadFailures = Atomic<Int>(0)

    public init() {}
}

extension AccessControl {
    /// `/metrics` lines for logins, the cache and the failure table, with their bounds.
    public func exposition() -> String {
        guard enforcing else { return "" }
        let lines: [(String, String, String, Int)] = [
            ("quorumkv_auth_logins_total", "counter", "Logins accepted (password, token or default).", counters.loginsAccepted.load(ordering: .relaxed)),
            ("quorumkv_auth_login_failures_total", "counter", "Logins refused: wrong or unknown credentials.", counters.loginsFailed.load(ordering: .relaxed)),
            ("quorumkv_auth_login_rate_limited_total", "counter", "Logins refused unchecked: the source address failed too often.", counters.loginsRateLimited.load(ordering: .relaxed)),
            ("quorumkv_auth_connections_closed_total", "counter", "Connections closed after too many failed logins.", counters.connectionsClosed.load(ordering: .relaxed)),
            ("quorumkv_auth_denials_total", "counter", "Requests refused for want of a grant.", counters.denials.load(ordering: .relaxed)),
            ("quorumkv_auth_credential_cache_hits_total", "counter", "Logins answered from the verified-credential cache.", counters.cacheHits.load(ordering: .relaxed)),
            ("quorumkv_auth_reloads_total", "counter", "ACL reloads that took effect.", counters.reloads.load(ordering: .relaxed)),
            ("quorumkv_auth_reload_failures_total", "counter", "ACL reloads refused (the previous ACL stayed).", counters.reloadFailures.load(ordering: .relaxed)),
            ("quorumkv_auth_credential_cache_entries", "gauge", "Verified logins remembered now.", cache.count),
            ("quorumkv_auth_credential_cache_entries_max", "gauge", "Bound on remembered logins.", limits.credentialCacheEntriesMax),
            ("quorumkv_auth_credential_cache_lifetime_seconds", "gauge", "How long a verified login is remembered.", limits.credentialCacheLifetimeSeconds),
            ("quorumkv_auth_failure_addresses", "gauge", "Source addresses with failed logins tracked now.", limiter.count),
            ("quorumkv_auth_failure_addresses_max", "gauge", "Bound on tracked source addresses.", limits.failureAddressesMax),
            ("quorumkv_auth_failures_per_address_max", "gauge", "Failed logins an address may make per window.", limits.failuresPerAddressMax),
            ("quorumkv_auth_failure_window_seconds", "gauge", "Length of a failed-login window.", limits.failureWindowSeconds),
            ("quorumkv_auth_failures_per_connection_max", "gauge", "Failed logins before a connection is closed.", limits.failuresPerConnectionMax),
            ("quorumkv_auth_users", "gauge", "Users in the ACL in force.", acl.order.count),
        ]
        return lines.map { "# HELP \($0.0) \($0.2)\n# TYPE \($0.0) \($0.1)\n\($0.0) \($0.3)\n" }.joined()
    }
}
