/// Majority accounting over one or two replica sets: the key's primaries, and while a
/// ring change is pending for its partition, the primaries it will have after.
///
/// A round succeeds only with a majority of EVERY set. Requiring both while ownership
/// moves means any two rounds intersect however far the change has got: a round counted
/// on the old set alone could miss a value the new set already chose, and vice versa.
/// It fails as soon as some set can no longer reach its majority (three-way, like `ReplicaPlan`).
struct JointQuorum: Sendable, Equatable {
    let sets: [[String]]
    private(set) var yes: Set<String> = []
    private(set) var no: Set<String> = []

    init(sets: [[String]]) {
        self.sets = sets
    }

    static func majority(of set: [String]) -> Int { set.count / 2 + 1 }

    var nodes: [String] {
        var seen: Set<String> = []
        return sets.joined().filter { seen.insert($0).inserted }
    }

    func contains(_ node: String) -> Bool { sets.contains { $0.contains(node) } }

    func hasAnswered(_ node: String) -> Bool { yes.contains(node) || no.contains(node) }

    /// Records a vote; false when `node` is not asked or already answered.
    mutating func record(_ node: String, voted: Bool) -> Bool {
        guard contains(node), !hasAnswered(node) else { return false }
        if voted { yes.insert(node) } else { no.insert(node) }
        return true
    }

    var status: QuorumStatus {
        if sets.allSatisfy({ set in set.count { yes.contains($0) } >= Self.majority(of: set) }) { return .succeeded }
        if sets.contains(where: { set in set.count { !no.contains($0) } < Self.majority(of: set) }) { return .failed }
        return .pending
    }

    var counts: [StrongQuorumCount] {
        sets.map { set in
            StrongQuorumCount(replicas: set.count, needed: Self.majority(of: set), answered: set.count { yes.contains($0) })
        }
    }
}

/// How one replica set fared in a round that could not reach its majority: the first is
/// the key's primaries, the second (during a ring change) its primaries after the change.
public struct StrongQuorumCount: Sendable, Hashable {
    public var replicas: Int
    public var needed: Int
    public var answered: Int

    public init(replicas: Int, needed: Int, answered: Int) {
        self.replicas = replicas
        self.needed = needed
        self.answered = answered
    }
}
