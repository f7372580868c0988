import QuorumServices

/// The node's gossip and ring-change drivers, which call each other, on the background loop.
final class ClusterServices {
    let membership: MembershipDriver
    let ringChanges: RingChangeDriver

    init(membership: MembershipDriver, ringChanges: RingChangeDriver) {
        self.membership = membership
        self.ringChanges = ringChanges
    }
}
