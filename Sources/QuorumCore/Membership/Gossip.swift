/// One node's side of membership gossip: what to send each round, what a received
/// message changes, and which peers are reachable.
///
/// The shell calls `round` from a timer (every 500 ms by default) and sends the returned
/// messages, feeds every message that arrives to `receive` (sending the reply, if any,
/// back), and applies local changes (join, leave, bucket props) with `update`. Nothing
/// here reads a clock or draws a random number: time and the generator are arguments,
/// so a seeded simulation replays exactly.
public struct Gossip: Sendable {
    public let local: String
    public let limits: GossipLimits
    /// The merged membership as this node knows it.
    public private(set) var state: MembershipState
    /// The serving ring `state` describes, recomputed only when the state changes.
    public private(set) var ring: Ring?
    /// `state.digest`, kept current.
    public private(set) var digest: UInt64
    public private(set) var detector: FailureDetector
    /// Newest heartbeat known per member, this node's own included.
    public private(set) var heartbeats: [String: Heartbeat]
    public private(set) var counters = GossipCounters()
    private var stateBytes: Int
    /// The digest each peer last told us (or we last sent it in full): whether it needs the state.
    private var peerDigests: [String: UInt64] = [:]
    private var schedule = GossipSchedule()
    /// Whether a later generation of ours that a peer echoes moves this run past it.
    private let followsEchoedGeneration: Bool

    /// - Parameters:
    ///   - generation: this process's heartbeat generation; must exceed the one of any
    ///     earlier run of this node (the start time in wall-clock milliseconds does).
    ///   - state: the state persisted or configured; `local` need not be in it yet (a node
    ///     that has not joined).
    public init(
        local: String, generation: UInt64, state: MembershipState, nowMilliseconds now: UInt64,
        limits: GossipLimits = .defaults, detectorSettings: FailureDetectorSettings = .defaults,
        followsEchoedGeneration: Bool = true
    ) {
        self.followsEchoedGeneration = followsEchoedGeneration
        precondition(limits.fanout >= 1, "gossip fanout must be at least 1, got \(limits.fanout)")
        self.local = local
        self.limits = limits
        self.state = state
        detector = FailureDetector(settings: detectorSettings)
        heartbeats = [local: Heartbeat(generation: generation, counter: 0)]
        let bytes = state.encoded()
        stateBytes = bytes.count
        digest = StableHash.hash(bytes)
        ring = state.ring
        watchMembers(nowMilliseconds: now)
    }

    // MARK: Rounds

    /// One gossip round: raises this node's heartbeat and picks up to `fanout` peers
    /// (round-robin over a shuffle, see `GossipSchedule`). Each gets the heartbeat table,
    /// and the full state unless it last told us it has ours. A state larger than
    /// `stateBytesMax` is never sent (counted in `oversizedStates`).
    public mutating func round(nowMilliseconds now: UInt64, using generator: inout some RandomNumberGenerator) -> [GossipSend] {
        heartbeats[local]!.counter += 1
        counters.rounds += 1
        let targets = schedule.next(
            peers: GossipRound.peers(of: state, local: local), fanout: limits.fanout, using: &generator)
        var sends: [GossipSend] = []
        sends.reserveCapacity(targets.count)
        for target in targets {
            let address = state.members[target]!.peerAddress
            sends.append(GossipSend(target: target, peerAddress: address, message: message(to: target, isReply: false)))
        }
        return sends
    }

    /// Takes in a message from a peer: merges its state, records the heartbeats that are
    /// newer than ours (each one is a heartbeat for the failure detector), and answers
    /// with our state when the sender's digest shows it lacks something.
    public mutating func receive(_ message: GossipMessage, nowMilliseconds now: UInt64) throws(GossipRefusal) -> GossipReceipt {
        guard message.sender != local else {
            counters.refusedMessages += 1
            throw .fromSelf
        }
        if let incoming = message.state, incoming.partitionCount != state.partitionCount {
            counters.refusedMessages += 1
            throw .partitionCountMismatch(local: state.partitionCount, remote: incoming.partitionCount)
        }
        counters.messagesReceived += 1
        var stateChanged = false
        if let incoming = message.state {
            stateChanged = update(incoming, nowMilliseconds: now)
        }
        raiseGenerationAbove(message.heartbeats[local])
        var newlyReachable: [String] = []
        for (node, heartbeat) in message.heartbeats where node != local {
            guard let member = state.members[node], member.status != .left else { continue }
            if let known = heartbeats[node], heartbeat <= known { continue }
            let wasAvailable = detector.isAvailable(node, nowMilliseconds: now)
            heartbeats[node] = heartbeat
            detector.heartbeat(from: node, atMilliseconds: now)
            if !wasAvailable { newlyReachable.append(node) }
        }
        var reply: GossipMessage?
        if state.members[message.sender] != nil {
            peerDigests[message.sender] = message.digest
            if !message.isReply && message.digest != digest {
                reply = self.message(to: message.sender, isReply: true)
            }
        } else if !message.isReply && message.digest != digest {
            // A node not (yet) in our state, e.g. one about to join: answer so it learns
            // the cluster, but keep no per-peer memory of it.
            reply = self.message(to: message.sender, isReply: true)
        }
        return GossipReceipt(
            stateChanged: stateChanged,
            newlyReachable: newlyReachable.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, reply: reply)
    }

    /// A peer holds a heartbeat of ours from a later generation than this run's: this node
    /// restarted without its saved generation (a wiped disk) on a clock behind the last run,
    /// and every peer would ignore its heartbeats as old. Moving past it makes them count
    /// again; the next round carries the new generation.
    private mutating func raiseGenerationAbove(_ echoed: Heartbeat?) {
        guard followsEchoedGeneration, let echoed, let own = heartbeats[local], echoed.generation > own.generation else { return }
        heartbeats[local] = Heartbeat(generation: echoed.generation &+ 1, counter: 0)
    }

    /// Merges a locally made state (after a join, a leave, a props change) or one from
    /// elsewhere; returns whether anything changed. Because it merges rather than
    /// replaces, a stale local copy can never undo a newer change.
    @discardableResult
    public mutating func update(_ newState: MembershipState, nowMilliseconds now: UInt64) -> Bool {
        let merged = state.merged(with: newState)
        guard merged != state else { return false }
        state = merged
        let bytes = state.encoded()
        stateBytes = bytes.count
        digest = StableHash.hash(bytes)
        ring = state.ring
        counters.stateChanges += 1
        watchMembers(nowMilliseconds: now)
        return true
    }

    // MARK: Views

    /// Whether requests should be sent to `node`: this node always, others while the
    /// failure detector's phi is below its threshold.
    public func isReachable(_ node: String, nowMilliseconds now: UInt64) -> Bool {
        node == local || detector.isAvailable(node, nowMilliseconds: now)
    }

    /// Members believed unreachable now (excluding those that left), for `ReplicaPlan`'s `down`.
    public func unreachable(nowMilliseconds now: UInt64) -> Set<String> {
        Set(state.members.values.filter { $0.status != .left && !isReachable($0.id, nowMilliseconds: now) }.map(\.id))
    }

    /// Every member as this node sees it, in ring order: for `cluster status`.
    public func view(nowMilliseconds now: UInt64) -> [MemberView] {
        state.ringOrder.map { id in
            let member = state.members[id]!
            return MemberView(
                member: member, isReachable: isReachable(id, nowMilliseconds: now),
                phi: id == local ? 0 : detector.phi(of: id, nowMilliseconds: now),
                partitionsOwned: ring?.partitions(ownedBy: id).count ?? 0, heartbeat: heartbeats[id])
        }
    }

    // MARK: Internals

    private mutating func message(to target: String, isReply: Bool) -> GossipMessage {
        var includeState = peerDigests[target] != digest
        if includeState && stateBytes > limits.stateBytesMax {
            includeState = false
            counters.oversizedStates += 1
        }
        // Optimistic: once it merges our state its digest is ours, unless it has more,
        // in which case its answer corrects this entry.
        if includeState, state.members[target] != nil { peerDigests[target] = digest }
        counters.messagesSent += 1
        return GossipMessage(
            sender: local, heartbeats: heartbeats, digest: digest, state: includeState ? state : nil, isReply: isReply)
    }

    /// Keeps the detector and the per-peer tables to the members that have not left:
    /// new members are watched from now (so one that never speaks is marked down), and
    /// members that left are forgotten.
    private mutating func watchMembers(nowMilliseconds now: UInt64) {
        for member in state.members.values where member.id != local {
            if member.status == .left {
                detector.remove(member.id)
                heartbeats[member.id] = nil
                peerDigests[member.id] = nil
            } else {
                detector.watch(member.id, nowMilliseconds: now)
            }
        }
    }
}

/// A message for the shell to send to `target` at `peerAddress`.
public struct GossipSend: Sendable, Equatable {
    public var target: String
    public var peerAddress: String
    public var message: GossipMessage
}

/// What a received message changed.
public struct GossipReceipt: Sendable, Equatable {
    /// The merged state differs from before: the shell persists it and rebuilds what
    /// depends on the ring or bucket props.
    public var stateChanged: Bool
    /// Peers that were believed down until this message brought a heartbeat: the shell
    /// starts hint delivery to them.
    public var newlyReachable: [String]
    /// To send back to the sender.
    public var reply: GossipMessage?
}

/// Why a gossip message was not taken in.
public enum GossipRefusal: Error, Sendable, Equatable {
    /// A message that claims to come from this node: a misconfigured peer using our id.
    case fromSelf
    /// A state from a cluster with another partition count.
    case partitionCountMismatch(local: Int, remote: Int)

    public var message: String {
        switch self {
        case .fromSelf: return "a gossip message claims to come from this node; is another node using the same id?"
        case .partitionCountMismatch(let local, let remote):
            return "a peer's ring has \(remote) partitions, this node's \(local); "
                + "every node of a cluster must use the same --partitions"
        }
    }
}

/// Gossip's running totals, for `/status` and logs.
public struct GossipCounters: Sendable, Equatable {
    public var rounds: UInt64 = 0
    public var messagesSent: UInt64 = 0
    public var messagesReceived: UInt64 = 0
    public var refusedMessages: UInt64 = 0
    /// Merges (received or local) that changed the state.
    public var stateChanges: UInt64 = 0
    /// Messages sent without the state because it was over `stateBytesMax`.
    public var oversizedStates: UInt64 = 0
}

/// One member for `cluster status`: what the membership says and what this node's
/// failure detector thinks.
public struct MemberView: Sendable, Equatable {
    public var member: ClusterMember
    public var isReachable: Bool
    public var phi: Double
    public var partitionsOwned: Int
    public var heartbeat: Heartbeat?
}
