import Dispatch
import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// Gossip and failure detection on this node: every round it sends heartbeats (and the
/// membership state with bucket props when a peer's digest differs) to a few peers, and
/// it answers theirs. The pure `Gossip` decides everything; this shell sends, receives,
/// persists the state (so a node that joined remembers its cluster across restarts), and
/// tells the rest of the node when the membership changed and who came back.
final class MembershipService: Sendable {
    private let gossip: Mutex<Gossip>
    private let local: String
    private let localPeerAddress: String
    private let localHTTPAddress: String
    private let store: ReplicaStore
    private let logger: Logger
    /// Called with the new state after any change (gossip, join, leave, props), outside the lock.
    private let onChange: @Sendable (MembershipState) -> Void
    /// Called with nodes that just came back, so work waiting for them resumes at once.
    private let onReachable: @Sendable ([String]) -> Void
    private let changes = DispatchQueue(label: "quorumkv.membership.changes")
    private static let metaKey = "membership"
    private static let generationKey = "heartbeat_generation"

    /// Starts from the persisted state merged with the configured founders (a node
    /// started with `--join` has none until it joins).
    init(
        config: NodeConfig, store: ReplicaStore, logger: Logger,
        onChange: @escaping @Sendable (MembershipState) -> Void, onReachable: @escaping @Sendable ([String]) -> Void
    ) throws {
        local = config.nodeID
        localPeerAddress = "\(config.peerHost):\(config.peerPort)"
        localHTTPAddress = "\(config.httpHost):\(config.httpPort)"
        self.store = store
        self.logger = logger
        self.onChange = onChange
        self.onReachable = onReachable
        let founders = config.members.map { member in
            (id: member.id, peerAddress: "\(member.host):\(member.port)",
             httpAddress: member.id == config.nodeID ? "\(config.httpHost):\(config.httpPort)" : "")
        }
        var state: MembershipState
        do {
            state = try MembershipState(founders: founders, partitionCount: config.partitionCount)
        } catch {
            throw ConfigError("the member list can't form a cluster: \(error.message)")
        }
        if let saved = try Self.loadState(store: store) {
            guard saved.partitionCount == config.partitionCount else {
                throw ConfigError(
                    "this node's data belongs to a cluster of \(saved.partitionCount) partitions, not \(config.partitionCount); "
                        + "start it with --partitions \(saved.partitionCount) or with an empty --data-dir")
            }
            state = saved.merged(with: state)
        }
        let now = WallClock.nowMilliseconds()
        // Above every earlier run's generation even if the clock was stepped back, or peers
        // would ignore this run's heartbeats (`HeartbeatGeneration`); saved before any round.
        let previous = try store.metaValue(Self.generationKey).flatMap { UInt64($0) }
        let generation = HeartbeatGeneration.next(previous: previous, nowMilliseconds: now)
        try store.setMetaValue(Self.generationKey, String(generation))
        gossip = Mutex(Gossip(local: config.nodeID, generation: generation, state: state, nowMilliseconds: now))
    }

    var state: MembershipState { gossip.withLock { $0.state } }

    /// This node's own status in the membership; nil before it joined a cluster.
    var localStatus: MemberStatus? { state.members[local]?.status }

    /// One gossip round: heartbeats to a few peers; their answers are folded in.
    func round(send: @escaping @Sendable (_ target: String, _ message: [UInt8], _ reply: @escaping @Sendable ([UInt8]?) -> Void) -> Void) {
        var generator = SystemRandomNumberGenerator()
        let sends = gossip.withLock { $0.round(nowMilliseconds: WallClock.nowMilliseconds(), using: &generator) }
        for outgoing in sends {
            send(outgoing.target, outgoing.message.encoded()) { [self] reply in
                guard let reply, !reply.isEmpty else { return }
                _ = receive(reply, from: outgoing.target)
            }
        }
    }

    /// A peer's gossip message; returns the encoded answer (empty when none is due).
    func receive(_ bytes: [UInt8], from sender: String) -> [UInt8] {
        let message: GossipMessage
        do {
            message = try GossipMessage(decoding: bytes)
        } catch {
            logger.warning("undecodable gossip", metadata: ["from": "\(sender)", "error": "\(error.message)"])
            return []
        }
        let outcome: Result<(GossipReceipt, MembershipState), GossipRefusal> = gossip.withLock { gossip in
            Result { () throws(GossipRefusal) -> (GossipReceipt, MembershipState) in
                let receipt = try gossip.receive(message, nowMilliseconds: WallClock.nowMilliseconds())
                return (receipt, gossip.state)
            }
        }
        switch outcome {
        case .failure(let refusal):
            logger.warning("gossip refused", metadata: ["from": "\(sender)", "reason": "\(refusal.message)"])
            return []
        case .success(let (receipt, state)):
            if receipt.stateChanged { changed(state) }
            if !receipt.newlyReachable.isEmpty {
                logger.info("peers reachable again", metadata: ["nodes": "\(receipt.newlyReachable.joined(separator: ","))"])
                onReachable(receipt.newlyReachable)
            }
            return receipt.reply?.encoded() ?? []
        }
    }

    /// Spreads a props change with the next rounds.
    func publish(bucket: String, props: BucketProps) {
        apply { $0.settingBucketProps(props, for: bucket) }
    }

    // MARK: Joining and leaving

    /// The first message to a seed: our (empty or single-node) state's digest, so the
    /// seed answers with its whole state.
    func joinGreeting() -> [UInt8] {
        gossip.withLock { gossip in
            GossipMessage(sender: local, heartbeats: gossip.heartbeats, digest: gossip.digest, state: nil, isReply: false)
        }.encoded()
    }

    /// Takes the seed's answer to `joinGreeting` and enters its cluster as `joining`.
    /// Throws a message for the operator when the answer can't be used.
    func join(seedReply bytes: [UInt8]) throws(ConfigError) {
        let reply: GossipMessage
        do {
            reply = try GossipMessage(decoding: bytes)
        } catch {
            throw ConfigError("the seed's answer could not be read: \(error.message)")
        }
        guard let seedState = reply.state, seedState.ring != nil else {
            throw ConfigError("the seed \(reply.sender) did not send a cluster state; is it a member of a running cluster?")
        }
        let (peerAddress, httpAddress) = (localPeerAddress, localHTTPAddress)
        let id = local
        try apply { (current: MembershipState) throws(ConfigError) -> MembershipState in
            guard seedState.partitionCount == current.partitionCount else {
                throw ConfigError(
                    "the cluster has \(seedState.partitionCount) partitions and this node \(current.partitionCount); "
                        + "start it with --partitions \(seedState.partitionCount)")
            }
            // A node joining a cluster starts from that cluster's state: a single-node
            // state of its own (empty of data, checked by the caller) is dropped.
            let alone = current.members.count <= 1 && current.members[id] != nil
            let base = alone ? seedState : current.merged(with: seedState)
            if let existing = base.members[id], existing.status.isServing { return base }
            do throws(MembershipError) {
                return try base.requestingJoin(
                    member: id, peerAddress: peerAddress, httpAddress: httpAddress,
                    versionAbove: alone ? current.members[id]!.version : 0)
            } catch {
                throw ConfigError("cannot join: \(error.message)")
            }
        }
    }

    /// Marks this node as leaving; its partitions are handed off before it is `left`.
    func requestLeave() throws(MembershipError) {
        let id = local
        try apply { (state: MembershipState) throws(MembershipError) -> MembershipState in try state.leaving(id) }
    }

    /// A joining node's copies are done: it serves from now on.
    func markUp() {
        let id = local
        try? apply { (state: MembershipState) throws(MembershipError) -> MembershipState in try state.markingUp(id) }
    }

    /// A leaving node's hand-off is done.
    func markLeft() {
        let id = local
        try? apply { (state: MembershipState) throws(MembershipError) -> MembershipState in try state.left(id) }
    }

    // MARK: Views

    /// Peers the failure detector believes down now.
    func unreachable() -> Set<String> {
        gossip.withLock { $0.unreachable(nowMilliseconds: WallClock.nowMilliseconds()) }
    }

    /// Each member as this node sees it, for `/status` and `cluster status`.
    func view() -> [MemberReport] {
        gossip.withLock { gossip in
            gossip.view(nowMilliseconds: WallClock.nowMilliseconds()).map { view in
                MemberReport(
                    node: view.member.id, address: view.member.peerAddress, status: view.member.status.rawValue,
                    reachable: view.member.id == local || view.isReachable,
                    phi: view.member.id == local ? 0 : (view.phi.isFinite ? min(view.phi, 1000) : 1000),
                    partitions: view.partitionsOwned)
            }
        }
    }

    // MARK: Internals

    /// Merges a locally made change into the gossiped state and reports it.
    private func apply<E: Error>(_ change: (MembershipState) throws(E) -> MembershipState) throws(E) {
        let result: Result<MembershipState?, E> = gossip.withLock { gossip in
            do throws(E) {
                let next = try change(gossip.state)
                return .success(gossip.update(next, nowMilliseconds: WallClock.nowMilliseconds()) ? gossip.state : nil)
            } catch {
                return .failure(error)
            }
        }
        if let state = try result.get() { changed(state) }
    }

    /// Saves the state and tells the node, on `changes`: callers include peer-server event
    /// loops (a gossip message), and saving waits for a commit. The queue is serial, so
    /// the node sees states in the order they were made.
    private func changed(_ state: MembershipState) {
        changes.async { [self] in persistAndAnnounce(state) }
    }

    private func persistAndAnnounce(_ state: MembershipState) {
        do {
            try store.setMetaValue(Self.metaKey, Base64URL.encode(state.encoded()))
        } catch {
            logger.error("could not save the membership; gossip restores it after a restart", metadata: ["error": "\(error)"])
        }
        onChange(state)
    }

    private static func loadState(store: ReplicaStore) throws -> MembershipState? {
        guard let text = try store.metaValue(metaKey) else { return nil }
        guard let bytes = Base64URL.decode(text) else { throw ConfigError("the saved membership is not readable; remove the data directory's meta row 'membership'") }
        var reader = ByteReader(bytes)
        do {
            return try MembershipState.decode(from: &reader)
        } catch {
            throw ConfigError("the saved membership is not readable (\(error.message)); start with an empty --data-dir")
        }
    }
}
