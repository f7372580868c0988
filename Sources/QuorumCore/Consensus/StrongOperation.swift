/// One client operation on a key of a strongly consistent bucket.
public enum StrongOperation: Sendable, Equatable {
    /// A linearizable read of the latest commit.
    case read
    /// Store a value unconditionally.
    case write(StrongValue)
    /// Delete the key (commit a tombstone).
    case delete
    /// Store `value` (a tombstone deletes) only if `condition` holds for the current value.
    case compareAndSet(StrongCondition, StrongValue)

    /// The value this operation would commit given the current commit, nil for a read.
    public var newValue: StrongValue? {
        switch self {
        case .read: return nil
        case .write(let value): return value
        case .delete: return .tombstone
        case .compareAndSet(_, let value): return value
        }
    }
}

/// The condition of a compare-and-set, checked against the latest commit that a
/// majority's promises report (so the check and the write are one atomic step).
public enum StrongCondition: Sendable, Equatable {
    /// HTTP `If-Match`: the key holds a value whose etag is this one.
    case ifMatch(StrongETag)
    /// HTTP `If-None-Match: *`, RESP `SET NX`: the key holds no value (never written or deleted).
    case ifAbsent
    /// RESP `SET … XX`: the key holds a value (any).
    case ifPresent
    /// RESP `SET … IFEQ`, `DELIFEQ`: the key holds a value with exactly these bytes.
    case ifEquals([UInt8])

    /// Whether the condition holds when the key's latest commit is `current`.
    public func holds(for current: PaxosCommit?) -> Bool {
        let live = current.flatMap { $0.value.isTombstone ? nil : $0 }
        switch self {
        case .ifMatch(let etag): return live.map { $0.origin == etag.ballot } ?? false
        case .ifAbsent: return live == nil
        case .ifPresent: return live != nil
        case .ifEquals(let bytes): return live?.value.bytes == bytes
        }
    }
}

/// The version tag a client sees for a strong key's value: the origin of its commit, the
/// ballot under which the operation that wrote it first proposed it.
///
/// Ballots are unique and every operation has its own origin, so the etag changes exactly
/// when the value is replaced (even by equal bytes), which is what `If-Match` needs; and a
/// value other proposers completed under their own ballots keeps its etag. A successful
/// write knows its origin, so it answers the new etag without a second read.
public struct StrongETag: Sendable, Hashable {
    public var ballot: PaxosBallot

    public init(ballot: PaxosBallot) {
        self.ballot = ballot
    }

    /// The form sent to clients: the ballot's bytes in base64url, opaque to them.
    public var token: String { Base64URL.encode(ballot.encoded()) }

    /// Reads a token a client sent back; nil when it is not one this node issued.
    public init?(token: String) {
        guard let bytes = Base64URL.decode(token), let ballot = try? PaxosBallot(decoding: bytes) else { return nil }
        self.ballot = ballot
    }

    /// The etag of a key whose latest commit is `commit`: nil when it holds no value.
    public static func of(_ commit: PaxosCommit?) -> StrongETag? {
        guard let commit, !commit.value.isTombstone else { return nil }
        return StrongETag(ballot: commit.origin)
    }
}
