/// The hash space cut into a fixed number of partitions, each owned by one node.
///
/// A ring is built by letting nodes claim partitions one after another, in membership
/// order, so every node that knows the same ordered membership computes the same ring,
/// and a node that joins takes partitions only from the most loaded owners: nothing else
/// moves. Partitions are numbered clockwise; partition `p` holds hashes whose top
/// `log2(partitionCount)` bits equal `p`.
public struct Ring: Sendable, Equatable {
    /// Owner of each partition, by index into `members`.
    public private(set) var owners: [Int]
    /// Node ids in the order they joined.
    public private(set) var members: [String]

    public var partitionCount: Int { owners.count }

    /// A ring of `partitionCount` partitions (a power of two, at least 1) claimed by
    /// `members` in order.
    public init(members: [String], partitionCount: Int = 64) {
        precondition(partitionCount > 0 && partitionCount & (partitionCount - 1) == 0, "partition count must be a power of two, got \(partitionCount)")
        precondition(!members.isEmpty, "a ring needs at least one member")
        precondition(Set(members).count == members.count, "ring members must be distinct: \(members)")
        self.members = [members[0]]
        self.owners = Array(repeating: 0, count: partitionCount)
        for member in members.dropFirst() { self = adding(member) }
    }

    /// The ring after `member` joins: it claims ⌊P/(k+1)⌋ partitions, each taken from the
    /// owner with the most, preferring partitions whose neighbours it doesn't own so its
    /// partitions stay spread around the ring and preference lists stay distinct.
    public func adding(_ member: String) -> Ring {
        precondition(!members.contains(member), "\(member) is already a ring member")
        var ring = self
        ring.members.append(member)
        let newIndex = ring.members.count - 1
        let target = partitionCount / ring.members.count
        for _ in 0..<target {
            let counts = ring.ownedCounts()
            let donor = (0..<newIndex).max { lhs, rhs in
                counts[lhs] != counts[rhs] ? counts[lhs] < counts[rhs] : lhs > rhs
            }!
            ring.owners[ring.partitionToTake(from: donor, for: newIndex)] = newIndex
        }
        return ring
    }

    /// The partition a key lives in.
    public func partition(forHash hash: UInt64) -> Int {
        let bits = partitionCount.trailingZeroBitCount
        return bits == 0 ? 0 : Int(hash >> UInt64(64 - bits))
    }

    public func partition(bucket: String, key: [UInt8]) -> Int {
        partition(forHash: StableHash.keyHash(bucket: bucket, key: key))
    }

    public func owner(of partition: Int) -> String { members[owners[partition]] }

    /// The first `n` distinct nodes clockwise from `partition`: where the key's replicas live.
    public func preferenceList(partition: Int, n: Int) -> [String] {
        var chosen: [Int] = []
        chosen.reserveCapacity(n)
        var index = partition
        for _ in 0..<partitionCount where chosen.count < n {
            let owner = owners[index]
            if !chosen.contains(owner) { chosen.append(owner) }
            index = (index + 1) & (partitionCount - 1)
        }
        return chosen.map { members[$0] }
    }

    public func preferenceList(bucket: String, key: [UInt8], n: Int) -> [String] {
        preferenceList(partition: partition(bucket: bucket, key: key), n: n)
    }

    /// Partitions owned per member, in member order.
    public func ownedCounts() -> [Int] {
        var counts = Array(repeating: 0, count: members.count)
        for owner in owners { counts[owner] += 1 }
        return counts
    }

    /// Partitions `node` owns.
    public func partitions(ownedBy node: String) -> [Int] {
        guard let index = members.firstIndex(of: node) else { return [] }
        return owners.indices.filter { owners[$0] == index }
    }

    /// A digest two nodes compare to check they computed the same ring.
    public var digest: UInt64 {
        var writer = ByteWriter()
        writer.writeVarInt(UInt64(partitionCount))
        for member in members { writer.writeString(member) }
        for owner in owners { writer.writeVarInt(UInt64(owner)) }
        return StableHash.hash(writer.bytes)
    }

    private func partitionToTake(from donor: Int, for taker: Int) -> Int {
        let candidates = owners.indices.filter { owners[$0] == donor }
        let mask = partitionCount - 1
        func neighboursTaker(_ partition: Int) -> Bool {
            owners[(partition + 1) & mask] == taker || owners[(partition - 1 + partitionCount) & mask] == taker
        }
        // Spread the taker's partitions: take the candidate farthest from any it owns.
        let taken = owners.indices.filter { owners[$0] == taker }
        func distance(_ partition: Int) -> Int {
            taken.map { other in
                let gap = abs(other - partition)
                return min(gap, partitionCount - gap)
            }.min() ?? partitionCount
        }
        return candidates.max { lhs, rhs in
            let left = (neighboursTaker(lhs) ? 0 : 1, distance(lhs), -lhs)
            let right = (neighboursTaker(rhs) ? 0 : 1, distance(rhs), -rhs)
            return left < right
        }!
    }
}
