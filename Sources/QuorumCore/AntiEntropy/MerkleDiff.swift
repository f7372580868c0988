/// Comparisons an anti-entropy exchange makes: node hashes on one level, then the keys of
/// the segments found to differ.
///
/// Kept free of exchange state so each rule can be tested on its own, and so a shell that
/// answers a peer uses the same definitions of "differs" as the side that asks.
public enum MerkleDiff {
    /// The indices whose hashes differ between the local and remote answers for one level,
    /// ascending. An index the remote left out counts as differing, so a short answer
    /// can't hide a difference.
    public static func differingIndices(requested: [Int], local: [Int: UInt64], remote: [Int: UInt64]) -> [Int] {
        requested.filter { index in
            guard let theirs = remote[index], let ours = local[index] else { return true }
            return theirs != ours
        }.sorted()
    }

    /// The keys two replicas must repair in a set of segments: those whose digests differ
    /// and those only one side holds (either side), sorted by bucket then key so every run
    /// names them in the same order.
    ///
    /// A key listed twice on one side keeps its last entry; a well-behaved store lists each
    /// key once per segment.
    public static func keysToRepair(local: [SegmentKey], remote: [SegmentKey]) -> [RepairKey] {
        let localDigests = digestsByName(local)
        let remoteDigests = digestsByName(remote)
        var repairs: [RepairKey] = []
        for (name, theirs) in remoteDigests {
            let ours = localDigests[name]
            if ours != theirs {
                repairs.append(RepairKey(bucket: name.bucket, key: name.key, localDigest: ours, remoteDigest: theirs))
            }
        }
        for (name, ours) in localDigests where remoteDigests[name] == nil {
            repairs.append(RepairKey(bucket: name.bucket, key: name.key, localDigest: ours, remoteDigest: nil))
        }
        repairs.sort(by: RepairKey.precedes)
        return repairs
    }

    private static func digestsByName(_ entries: [SegmentKey]) -> [KeyName: UInt64] {
        var digests: [KeyName: UInt64] = [:]
        digests.reserveCapacity(entries.count)
        for entry in entries { digests[entry.name] = entry.digest }
        return digests
    }
}

/// One key a replica holds in a segment, as a peer lists it: names plus version digest.
public struct SegmentKey: Sendable, Equatable, Hashable {
    public var bucket: String
    public var key: [UInt8]
    /// `MerkleTree.versionDigest(of:)` of the key's state on that replica.
    public var digest: UInt64

    public init(bucket: String, key: [UInt8], digest: UInt64) {
        self.bucket = bucket
        self.key = key
        self.digest = digest
    }

    var name: KeyName { KeyName(bucket: bucket, key: key) }
}

/// A key two replicas disagree on. The shell repairs it through the read-repair path:
/// fetch the state from whichever sides hold it, merge, and write the merge to both, so
/// an absent side receives the other's state (a tombstone included) and nothing deleted
/// comes back.
public struct RepairKey: Sendable, Equatable, Hashable {
    public var bucket: String
    public var key: [UInt8]
    /// The local digest; nil when only the remote holds the key.
    public var localDigest: UInt64?
    /// The remote digest; nil when only this replica holds the key.
    public var remoteDigest: UInt64?

    public init(bucket: String, key: [UInt8], localDigest: UInt64?, remoteDigest: UInt64?) {
        self.bucket = bucket
        self.key = key
        self.localDigest = localDigest
        self.remoteDigest = remoteDigest
    }

    /// Bucket, then key bytes: the order repairs are listed in.
    static func precedes(_ lhs: RepairKey, _ rhs: RepairKey) -> Bool {
        lhs.bucket != rhs.bucket ? lhs.bucket < rhs.bucket : lhs.key.lexicographicallyPrecedes(rhs.key)
    }
}

struct KeyName: Hashable {
    var bucket: String
    var key: [UInt8]
}
