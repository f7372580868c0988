import QuorumCore

/// The node's background work, as its timers run it: gossip rounds, hint delivery and
/// anti-entropy, each the node's own driver.
extension SimulatedNode {
    // MARK: Gossip

    /// One gossip round of the node's `MembershipDriver`.
    func gossipRound() {
        membership.round()
        catchUp.tick()
    }

    // MARK: Hinted handoff

    /// One delivery pass of the node's `HintDriver`, past the peers its detector believes down.
    func deliverHints() {
        hints.deliver(down: down)
    }
}
