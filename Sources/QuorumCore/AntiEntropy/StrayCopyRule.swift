/// What to do with a key this node still holds but no longer replicates: a copy left behind
/// when a join moved the partition (or the bucket's replicas) elsewhere.
///
/// Why it must go: nothing keeps a stray copy current. Anti-entropy and tombstone purges
/// run between the key's replicas only, so if a later ring change made this node a replica
/// again, its old copy would spread as if it were news, and could bring back a value whose
/// tombstone has been purged meanwhile.
///
/// Why it may not simply be deleted: a write acknowledged by the old replicas after the
/// partition's transfer and before the ring switched may be on this copy alone. So the
/// shell asks each replica for its state of the key and this rule decides:
/// - some replica's state already holds everything the stray copy has: delete the copy
///   (anti-entropy spreads it among the replicas if others lack it);
/// - otherwise, if the copy's newest version is within the tombstone grace period, hand it
///   off: merge it into the replicas that lack it, and delete it on a later pass once they
///   hold it. Such a version cannot belong to a key whose tombstone was purged: a purge
///   needs a tombstone older than the grace, and that tombstone is newer than the version;
/// - if it is older than the grace and no replica holds it, it is a value deleted and
///   purged since (replicas do not all lose a key otherwise): delete the copy, never hand
///   it off;
/// - while a replica has not answered and none that did holds the copy: wait.
public enum StrayCopyRule {
    /// One replica's answer about the key.
    public enum ReplicaState: Sendable, Equatable {
        /// The replica's state of the key; nil when it has none.
        case held(KeyState?)
        /// The replica did not answer.
        case unknown
    }

    public enum Decision: Sendable, Equatable {
        /// Keep the copy: this node replicates the key.
        case keep
        /// Remove the copy (compare-and-delete on its digest, so a write that lands meanwhile stays).
        case delete
        /// Merge the copy into these replicas (indices into the answers), then check again.
        case handOff(replicas: [Int])
        /// Ask again later: a replica did not answer and none that did holds the copy.
        case wait
    }

    /// Whether `node` is none of the key's replicas, `replicas` being its preference list
    /// for the bucket's n in the settled ring.
    public static func isStray(node: String, replicas: [String]) -> Bool {
        !replicas.contains(node)
    }

    /// Decides for this node's `copy` of a key, given each replica's answer.
    /// - Parameters:
    ///   - nowMilliseconds: the wall clock (HLC physical milliseconds) the shell read.
    ///   - graceMilliseconds: the tombstone grace period; versions younger than it are handed off.
    public static func decide(
        copy: KeyState, replicas: [ReplicaState], mode: ConflictMode, nowMilliseconds: UInt64, graceMilliseconds: UInt64
    ) -> Decision {
        guard !replicas.isEmpty else { return .keep }
        guard !copy.siblings.isEmpty else { return .delete }  // no version: nothing to hand off
        var lacking: [Int] = []
        var unanswered = false
        for (index, answer) in replicas.enumerated() {
            switch answer {
            case .unknown:
                unanswered = true
            case .held(let state):
                let merged = ReplicaWrite.merge(current: state, incoming: copy, mode: mode)
                if let state, MerkleTree.versionDigest(of: merged) == MerkleTree.versionDigest(of: state) { return .delete }
                lacking.append(index)
            }
        }
        if unanswered { return .wait }
        let newest = copy.siblings.map(\.timestamp.physicalMilliseconds).max() ?? 0
        let (handOffUntil, overflow) = newest.addingReportingOverflow(graceMilliseconds)
        if overflow || nowMilliseconds < handOffUntil { return .handOff(replicas: lacking) }
        return .delete
    }
}

/// `StrayCopyRule` for a typed key's stray copy (issue #16), from each replica's whole
/// state of the key:
/// - some replica's state already holds everything the copy has (joining the copy changes
///   nothing): delete the copy;
/// - otherwise, while a replica has not answered: wait;
/// - otherwise hand the copy off (a full-state join) to the replicas that lack it, and
///   delete it once they all acknowledged.
///
/// Unlike a plain copy, an old typed copy is always handed off, never deleted unseen:
/// typed keys are never purged (see `TombstonePurgeDriver`), so no replica can have
/// forgotten a removal the copy predates. A replica's causal context remembers every dot
/// it removed, and the join drops the copy's dots it covers, so handing off an old copy
/// brings nothing removed back.
public enum TypedStrayCopyRule {
    /// Decides for this node's whole `copy` of a typed key, given each replica's answer
    /// (`.some(nil)`: it holds none; nil: it did not answer).
    public static func decide(copy: TypedState, replicas: [TypedState??]) -> StrayCopyRule.Decision {
        guard !replicas.isEmpty else { return .keep }
        let copy = copy.withoutEmptyMembers
        var lacking: [Int] = []
        var unanswered = false
        for (index, answer) in replicas.enumerated() {
            guard let answer else {
                unanswered = true
                continue
            }
            if let held = answer?.withoutEmptyMembers, held.datatype == copy.datatype,
                held.joined(with: copy, isFull: true) == held
            {
                return .delete
            }
            lacking.append(index)
        }
        return unanswered ? .wait : .handOff(replicas: lacking)
    }
}
