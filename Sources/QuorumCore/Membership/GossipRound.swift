/// Which peers a node gossips with in one round.
///
/// Randomness comes in as a generator the caller owns (seeded in tests and in the
/// simulator), and the draws use Fisher–Yates with `next(upperBound:)` rather than the
/// standard library's `shuffled`, whose algorithm is not promised to stay the same, so
/// a seed replays the same choices on every toolchain.
public enum GossipRound {
    /// Members worth gossiping with: everyone but `local` and those that left, sorted by
    /// id so the draw depends only on the state and the generator. Peers believed down
    /// are included: gossip is how they catch up when they come back.
    public static func peers(of state: MembershipState, local: String) -> [String] {
        state.members.values.filter { $0.id != local && $0.status != .left }.map(\.id)
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Up to `fanout` distinct peers drawn uniformly at random, without memory of earlier
    /// rounds. `GossipSchedule` adds that memory.
    public static func targets(
        of state: MembershipState, local: String, fanout: Int = GossipLimits.defaults.fanout,
        using generator: inout some RandomNumberGenerator
    ) -> [String] {
        var candidates = peers(of: state, local: local)
        return Array(partiallyShuffle(&candidates, count: fanout, using: &generator))
    }

    /// Moves a uniform random choice of `count` elements to the front, in random order,
    /// and returns them (the first steps of Fisher–Yates).
    static func partiallyShuffle(
        _ elements: inout [String], count: Int, using generator: inout some RandomNumberGenerator
    ) -> ArraySlice<String> {
        let chosen = min(max(count, 0), elements.count)
        for index in 0..<chosen {
            let other = index + Int(generator.next(upperBound: UInt64(elements.count - index)))
            elements.swapAt(index, other)
        }
        return elements[0..<chosen]
    }
}

/// Round-robin over a shuffled list of peers: each round takes the next `fanout` peers,
/// and a new shuffle starts when the list runs out.
///
/// So every peer is contacted directly at least once every ⌈peers/fanout⌉ + 1 rounds
/// instead of only on average, as SWIM does for its probes. That bounds how long a peer
/// can go without hearing from this node, and how stale the state it holds can get.
public struct GossipSchedule: Sendable, Equatable {
    private var upcoming: [String] = []

    public init() {}

    /// The targets of the next round among `peers` (see `GossipRound.peers`).
    public mutating func next(
        peers: [String], fanout: Int, using generator: inout some RandomNumberGenerator
    ) -> [String] {
        let eligible = Set(peers)
        upcoming.removeAll { !eligible.contains($0) }
        var chosen: [String] = []
        let wanted = min(max(fanout, 0), peers.count)
        var reshuffled = false
        while chosen.count < wanted {
            if upcoming.isEmpty {
                // One reshuffle per round at most: it covers every peer not yet chosen.
                guard !reshuffled else { break }
                reshuffled = true
                var fresh = peers.filter { !chosen.contains($0) }
                upcoming = Array(GossipRound.partiallyShuffle(&fresh, count: fresh.count, using: &generator))
                continue
            }
            let peer = upcoming.removeFirst()
            if !chosen.contains(peer) { chosen.append(peer) }
        }
        return chosen
    }
}
