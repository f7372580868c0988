import Logging
import QuorumCore
import Synchronization

/// Gossip and failure detection on this node: every round it sends heartbeats (and the
/// membership state with bucket props when a peer's digest differs) to a few peers, and
/// it answers theirs. The pure `Gossip` decides everything; this shell sends, receives,
/// and tells the rest of the node who is down and which props changed.
final class MembershipService: Sendable {
    private let gossip: Mutex<Gossip>
    private let local: String
    private let logger: Logger
    /// Called with every bucket's props after a gossip exchange changed the state.
    private let onPropsChanged: @Sendable ([String: BucketProps]) -> Void
    /// Called with nodes that just came back, so work waiting for them resumes at once.
    private let onReachable: @Sendable ([String]) -> Void

    init(
        config: NodeConfig, logger: Logger, onPropsChanged: @escaping @Sendable ([String: BucketProps]) -> Void,
        onReachable: @escaping @Sendable ([String]) -> Void
    ) throws {
        local = config.nodeID
        self.logger = logger
        self.onPropsChanged = onPropsChanged
        self.onReachable = onReachable
        let founders = config.members.map { member in
            (id: member.id, peerAddress: "\(member.host):\(member.port)",
             httpAddress: member.id == config.nodeID ? "\(config.httpHost):\(config.httpPort)" : "")
        }
        let state: MembershipState
        do {
            state = try MembershipState(founders: founders, partitionCount: config.partitionCount)
        } catch {
            throw ConfigError("the member list can't form a cluster: \(error.message)")
        }
        let now = WallClock.nowMilliseconds()
        // The start time orders this process's heartbeats after any earlier run's.
        gossip = Mutex(Gossip(local: config.nodeID, generation: now, state: state, nowMilliseconds: now))
    }

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
        let outcome: Result<(GossipReceipt, [String: BucketProps]), GossipRefusal> = gossip.withLock { gossip in
            Result { () throws(GossipRefusal) -> (GossipReceipt, [String: BucketProps]) in
                let receipt = try gossip.receive(message, nowMilliseconds: WallClock.nowMilliseconds())
                return (receipt, gossip.state.bucketProps)
            }
        }
        switch outcome {
        case .failure(let refusal):
            logger.warning("gossip refused", metadata: ["from": "\(sender)", "reason": "\(refusal.message)"])
            return []
        case .success(let (receipt, props)):
            if receipt.stateChanged { onPropsChanged(props) }
            if !receipt.newlyReachable.isEmpty {
                logger.info("peers reachable again", metadata: ["nodes": "\(receipt.newlyReachable.joined(separator: ","))"])
                onReachable(receipt.newlyReachable)
            }
            return receipt.reply?.encoded() ?? []
        }
    }

    /// Spreads a props change with the next rounds.
    func publish(bucket: String, props: BucketProps) {
        gossip.withLock { gossip in
            let next = gossip.state.settingBucketProps(props, for: bucket)
            gossip.update(next, nowMilliseconds: WallClock.nowMilliseconds())
        }
    }

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
}
