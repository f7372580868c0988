import QuorumCore
import Synchronization

/// Counts failed logins per source address in fixed windows and refuses an address's
/// logins for the rest of a window once it failed `failuresPerAddressMax` times.
///
/// The table is bounded by `failureAddressesMax`: past it, windows that ended are dropped,
/// then the oldest one. (An attacker with many addresses can push an address out early;
/// the per-connection limit and the slow hash still bound each guess.) Times are
/// monotonic milliseconds passed in, so tests step them.
public final class LoginFailureLimiter: Sendable {
    private struct Window {
        var startedMilliseconds: UInt64
        var failures: Int
    }

    private let limits: AccessLimits
    private let state = Mutex([String: Window]())

    public init(limits: AccessLimits) {
        self.limits = limits
    }

    private var windowMilliseconds: UInt64 { UInt64(max(1, limits.failureWindowSeconds)) * 1000 }

    /// Whether `address` used up its failures in the current window.
    public func isBlocked(address: String, nowMilliseconds: UInt64) -> Bool {
        state.withLock { table in
            guard let window = table[address] else { return false }
            if nowMilliseconds &- window.startedMilliseconds >= windowMilliseconds {
                table.removeValue(forKey: address)
                return false
            }
            return window.failures >= limits.failuresPerAddressMax
        }
    }

    public func recordFailure(address: String, nowMilliseconds: UInt64) {
        let windowLength = windowMilliseconds
        state.withLock { table in
            if var window = table[address], nowMilliseconds &- window.startedMilliseconds < windowLength {
                window.failures += 1
                table[address] = window
                return
            }
            if table[address] == nil, table.count >= limits.failureAddressesMax {
                table = table.filter { nowMilliseconds &- $0.value.startedMilliseconds < windowLength }
                if table.count >= limits.failureAddressesMax,
                    let oldest = table.min(by: { $0.value.startedMilliseconds < $1.value.startedMilliseconds })
                {
                    table.removeValue(forKey: oldest.key)
                }
            }
            table[address] = Window(startedMilliseconds: nowMilliseconds, failures: 1)
        }
    }

    /// Addresses tracked now.
    public var count: Int { state.withLock { $0.count } }
}
