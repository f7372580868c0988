import Logging
import NIOCore
import QuorumCore
import QuorumServices
import QuorumStorage
import Synchronization

/// Carries out membership changes on this node: installs the rings and peer connections
/// a new membership implies, plans the partition transfers `RingChange` lists, and moves
/// this node's own status on when they are done (a joiner to `up`, a leaver to `left`).
/// It also runs the two operator requests, join through a seed and leave.
///
/// The decisions are `MembershipState`'s and `RingChange`'s; this type only wires them to
/// gossip, anti-entropy (which runs the transfers) and the peer directory.
final class RingChangeService: Sendable {
    private struct Parts: Sendable {
        var membership: MembershipService
        var antiEntropy: OnLoop<AntiEntropyDriver>
    }

    private let nodeID: String
    private let rings: RingView
    private let peers: PeerDirectory
    private let registry: BucketRegistry
    private let store: ReplicaStore
    private let gossipIntervalMilliseconds: Int
    private let logger: Logger
    private let parts = Mutex<Parts?>(nil)
    /// Resumed once this node has left and its departure had time to spread.
    private let departure = Mutex<(left: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    /// Attempts to reach a seed, one per second: a seed that is restarting has this long.
    private let seedAttemptsMax = 30

    init(
        nodeID: String, rings: RingView, peers: PeerDirectory, registry: BucketRegistry, store: ReplicaStore,
        gossipIntervalMilliseconds: Int, logger: Logger
    ) {
        self.nodeID = nodeID
        self.rings = rings
        self.peers = peers
        self.registry = registry
        self.store = store
        self.gossipIntervalMilliseconds = gossipIntervalMilliseconds
        self.logger = logger
    }

    /// Connects the services that are built after this one (they call back into it).
    func attach(membership: MembershipService, antiEntropy: OnLoop<AntiEntropyDriver>) {
        parts.withLock { $0 = Parts(membership: membership, antiEntropy: antiEntropy) }
        membershipChanged(membership.state)
    }

    // MARK: Reacting to the membership

    /// Installs what a new membership implies. Called after every change, local or gossiped.
    func membershipChanged(_ state: MembershipState) {
        guard let parts = parts.withLock({ $0 }), let serving = state.ring else { return }
        let target = state.isChanging ? (state.targetRing ?? serving) : serving
        if rings.update(serving: serving, target: target) {
            logger.info(
                "ring changed",
                metadata: [
                    "serving": "\(serving.members.joined(separator: ","))", "target": "\(target.members.joined(separator: ","))",
                ])
        }
        peers.reconcile(
            state.members.values.filter { $0.id != nodeID && $0.status != .left }.compactMap { member in
                guard let address = try? HostPort(parsing: member.peerAddress, what: "peer address") else { return nil }
                return (nodeID: member.id, host: address.host, port: address.port)
            })
        let status = state.members[nodeID]?.status
        // A node that is no longer in either ring has nothing to copy; one that left stops here.
        guard status != .left else { return }
        let transfers = RingChange.transfers(local: nodeID, serving: serving, target: target, replicas: registry.replicasMax)
        parts.antiEntropy.run { $0.plan(transfers: transfers) }
    }

    /// Every planned transfer is done: the change this node was waiting for can complete.
    func transfersDone() {
        guard let membership = parts.withLock({ $0?.membership }) else { return }
        switch membership.localStatus {
        case .joining:
            logger.info("join complete: this node now serves its partitions")
            membership.markUp()
        case .leaving:
            logger.info("hand-off complete: this node leaves the cluster")
            membership.markLeft()
            announceDeparture()
        default:
            break
        }
    }

    // MARK: Operator requests

    /// Joins the cluster `seed` belongs to. Allowed only while this node is alone and holds
    /// no keys: a node's data belongs to its cluster, and merging two clusters' rings
    /// would move most keys.
    func join(seed: String) async throws(KVError) -> MembershipChange {
        let address: HostPort
        do {
            address = try HostPort(parsing: seed, what: "seed")
        } catch {
            throw .badParameter(name: "seed", message: error.message)
        }
        guard let membership = parts.withLock({ $0?.membership }) else {
            throw .internalError(message: "the node is still starting; try again")
        }
        let state = membership.state
        if let own = state.members[nodeID], own.status == .joining || (own.status.isServing && state.members.count > 1) {
            return await report(membership)  // already joining or joined: nothing to do again
        }
        let keys = (try? store.keyCount()) ?? 0
        guard state.members.count <= 1, keys == 0 else {
            throw .preconditionFailed(
                message: "only a node that is alone and empty can join a cluster; this one has \(state.members.count) member(s) "
                    + "and \(keys) key(s). Start a new node with an empty --data-dir and --join \(seed)")
        }
        let client = peers.temporaryClient(host: address.host, port: address.port)
        defer { Task { await client.close() } }
        var lastError = "no answer"
        for attempt in 1...seedAttemptsMax {
            do {
                let payload = PeerRequest.gossip(message: membership.joinGreeting()).encoded()
                let bytes = try await client.request(payload, timeout: .seconds(2)).get()
                guard case .gossip(let reply) = try PeerResponse(decoding: bytes) else {
                    throw ConfigError("the seed answered something other than its membership")
                }
                try membership.join(seedReply: reply)
                logger.info("joining the cluster", metadata: ["seed": "\(seed)", "attempt": "\(attempt)"])
                return await report(membership)
            } catch let error as ConfigError {
                throw .preconditionFailed(message: "cannot join through \(seed): \(error.message)")
            } catch {
                lastError = "\(error)"
            }
            try? await Task.sleep(for: .seconds(1))
        }
        throw .internalError(
            message: "could not reach the seed \(seed) in \(seedAttemptsMax) attempts (\(lastError)); "
                + "check it is a running member's peer address (--peer)")
    }

    /// Starts handing this node's partitions off; the node leaves when that is done.
    func leave() async throws(KVError) -> MembershipChange {
        guard let membership = parts.withLock({ $0?.membership }) else {
            throw .internalError(message: "the node is still starting; try again")
        }
        let state = membership.state
        let others = state.members.values.filter { $0.id != nodeID && $0.status.isInTarget }
        guard !others.isEmpty else {
            throw .preconditionFailed(message: "\(nodeID) is the cluster's last member: there is nobody to hand its data to; stop it instead")
        }
        do {
            try membership.requestLeave()
        } catch {
            throw .preconditionFailed(message: error.message)
        }
        logger.info("leaving the cluster: handing partitions off")
        return await report(membership)
    }

    /// Returns once this node has left the cluster (never, while it is a member).
    func waitUntilLeft() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = departure.withLock { departure in
                if departure.left { return true }
                departure.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    // MARK: Internals

    private func report(_ membership: MembershipService) async -> MembershipChange {
        let antiEntropy = parts.withLock { $0?.antiEntropy }
        let pending = (try? await antiEntropy?.ask { $0.figures.transfersPending }) ?? 0
        return MembershipChange(node: nodeID, status: membership.localStatus?.rawValue ?? "none", transfersPending: pending)
    }

    /// Gives gossip a few rounds (bounded: four intervals) to tell the others this node
    /// left before the process may exit, so they stop routing to it at once rather than
    /// after their failure detectors notice.
    private func announceDeparture() {
        let delay = Int64(4 * gossipIntervalMilliseconds)
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(delay))
            let waiters = departure.withLock { departure in
                departure.left = true
                defer { departure.waiters = [] }
                return departure.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }
}
