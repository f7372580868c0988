import QuorumCore
import QuorumServices

/// The node's gossip and ring-change drivers, which call each other, and the Paxos
/// catch-up that waits on the membership they keep, on the background loop.
final class ClusterServices {
    let membership: MembershipDriver
    let ringChanges: RingChangeDriver
    let catchUp: PaxosCatchUpDriver

    init(membership: MembershipDriver, ringChanges: RingChangeDriver, catchUp: PaxosCatchUpDriver) {
        self.membership = membership
        self.ringChanges = ringChanges
        self.catchUp = catchUp
    }

    /// The members of both rings by this node's membership; nil until it is known.
    static func members(of state: MembershipState) -> Set<String>? {
        guard let serving = state.ring else { return nil }
        return Set(serving.members).union(state.targetRing?.members ?? [])
    }
}
