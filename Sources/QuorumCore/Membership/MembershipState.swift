/// The cluster state nodes gossip: who is a member, the ring's claim order, and every
/// bucket's props.
///
/// A join-semilattice: `merged(with:)` is commutative, associative and idempotent, so
/// nodes that exchange states in any order, any number of times, end with the same
/// state. That holds because each part merges on its own by a total order — members
/// entry by entry (`ClusterMember.supersedes`), bucket props by newest version — and the
/// ring order is derived from the members rather than stored beside them.
public struct MembershipState: Sendable, Equatable {
    /// Partitions in the ring; fixed for a cluster's life. States of different counts
    /// come from different clusters and `Gossip` refuses them before merging.
    public private(set) var partitionCount: Int
    /// By id; includes members that left (see `ClusterMember`).
    public private(set) var members: [String: ClusterMember]
    /// Props of every bucket anyone configured, by bucket name.
    public private(set) var bucketProps: [String: BucketProps]
    /// Where buckets were truncated; gossiped so a member that missed a truncation, or
    /// joins later, still hides what it hid.
    public private(set) var truncations: TruncationPoints

    /// A state with no members yet: a node that has not joined a cluster.
    public init(partitionCount: Int = 64) {
        precondition(
            partitionCount > 0 && partitionCount & (partitionCount - 1) == 0,
            "partition count must be a power of two, got \(partitionCount)")
        self.partitionCount = partitionCount
        members = [:]
        bucketProps = [:]
        truncations = .none
    }

    /// The state every node of a statically configured cluster computes from the same
    /// ordered member list: each joins in turn.
    public init(
        founders: [(id: String, peerAddress: String, httpAddress: String)], partitionCount: Int = 64
    ) throws(MembershipError) {
        self.init(partitionCount: partitionCount)
        for founder in founders {
            guard members[founder.id] == nil else { throw .duplicateMember(founder.id) }
            self = try joining(member: founder.id, peerAddress: founder.peerAddress, httpAddress: founder.httpAddress)
        }
    }

    init(
        partitionCount: Int, members: [String: ClusterMember], bucketProps: [String: BucketProps],
        truncations: TruncationPoints = .none
    ) {
        self.partitionCount = partitionCount
        self.members = members
        self.bucketProps = bucketProps
        self.truncations = truncations
    }

    // MARK: The ring

    /// Node ids in ring claim order: by ring position, then id (UTF-8 order), every member
    /// ever seen (those that left too). The rings below take the members they need from it.
    public var ringOrder: [String] {
        members.values.sorted { lhs, rhs in
            lhs.ringPosition != rhs.ringPosition
                ? lhs.ringPosition < rhs.ringPosition : lhs.id.utf8.lexicographicallyPrecedes(rhs.id.utf8)
        }.map(\.id)
    }

    /// The highest ring position given out: it grows by one with each join, so a node
    /// can tell a newer ring from an older one at a glance (`digest` tells them apart exactly).
    public var ringVersion: UInt64 { members.values.map(\.ringPosition).max() ?? 0 }

    /// The ring requests use now: members `up` or `leaving`, in claim order; nil before
    /// anyone joined. Compute it once per `digest` change; building it is
    /// O(partitions × members²).
    public var ring: Ring? { ring(of: \.isServing) }

    /// The ring the cluster is moving to: members `up` or `joining`. Equal to `ring` when no
    /// member is joining or leaving; where they differ, `RingChange` says which partitions
    /// have to be copied before the change completes.
    public var targetRing: Ring? { ring(of: \.isInTarget) }

    /// Whether a member is joining or leaving, so the two rings differ.
    public var isChanging: Bool { members.values.contains { $0.status == .joining || $0.status == .leaving } }

    private func ring(of included: (MemberStatus) -> Bool) -> Ring? {
        let order = ringOrder.filter { included(members[$0]!.status) }
        return order.isEmpty ? nil : Ring(members: order, partitionCount: partitionCount)
    }

    /// Members that are `up`, sorted by id.
    public var upMembers: [String] {
        members.values.filter { $0.status == .up }.map(\.id).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    // MARK: Changes

    /// The state after `id` joins as a full member: a new member gets the next ring
    /// position, so it claims partitions after everyone already in the ring
    /// (`Ring.adding`: it takes them from the most loaded owners and nothing else moves).
    /// A member that left and comes back keeps its old position and becomes `up` again; a
    /// member already in just takes the new addresses and keeps its status (a node calls
    /// this for itself at start, so a changed address spreads). Founders of a statically
    /// configured cluster join this way; a node joining a running cluster uses
    /// `requestingJoin`, which copies data first.
    public func joining(member id: String, peerAddress: String, httpAddress: String) throws(MembershipError) -> MembershipState {
        try admitting(id, peerAddress: peerAddress, httpAddress: httpAddress, newStatus: .up)
    }

    /// The state after `id` asks to join a running cluster: it enters as `joining`, in the
    /// target ring only, until `markingUp` once it holds its partitions' data.
    /// - Parameter versionAbove: the version of an entry of its own that the node drops
    ///   (a single-node state it ran alone before), so the new entry supersedes it in merges.
    public func requestingJoin(
        member id: String, peerAddress: String, httpAddress: String, versionAbove: UInt64 = 0
    ) throws(MembershipError) -> MembershipState {
        var state = try admitting(id, peerAddress: peerAddress, httpAddress: httpAddress, newStatus: .joining)
        if state.members[id]!.version <= versionAbove { state.members[id]!.version = versionAbove + 1 }
        return state
    }

    /// The state after a joining member finished copying: it serves from now on.
    public func markingUp(_ id: String) throws(MembershipError) -> MembershipState {
        guard let existing = members[id] else { throw .unknownMember(id) }
        switch existing.status {
        case .up: return self
        case .left: throw .alreadyLeft(id)
        case .joining, .leaving: return setting(id, status: .up)
        }
    }

    private func admitting(
        _ id: String, peerAddress: String, httpAddress: String, newStatus: MemberStatus
    ) throws(MembershipError) -> MembershipState {
        try MembershipState.validate(id: id, peerAddress: peerAddress, httpAddress: httpAddress)
        var state = self
        if let existing = members[id] {
            let status = existing.status == .left ? newStatus : existing.status
            if existing.status == status, existing.peerAddress == peerAddress, existing.httpAddress == httpAddress { return self }
            state.members[id] = ClusterMember(
                id: id, peerAddress: peerAddress, httpAddress: httpAddress, status: status,
                version: existing.version + 1, ringPosition: existing.ringPosition)
        } else {
            state.members[id] = ClusterMember(
                id: id, peerAddress: peerAddress, httpAddress: httpAddress, status: newStatus, version: 1,
                ringPosition: ringVersion + 1)
        }
        return state
    }

    /// The state after `id` asked to leave: a serving member becomes `leaving` (it hands its
    /// partitions off, then `left`); a member still joining is simply `left`. Leaving twice
    /// changes nothing.
    public func leaving(_ id: String) throws(MembershipError) -> MembershipState {
        guard let existing = members[id] else { throw .unknownMember(id) }
        switch existing.status {
        case .leaving: return self
        case .left: throw .alreadyLeft(id)
        case .up: return setting(id, status: .leaving)
        case .joining: return setting(id, status: .left)  // it never served: nothing to hand off
        }
    }

    /// The state after `id` is gone. Marking it gone twice changes nothing.
    public func left(_ id: String) throws(MembershipError) -> MembershipState {
        guard let existing = members[id] else { throw .unknownMember(id) }
        return existing.status == .left ? self : setting(id, status: .left)
    }

    /// The state with a bucket's props, unless the state already holds a newer copy
    /// (the same rule as a merge, so a stale local change can't undo a newer remote one).
    public func settingBucketProps(_ props: BucketProps, for bucket: String) -> MembershipState {
        var state = self
        state.bucketProps[bucket] = MembershipState.newer(bucketProps[bucket], props)
        return state
    }

    /// The state with `bucket` (nil: every bucket) truncated at `point`, unless it already
    /// holds a later point.
    public func truncating(_ bucket: String?, at point: HLCTimestamp) -> MembershipState {
        var state = self
        state.truncations = truncations.raising(bucket, to: point)
        return state
    }

    private func setting(_ id: String, status: MemberStatus) -> MembershipState {
        var state = self
        state.members[id]!.status = status
        state.members[id]!.version += 1
        return state
    }

    // MARK: Merge

    /// The least state that includes both: per member the superseding entry, per bucket
    /// the newest props and the latest truncation point. Commutative, associative and idempotent. A mismatched partition
    /// count keeps the larger only so the merge stays total; `Gossip` never merges such states.
    public func merged(with other: MembershipState) -> MembershipState {
        var result = self
        result.partitionCount = max(partitionCount, other.partitionCount)
        for (id, theirs) in other.members {
            if let ours = result.members[id], !theirs.supersedes(ours) { continue }
            result.members[id] = theirs
        }
        for (bucket, theirs) in other.bucketProps {
            result.bucketProps[bucket] = MembershipState.newer(result.bucketProps[bucket], theirs)
        }
        result.truncations = truncations.merged(with: other.truncations)
        return result
    }

    static func newer(_ current: BucketProps?, _ candidate: BucketProps) -> BucketProps {
        current.map { $0.joined(with: candidate) } ?? candidate
    }

    // MARK: Validation

    /// Member ids are 1–64 bytes and addresses 1–255 bytes of printable ASCII without
    /// spaces (ids also without `=` and `,`, which the CLI's `id=host:port` uses). The HTTP
    /// address may be empty: a static member list names only peer addresses, and each
    /// node fills in its own when it re-joins with it. ASCII
    /// makes byte order, string order and string equality the same thing, which the
    /// canonical encoding and the tie-breaks rely on.
    public static func validate(id: String, peerAddress: String, httpAddress: String) throws(MembershipError) {
        guard isPrintableASCII(id, bytesMax: 64), !id.utf8.contains(0x3D), !id.utf8.contains(0x2C) else {
            throw .invalidMemberID(id)
        }
        guard isPrintableASCII(peerAddress, bytesMax: 255) else { throw .invalidAddress(peerAddress) }
        guard httpAddress.isEmpty || isPrintableASCII(httpAddress, bytesMax: 255) else { throw .invalidAddress(httpAddress) }
    }

    static func isPrintableASCII(_ text: String, bytesMax: Int) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= bytesMax && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

/// Why a membership change could not be made.
public enum MembershipError: Error, Sendable, Equatable {
    case unknownMember(String)
    case alreadyLeft(String)
    case duplicateMember(String)
    case invalidMemberID(String)
    case invalidAddress(String)

    public var message: String {
        switch self {
        case .unknownMember(let id): return "\(id) is not a member of this cluster"
        case .alreadyLeft(let id): return "\(id) has already left the cluster; it can only join again"
        case .duplicateMember(let id): return "\(id) is listed twice"
        case .invalidMemberID(let id):
            return "member id \"\(id)\" must be 1-64 printable ASCII characters without spaces, '=' or ','"
        case .invalidAddress(let address):
            return "address \"\(address)\" must be host:port in 1-255 printable ASCII characters without spaces"
        }
    }
}
