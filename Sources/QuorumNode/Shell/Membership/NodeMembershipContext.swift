import Dispatch
import Logging
import NIOCore
import QuorumCore
import QuorumServices
import QuorumStorage

/// What the membership driver hands to the rest of the node: each new state saved in the
/// store (in order, answered on the background loop), bucket props stored (off the loop:
/// it commits), the ring change driven, down peers published, hints resumed.
final class NodeMembershipContext: MembershipContext {
    private let store: ReplicaStore
    private let registry: BucketRegistry
    private let cluster: OnLoop<ClusterServices>
    private let hints: OnLoop<HintDriver>
    private let down: DownPeers
    private let logger: Logger
    private let blockingQueue: DispatchQueue

    init(
        store: ReplicaStore, registry: BucketRegistry, cluster: OnLoop<ClusterServices>, hints: OnLoop<HintDriver>,
        down: DownPeers, logger: Logger, blockingQueue: DispatchQueue
    ) {
        self.store = store
        self.registry = registry
        self.cluster = cluster
        self.hints = hints
        self.down = down
        self.logger = logger
        self.blockingQueue = blockingQueue
    }

    func save(_ state: MembershipState, completion: @escaping () -> Void) {
        let saved = LoopHop.back(to: cluster.loop) { (_: Void) in completion() }
        store.setMetaValue(MembershipBootstrap.stateKey, Base64URL.encode(state.encoded())) { [logger] result in
            if case .failure(let error) = result {
                logger.error("could not save the membership; gossip restores it after a restart", metadata: ["error": "\(error)"])
            }
            saved(())
        }
    }

    func membershipChanged(_ state: MembershipState) {
        registry.adopt(state.truncations)
        let props = state.bucketProps
        blockingQueue.async { [registry] in
            for (bucket, bucketProps) in props { try? registry.store(bucket: bucket, props: bucketProps) }
        }
        cluster.run { $0.ringChanges.membershipChanged(state) }
    }

    func publish(unreachable: Set<String>) { down.publish(unreachable) }

    func reachableAgain(_ nodes: [String]) { hints.run { $0.targetsReachable(nodes) } }
}
