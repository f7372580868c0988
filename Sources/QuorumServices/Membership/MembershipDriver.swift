import QuorumCore

/// Gossip and failure detection on a node: every round it sends heartbeats (and the
/// membership state with bucket props when a peer's digest differs) to a few peers, and it
/// answers theirs. The pure `Gossip` decides everything; this driver sends, receives,
/// saves each new state before announcing it, publishes who is believed down, and makes
/// the local changes an operator asks for (join, leave, props). Runs on the node's
/// background executor.
public final class MembershipDriver {
    private var gossip: Gossip
    public let local: String
    private let peerAddress: String
    private let httpAddress: String
    private let replicas: any ReplicaCaller
    private let clock: any ServiceClock
    private let random: any RandomSource
    private let context: any MembershipContext
    private let log: any ServiceLog
    /// How long a gossip exchange may take: a round's worth of the node's interval is enough.
    public static let exchangeTimeoutMilliseconds = 1000

    public init(
        local: String, peerAddress: String, httpAddress: String, state: MembershipState, generation: UInt64,
        replicas: any ReplicaCaller, clock: any ServiceClock, random: any RandomSource, context: any MembershipContext,
        log: any ServiceLog, faults: FaultPoints = .inert
    ) {
        self.local = local
        self.peerAddress = peerAddress
        self.httpAddress = httpAddress
        self.replicas = replicas
        self.clock = clock
        self.random = random
        self.context = context
        self.log = log
        gossip = Gossip(
            local: local, generation: generation, state: state, nowMilliseconds: clock.nowMilliseconds(),
            followsEchoedGeneration: !faults.has(.generationFromWallClock))
    }

    /// This run's heartbeat generation: above every earlier run's even if the clock was
    /// stepped back (`HeartbeatGeneration`), or peers would ignore this run's heartbeats.
    /// The node saves it before its first round.
    public static func generation(previous: UInt64?, nowMilliseconds now: UInt64, faults: FaultPoints = .inert) -> UInt64 {
        if faults.has(.generationFromWallClock) { return now }  // the deliberate bug
        return HeartbeatGeneration.next(previous: previous, nowMilliseconds: now)
    }

    public var state: MembershipState { gossip.state }

    /// This node's own status in the membership; nil before it joined a cluster.
    public var localStatus: MemberStatus? { gossip.state.members[local]?.status }

    /// Peers the failure detector believes down now.
    public func unreachable() -> Set<String> { gossip.unreachable(nowMilliseconds: clock.nowMilliseconds()) }

    /// Each member as this node sees it, for `/status` and `cluster status`.
    public func view() -> [MemberView] { gossip.view(nowMilliseconds: clock.nowMilliseconds()) }

    // MARK: Gossip

    /// One round: heartbeats to a few peers; their answers are folded in.
    public func round() {
        var generator = RandomSourceGenerator(random)
        let sends = gossip.round(nowMilliseconds: clock.nowMilliseconds(), using: &generator)
        context.publish(unreachable: unreachable())
        for send in sends {
            let request = PeerRequest.gossip(message: send.message.encoded())
            replicas.call(send.target, request, timeoutMilliseconds: Self.exchangeTimeoutMilliseconds) { [self] response in
                if case .gossip(let reply)? = response, !reply.isEmpty { _ = receive(reply, from: send.target) }
            }
        }
    }

    /// A peer's encoded gossip; returns the encoded answer (empty when none is due).
    public func receive(_ bytes: [UInt8], from sender: String) -> [UInt8] {
        let receipt: GossipReceipt
        do {
            receipt = try gossip.receive(try GossipMessage(decoding: bytes), nowMilliseconds: clock.nowMilliseconds())
        } catch let refusal as GossipRefusal {
            log.log(.warning, "gossip refused", ["from": sender, "reason": refusal.message])
            return []
        } catch {
            log.log(.warning, "undecodable gossip", ["from": sender, "error": "\(error)"])
            return []
        }
        if receipt.stateChanged { changed() }
        if !receipt.newlyReachable.isEmpty {
            log.log(.info, "peers reachable again", ["nodes": receipt.newlyReachable.joined(separator: ",")])
            context.publish(unreachable: unreachable())
            context.reachableAgain(receipt.newlyReachable)
        }
        return receipt.reply?.encoded() ?? []
    }

    // MARK: Local changes

    /// Spreads a props change with the next rounds.
    public func publish(bucket: String, props: BucketProps) {
        apply { $0.settingBucketProps(props, for: bucket) }
    }

    /// Truncates `bucket` (nil: every bucket) at `point`; `completion` runs once a state
    /// holding the point is saved and installed, so the caller may acknowledge it.
    public func truncate(_ bucket: String?, at point: HLCTimestamp, completion: @escaping () -> Void) {
        apply { $0.truncating(bucket, at: point) }
        // Saves complete in order: after this one, the save (and install) of the change is done.
        context.save(gossip.state) { completion() }
    }

    /// The first message to a seed: our (empty or single-node) state's digest, so the seed
    /// answers with its whole state.
    public func joinGreeting() -> [UInt8] {
        GossipMessage(sender: local, heartbeats: gossip.heartbeats, digest: gossip.digest, state: nil, isReply: false).encoded()
    }

    /// Takes the seed's answer to `joinGreeting` and enters its cluster as `joining`.
    public func join(seedReply bytes: [UInt8]) throws(MembershipRefusal) {
        let reply: GossipMessage
        do {
            reply = try GossipMessage(decoding: bytes)
        } catch {
            throw MembershipRefusal("the seed's answer could not be read: \(error.message)")
        }
        guard let seedState = reply.state, seedState.ring != nil else {
            throw MembershipRefusal("the seed \(reply.sender) did not send a cluster state; is it a member of a running cluster?")
        }
        let current = gossip.state
        guard seedState.partitionCount == current.partitionCount else {
            throw MembershipRefusal(
                "the cluster has \(seedState.partitionCount) partitions and this node \(current.partitionCount); "
                    + "start it with --partitions \(seedState.partitionCount)")
        }
        // A node joining a cluster starts from that cluster's state: a single-node state of
        // its own (empty of data, checked by the caller) is dropped.
        let alone = current.members.count <= 1 && current.members[local] != nil
        let base = alone ? seedState : current.merged(with: seedState)
        if let existing = base.members[local], existing.status.isServing { return apply { _ in base } }
        do throws(MembershipError) {
            let joined = try base.requestingJoin(
                member: local, peerAddress: peerAddress, httpAddress: httpAddress,
                versionAbove: alone ? current.members[local]!.version : 0)
            apply { _ in joined }
        } catch {
            throw MembershipRefusal("cannot join: \(error.message)")
        }
    }

    /// Marks this node as leaving; its partitions are handed off before it is `left`.
    public func requestLeave() throws(MembershipError) {
        let next = try gossip.state.leaving(local)
        apply { _ in next }
    }

    /// A joining node's copies are done: it serves from now on.
    public func markUp() {
        guard let next = try? gossip.state.markingUp(local) else { return }
        apply { _ in next }
    }

    /// A leaving node's hand-off is done.
    public func markLeft() {
        guard let next = try? gossip.state.left(local) else { return }
        apply { _ in next }
    }

    /// Merges a locally made change into the gossiped state and announces it.
    private func apply(_ change: (MembershipState) -> MembershipState) {
        if gossip.update(change(gossip.state), nowMilliseconds: clock.nowMilliseconds()) { changed() }
    }

    /// Saves the state, then tells the node: a node that restarts right after announcing
    /// a change must remember it.
    private func changed() {
        let state = gossip.state
        context.save(state) { [context] in context.membershipChanged(state) }
    }
}

/// Why a join could not go ahead, for the operator.
public struct MembershipRefusal: Error, Sendable, Equatable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }
}
