import Logging
import NIOCore
import QuorumCore
import QuorumServices

/// What the ring-change driver hands to and reads from the rest of the node: the rings
/// and peer connections, anti-entropy's transfer plan, the registry, the hints a leaver
/// still holds, and whoever waits for this node to leave.
final class NodeRingChangeContext: RingChangeContext {
    private let rings: RingView
    private let peers: PeerDirectory
    private let antiEntropy: OnLoop<AntiEntropyDriver>
    private let hints: OnLoop<HintDriver>
    private let registry: BucketRegistry
    private let departure: Departure
    private let logger: Logger

    init(
        rings: RingView, peers: PeerDirectory, antiEntropy: OnLoop<AntiEntropyDriver>, hints: OnLoop<HintDriver>, registry: BucketRegistry,
        departure: Departure, logger: Logger
    ) {
        self.rings = rings
        self.peers = peers
        self.antiEntropy = antiEntropy
        self.hints = hints
        self.registry = registry
        self.departure = departure
        self.logger = logger
    }

    func install(serving: Ring, target: Ring, peers members: [ClusterMember]) {
        if rings.update(serving: serving, target: target) {
            logger.info(
                "ring changed",
                metadata: [
                    "serving": "\(serving.members.joined(separator: ","))", "target": "\(target.members.joined(separator: ","))",
                ])
        }
        peers.reconcile(members.compactMap { member in
            guard let address = try? HostPort(parsing: member.peerAddress, what: "peer address") else { return nil }
            return (nodeID: member.id, host: address.host, port: address.port)
        })
    }

    func planTransfers(_ transfers: [RingChange.Transfer]) { antiEntropy.run { $0.plan(transfers: transfers) } }

    /// Read on the background loop, where the anti-entropy driver lives too.
    var transfersPending: Int { antiEntropy.onItsLoop { $0.figures.transfersPending } }

    var replicasMax: Int { registry.replicasMax }

    /// Read on the background loop, where the hint driver lives too.
    var hintsPending: Int { hints.onItsLoop { $0.queue.pendingCount } }

    func departed() { departure.departed() }
}
