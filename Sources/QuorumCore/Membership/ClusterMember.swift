/// One node as the gossiped membership knows it.
///
/// Entries are never deleted, only marked `left`, so a merge can't bring back a member
/// that left (a deleted entry would look like one never seen). Every change to an entry
/// raises `version`; when two copies meet, `supersedes` picks the same one on every node.
public struct ClusterMember: Sendable, Equatable {
    public var id: String
    /// Node-to-node address, `host:port`.
    public var peerAddress: String
    /// Client-facing HTTP address, `host:port`, so any node can tell a client where to go.
    public var httpAddress: String
    public var status: MemberStatus
    /// Raised by whoever changes this entry (join, leave, new address); the higher wins.
    public var version: UInt64
    /// The member's place in the ring's claim order, given when it joins: one past the
    /// highest position known then. The ring order is members sorted by (position, id),
    /// so two nodes that join at once through different seeds still end in one order.
    public var ringPosition: UInt64

    public init(
        id: String, peerAddress: String, httpAddress: String, status: MemberStatus = .up, version: UInt64 = 1,
        ringPosition: UInt64
    ) {
        self.id = id
        self.peerAddress = peerAddress
        self.httpAddress = httpAddress
        self.status = status
        self.version = version
        self.ringPosition = ringPosition
    }

    /// Whether this copy wins over `other` (same id). Higher version first; at equal
    /// versions (two nodes changed the entry at once) the later status in
    /// up → leaving → left, then the higher ring position and addresses (compared as
    /// UTF-8 bytes), so the choice is a total order and the merge a lattice join.
    public func supersedes(_ other: ClusterMember) -> Bool {
        if version != other.version { return version > other.version }
        if status != other.status { return status.rank > other.status.rank }
        if ringPosition != other.ringPosition { return ringPosition > other.ringPosition }
        if peerAddress != other.peerAddress { return other.peerAddress.utf8.lexicographicallyPrecedes(peerAddress.utf8) }
        return other.httpAddress.utf8.lexicographicallyPrecedes(httpAddress.utf8)
    }
}

/// Where a member is in its life in the cluster. Down/up is not here: that is each
/// node's own failure detector's opinion, never gossiped.
public enum MemberStatus: String, Sendable, Equatable, CaseIterable, Codable {
    /// Asked to join and is copying the partitions it will own from their current
    /// replicas; in the target ring but not yet the serving one. Can become `up` once
    /// its copies are done, or `left` if it gives up.
    case joining
    /// A full member: it owns its partitions and takes requests.
    case up
    /// Asked to leave and is handing its partitions to their next owners; in the serving
    /// ring but not the target one. Can become `left`, or `up` again if it rejoins.
    case leaving
    /// Gone. Kept as a marker so the departure spreads; can become `up` only by joining again.
    case left

    /// Life order, used to break ties between equal versions: joining → up → leaving → left.
    var rank: UInt8 {
        switch self {
        case .joining: return 0
        case .up: return 1
        case .leaving: return 2
        case .left: return 3
        }
    }

    /// The byte on the wire and on disk: fixed per case (older states used 0–2 for
    /// up, leaving, left), independent of `rank`.
    var wireCode: UInt8 {
        switch self {
        case .up: return 0
        case .leaving: return 1
        case .left: return 2
        case .joining: return 3
        }
    }

    init?(wireCode: UInt8) {
        guard let status = MemberStatus.allCases.first(where: { $0.wireCode == wireCode }) else { return nil }
        self = status
    }

    /// Whether the member owns partitions in the ring that serves requests now.
    public var isServing: Bool { self == .up || self == .leaving }
    /// Whether the member owns partitions in the ring the cluster is moving to.
    public var isInTarget: Bool { self == .up || self == .joining }
}
