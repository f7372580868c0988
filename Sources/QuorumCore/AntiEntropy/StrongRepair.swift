/// `KeyRepair` for a strong key (issue #17): of both sides' latest commits the one with the
/// higher ballot goes to whichever side lacks it; nothing is merged.
///
/// Commits order by ballot, never by the HLC of a write: each instance's ballot is above
/// the commit it was built on, so the higher ballot is the later commit. Only commits
/// travel, never promises or accepted proposals (those are each replica's own votes), and
/// the receiver learns one through its acceptor's commit step (`Acceptor.receiveCommit`),
/// which keeps whatever is newer. A tombstone commit travels like a value: it orders the
/// commits after it.
public struct StrongKeyRepair: Sendable, Equatable {
    /// The later of the two commits.
    public var newest: PaxosCommit
    /// The local replica's commit is older or absent: it should learn `newest`.
    public var writeLocally: Bool
    /// The peer's commit is older or absent: it should learn `newest`.
    public var sendToPeer: Bool

    /// Nil when neither side learned a commit, or both hold the same ballot (nothing to
    /// repair: a ballot is chosen once, so equal ballots are the same commit).
    public init?(local: PaxosCommit?, remote: PaxosCommit?) {
        let newest: PaxosCommit
        switch (local, remote) {
        case (nil, nil): return nil
        case (let one?, nil), (nil, let one?): newest = one
        case (let left?, let right?):
            guard left.ballot != right.ballot else { return nil }
            newest = left.ballot > right.ballot ? left : right
        }
        self.newest = newest
        writeLocally = local.map { $0.ballot < newest.ballot } ?? true
        sendToPeer = remote.map { $0.ballot < newest.ballot } ?? true
    }
}

/// `StrayCopyRule` for a strong key's copy (issue #17): the copy's commit is redundant once
/// a replica learned it or a later one; until then it is handed to the replicas that
/// answered without it (they learn it through their commit step), and kept while a replica
/// is silent.
public enum StrongStrayCopyRule {
    /// Decides for this node's `copy`, given each replica's latest commit (`.some(nil)`: it
    /// learned none; nil: it did not answer).
    public static func decide(copy: PaxosCommit, replicas: [PaxosCommit??]) -> StrayCopyRule.Decision {
        guard !replicas.isEmpty else { return .keep }
        var lacking: [Int] = []
        var unanswered = false
        for (index, answer) in replicas.enumerated() {
            guard let answer else {
                unanswered = true
                continue
            }
            if let held = answer, held.ballot >= copy.ballot { return .delete }
            lacking.append(index)
        }
        return unanswered ? .wait : .handOff(replicas: lacking)
    }
}
