/// A version's expiry: an absolute wall-clock deadline (or none) with the hybrid logical
/// timestamp of the write or touch that set it: a last-writer-wins register per dot.
///
/// Why a register of its own: a version's value, tombstone flag and timestamp never
/// change, but `EXPIRE` and `PERSIST` change when it expires. Keeping that change apart
/// from the value means a touch merges into the versions it read and nothing else, so it
/// can never overwrite a concurrent value write (that write is a new dot, untouched).
/// Deadlines are absolute, never relative: a relative ttl would restart at every replica
/// and every repair. See docs/architecture.md ("Expiry").
public struct ExpiryRegister: Sendable, Equatable, Hashable {
    /// Wall-clock milliseconds since 1970 from which the version reads as absent; nil: never.
    public var deadlineMilliseconds: UInt64?
    /// When the deadline was set: the write's timestamp, or the coordinator's clock at a touch.
    public var stamp: HLCTimestamp

    public init(deadlineMilliseconds: UInt64?, stamp: HLCTimestamp) {
        self.deadlineMilliseconds = deadlineMilliseconds
        self.stamp = stamp
    }

    /// A version written without a ttl and never touched. States whose versions all hold
    /// this encode as `KeyState` version 1.
    public static let none = ExpiryRegister(deadlineMilliseconds: nil, stamp: .zero)

    public var isNone: Bool { self == .none }

    /// The register set by a write stamped `timestamp` with `deadline`: `.none` without a
    /// deadline (a SET without KEEPTTL clears the ttl, as Redis does).
    public static func written(deadlineMilliseconds: UInt64?, timestamp: HLCTimestamp) -> ExpiryRegister {
        deadlineMilliseconds.map { ExpiryRegister(deadlineMilliseconds: $0, stamp: timestamp) } ?? .none
    }

    /// The join of two registers of the same dot: the later stamp wins. On a tie the
    /// earlier deadline wins (none counts as the latest), so the join is commutative,
    /// associative and idempotent whatever order replicas see the registers in.
    public func joined(with other: ExpiryRegister) -> ExpiryRegister {
        if stamp != other.stamp { return stamp > other.stamp ? self : other }
        return Self.deadlineOrder(deadlineMilliseconds) <= Self.deadlineOrder(other.deadlineMilliseconds) ? self : other
    }

    /// Whether a version with this register reads as absent at `nowMilliseconds`.
    public func hasPassed(atMilliseconds nowMilliseconds: UInt64) -> Bool {
        guard let deadlineMilliseconds else { return false }
        return deadlineMilliseconds <= nowMilliseconds
    }

    /// Deadlines in time order with none last.
    static func deadlineOrder(_ deadline: UInt64?) -> UInt64 { deadline ?? UInt64.max }
}

/// How a write sets its version's expiry, as a client asked for it.
public enum ExpiryRequest: Sendable, Equatable {
    /// No ttl (a plain SET, or a bucket without a default ttl).
    case none
    /// Keep the deadline of the versions the write supersedes (Redis `KEEPTTL`).
    case keep
    /// An absolute deadline, wall-clock milliseconds since 1970; the coordinator turns a
    /// relative ttl into one before anything else sees it.
    case at(milliseconds: UInt64)
}

/// What an expiry change (`EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT`, `PERSIST`) sets.
public enum ExpiryChange: Sendable, Equatable {
    /// Expire at this absolute deadline (a past one expires the key now, as Redis deletes it).
    case at(milliseconds: UInt64)
    /// Remove the ttl. Applies only when the key has one (`PERSIST` answers 0 otherwise).
    case persist
}

/// Redis's `NX XX GT LT` options of `EXPIRE`: when a change applies, judged on the read.
public enum ExpiryCondition: String, Sendable, Equatable, CaseIterable {
    /// Only when the key has no ttl.
    case nx
    /// Only when the key has a ttl.
    case xx
    /// Only when the new deadline is later than the current one (no ttl counts as infinite).
    case gt
    /// Only when the new deadline is earlier than the current one (no ttl counts as infinite).
    case lt
}
