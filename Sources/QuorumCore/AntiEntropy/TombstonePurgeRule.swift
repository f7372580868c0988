/// Whether a deleted key's state may be removed from storage for good.
///
/// Why so strict: a tombstone is what stops an older live version from coming back. Once
/// it is gone, a replica (or a hint, or a read-repair write) still carrying the old value
/// would win the merge against nothing and resurrect the key. So a tombstone may go only
/// when (1) nothing but tombstones is left, (2) the newest of them is at least the grace
/// period old — longer than hints are kept and replicas stay down, so no stale write is
/// still in flight — and (3) every replica of the key has reported holding exactly this
/// state, so none holds an older live version that anti-entropy would copy back.
///
/// The shell gathers the replicas' digests (one per replica in the key's preference list,
/// this node included when it is one), asks this rule, and on `.purge` removes the state
/// on every replica with a compare-and-delete on this digest, so a write that arrived
/// meanwhile is kept, and updates each replica's Merkle tree (`update(old: digest, new:
/// nil)`). A replica that missed the purge still holds the tombstone; anti-entropy copies it
/// back to the others, which is safe (it is still a tombstone) and the next purge retries.
///
/// Expired versions follow the same rule: the state is judged in its stripped form
/// (`strippingExpired`), an expired version counting as a tombstone deleted at
/// max(timestamp, deadline). Digests are compared in that form too (`purgeDigest`), so a
/// replica holding the full expired copy and one holding the stripped copy agree once
/// both have passed the deadline, which the grace period guarantees.
public enum TombstonePurgeRule {
    /// The verdict for one key.
    public enum Decision: Sendable, Equatable {
        case purge
        case keep(KeepReason)
    }

    /// Why a key's state stays, most fundamental first: the rule reports the first that holds.
    public enum KeepReason: Sendable, Equatable {
        /// The state has no siblings at all: nothing marks it deleted at a known time.
        case noTombstone
        /// A live sibling remains: the key is not deleted.
        case liveSibling
        /// The newest tombstone is younger than the grace period; it may go after this long.
        case withinGrace(remainingMilliseconds: UInt64)
        /// No replica digests were given, so nobody confirmed holding the tombstone.
        case noReplicas
        /// Replica `replica` (index into the digests given) has not answered.
        case replicaUnknown(replica: Int)
        /// Replica `replica` holds another version (older, newer, or none).
        case replicaDiffers(replica: Int)
    }

    /// Decides for `state`, this replica's state of the key.
    /// - Parameters:
    ///   - nowMilliseconds: the wall clock (HLC physical milliseconds) the shell read.
    ///   - graceMilliseconds: how old the newest tombstone must be.
    ///   - replicaDigests: `MerkleTree.versionDigest(of:)` reported by each replica of the
    ///     key; nil for a replica that is unknown or unreachable.
    public static func decide(
        state held: KeyState, nowMilliseconds: UInt64, graceMilliseconds: UInt64, replicaDigests: [UInt64?]
    ) -> Decision {
        let state = held.strippingExpired(atMilliseconds: nowMilliseconds)
        guard !state.siblings.isEmpty else { return .keep(.noTombstone) }
        guard state.siblings.allSatisfy(\.isTombstone) else { return .keep(.liveSibling) }
        let newest = state.siblings.map(\.deadSinceMilliseconds).max()!
        // Purgeable from newest + grace on; a tombstone stamped in the future (clock skew)
        // waits for the clock to pass it plus the full grace.
        let (purgeableAt, overflow) = newest.addingReportingOverflow(graceMilliseconds)
        if overflow { return .keep(.withinGrace(remainingMilliseconds: UInt64.max)) }
        if nowMilliseconds < purgeableAt { return .keep(.withinGrace(remainingMilliseconds: purgeableAt - nowMilliseconds)) }
        guard !replicaDigests.isEmpty else { return .keep(.noReplicas) }
        let digest = MerkleTree.versionDigest(of: state)  // `purgeDigest`: `state` is stripped
        for (replica, reported) in replicaDigests.enumerated() {
            guard let reported else { return .keep(.replicaUnknown(replica: replica)) }
            if reported != digest { return .keep(.replicaDiffers(replica: replica)) }
        }
        return .purge
    }
}

extension TombstonePurgeRule {
    /// The digest a purge compares replicas by: of the state with expired versions
    /// stripped at `nowMilliseconds`, so the full and the stripped copy of an expired
    /// version compare equal. For a state without expired versions it is the version
    /// digest of the stored bytes.
    public static func purgeDigest(of state: KeyState, nowMilliseconds: UInt64) -> UInt64 {
        MerkleTree.versionDigest(of: state.strippingExpired(atMilliseconds: nowMilliseconds))
    }

    /// Whether a stored state may be removed by a purge that found `digest`: its bytes hash
    /// to it, or the form replicas answer it in does: expired versions stripped at the
    /// replica's `nowMilliseconds`, versions below its bucket's truncation point turned to
    /// tombstones.
    public static func storedStateMatches(
        _ blob: [UInt8], digest: UInt64, nowMilliseconds: UInt64, truncatedBefore point: HLCTimestamp? = nil
    ) -> Bool {
        if StableHash.hash(blob) == digest { return true }
        // A typed header (a stray copy's delete) matches by its bytes only.
        guard !TypedHeader.isTypedHeader(blob), let stored = try? KeyState(decoding: blob) else { return false }
        let state = stored.truncated(before: point)
        guard state != stored || state.expiredCount(atMilliseconds: nowMilliseconds) > 0 else { return false }
        return purgeDigest(of: state, nowMilliseconds: nowMilliseconds) == digest
    }
}
