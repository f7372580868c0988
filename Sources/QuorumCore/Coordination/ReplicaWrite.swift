/// What a replica does to its stored state when a write arrives: the decision inside
/// `ReplicaDriver`'s `.coordinateWrite` and `.merge`, kept pure so it is tested on
/// its own and runs inside the store's commit.
///
/// Both are called with the state as committed when the write runs (inside the store's
/// transaction), so read-modify-write is atomic per key.
public enum ReplicaWrite {
    /// The lead's new state for `intent`: a create-only write (`ifAbsent`) is refused when
    /// the key holds a value live at `nowMilliseconds` (an expired one counts as absent, as
    /// in Redis's `SET NX`); otherwise the intent gets the next dot of `actor`.
    public static func lead(
        current: KeyState?, intent: WriteIntent, actor: String, timestamp: HLCTimestamp, mode: ConflictMode,
        ifAbsent: Bool, nowMilliseconds: UInt64, limits: Limits
    ) throws(KVError) -> KeyState {
        if ifAbsent, let current, !current.isDeleted(atMilliseconds: nowMilliseconds) {
            throw .preconditionFailed(message: "the key already exists and the write was create-only (If-None-Match: *)")
        }
        return try (current ?? KeyState()).applying(intent, actor: actor, timestamp: timestamp, mode: mode, limits: limits)
    }

    /// The state after merging `incoming` (a replica write, read repair, a delivered hint,
    /// an anti-entropy repair) into what the replica holds.
    public static func merge(current: KeyState?, incoming: KeyState, mode: ConflictMode) -> KeyState {
        current.map { $0.merged(with: incoming, mode: mode) } ?? incoming
    }

    /// A replica's refusal (`PeerResponse.failure` code) as the client should see it; nil
    /// for faults worth trying another replica for (the coordinator then moves on).
    public static func clientError(code: String, message: String, limits: Limits) -> KVError? {
        switch code {
        case "sibling_limit": return .siblingLimit(limit: limits.siblingsMax)
        case "bad_parameter": return .badParameter(name: "request", message: message)
        case "precondition_failed": return .preconditionFailed(message: message)
        case "wrong_type": return .wrongType(message: message)
        default: return nil
        }
    }
}
