import Crypto
import QuorumCore
import Synchronization

/// Remembers (user, password) pairs that verified, so the slow hash runs once per login
/// rather than on every HTTP request that carries Basic credentials.
///
/// Entries are keyed by an HMAC-SHA256 of the pair under a key drawn at random when the
/// process starts: the cache holds no password, and a memory dump gives nothing to test
/// guesses against offline. Bounded by `credentialCacheEntriesMax` (past it, expired
/// entries go first, then the one closest to expiry) and `credentialCacheLifetimeSeconds`;
/// `clear()` (every ACL reload) forgets all of them, so a changed password or removed
/// user stops working at once.
public final class CredentialCache: Sendable {
    /// The HMAC key, drawn once per process (kept as bytes: `SymmetricKey` is not `Sendable` here).
    private let key: [UInt8] = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    private let entriesMax: Int
    private let lifetimeMilliseconds: UInt64
    private let state = Mutex([[UInt8]: UInt64]())

    public init(limits: AccessLimits) {
        entriesMax = max(0, limits.credentialCacheEntriesMax)
        lifetimeMilliseconds = UInt64(max(0, limits.credentialCacheLifetimeSeconds)) * 1000
    }

    /// Whether the pair verified within the lifetime, as of `nowMilliseconds` (a monotonic reading).
    public func contains(user: String, password: [UInt8], nowMilliseconds: UInt64) -> Bool {
        let id = identifier(user: user, password: password)
        return state.withLock { entries in
            guard let expires = entries[id] else { return false }
            if expires <= nowMilliseconds {
                entries.removeValue(forKey: id)
                return false
            }
            return true
        }
    }

    public func insert(user: String, password: [UInt8], nowMilliseconds: UInt64) {
        guard entriesMax > 0 else { return }
        let id = identifier(user: user, password: password)
        state.withLock { entries in
            if entries[id] == nil, entries.count >= entriesMax {
                entries = entries.filter { $0.value > nowMilliseconds }
                if entries.count >= entriesMax, let soonest = entries.min(by: { $0.value < $1.value }) {
                    entries.removeValue(forKey: soonest.key)
                }
            }
            entries[id] = nowMilliseconds + lifetimeMilliseconds
        }
    }

    public func clear() { state.withLock { $0.removeAll() } }

    public var count: Int { state.withLock { $0.count } }

    private func identifier(user: String, password: [UInt8]) -> [UInt8] {
        var message = Array(user.utf8)
        message.append(0)
        message += password
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
