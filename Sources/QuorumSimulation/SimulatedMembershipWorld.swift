import QuorumCore
import QuorumServices

/// What a simulated node's membership driver hands to its node: saves go through its disk
/// (in order; lost if it crashes first), changes go to its ring-change driver, down peers
/// to its request path and hint delivery.
final class SimulatedMembershipContext: MembershipContext {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func save(_ state: MembershipState, completion: @escaping () -> Void) {
        node.diskWrite({ [node] in
            node.store.membership = state
            completion()
        }, failed: { _ in completion() })  // as on the node: logged, and gossip restores it after a restart
    }

    func membershipChanged(_ state: MembershipState) { node.ringChanges.membershipChanged(state) }

    func publish(unreachable: Set<String>) { node.down = unreachable }

    func reachableAgain(_ nodes: [String]) { node.hints.targetsReachable(nodes) }
}

/// What a simulated node's ring-change driver hands to its node: the rings it places
/// requests by, and the transfers its anti-entropy driver runs.
final class SimulatedRingChangeContext: RingChangeContext {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func install(serving: Ring, target: Ring, peers: [ClusterMember]) {
        node.serving = serving
        node.target = target
    }

    func planTransfers(_ transfers: [RingChange.Transfer]) { node.antiEntropy.plan(transfers: transfers) }

    var transfersPending: Int { node.antiEntropy.figures.transfersPending }

    var replicasMax: Int { SimulatedBuckets.replicasMax }

    var hintsPending: Int { node.hints.queue.pendingCount }

    func departed() { node.retire() }
}

/// A simulated node reaches a seed by its peer address (`id:7000`) over the network.
final class SimulatedSeedCaller: SeedCaller {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func call(address: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void) {
        let id = String(address.prefix { $0 != ":" })
        node.call(id, request, timeoutMilliseconds: UInt64(max(1, timeoutMilliseconds)), completion: completion)
    }
}
