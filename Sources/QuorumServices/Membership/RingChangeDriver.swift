import QuorumCore

/// Carries out membership changes on a node: installs the rings and peer connections a new
/// membership implies, plans the partition transfers `RingChange` lists, and moves this
/// node's own status on when they are done (a joiner to `up`, a leaver to `left`). It also
/// runs the two operator requests, join through a seed and leave.
///
/// The decisions are `MembershipState`'s and `RingChange`'s; this driver wires them to
/// gossip (`MembershipDriver`, on the same executor), anti-entropy (which runs the
/// transfers) and the peer connections.
public final class RingChangeDriver {
    private let membership: MembershipDriver
    private let executor: any ServiceExecutor
    private let seeds: any SeedCaller
    private let context: any RingChangeContext
    private let log: any ServiceLog
    private let gossipIntervalMilliseconds: Int
    /// Whether this node's departure (it left) has been scheduled already.
    private var departing = false
    /// Attempts to reach a seed, one a second: a seed that is restarting has this long.
    public static let seedAttemptsMax = 30
    public static let seedRetryMilliseconds = 1000
    public static let seedTimeoutMilliseconds = 2000
    /// Gossip rounds a node that left waits so the others hear of it from it (they then stop
    /// routing to it at once rather than after their failure detectors notice).
    public static let departureRounds = 4
    /// How long a node that left goes on delivering the hints it holds for others before it
    /// stops: past a target's longest delivery backoff (5 s) several times over. Hints for a
    /// target still down after this are lost with the node (logged).
    public static let departureHintWaitMilliseconds = 30_000

    public init(
        membership: MembershipDriver, executor: any ServiceExecutor, seeds: any SeedCaller, context: any RingChangeContext,
        log: any ServiceLog, gossipIntervalMilliseconds: Int
    ) {
        self.membership = membership
        self.executor = executor
        self.seeds = seeds
        self.context = context
        self.log = log
        self.gossipIntervalMilliseconds = gossipIntervalMilliseconds
    }

    // MARK: Reacting to the membership

    /// Installs what a new membership implies. Called after every change, local or gossiped.
    public func membershipChanged(_ state: MembershipState) {
        guard let serving = state.ring else { return }
        let target = state.isChanging ? (state.targetRing ?? serving) : serving
        let local = membership.local
        context.install(
            serving: serving, target: target,
            peers: state.members.values.filter { $0.id != local && $0.status != .left }.sorted { $0.id < $1.id })
        // A node that left has nothing more to copy; it stops once the others heard of it.
        guard state.members[local]?.status != .left else { return depart() }
        context.planTransfers(RingChange.transfers(local: local, serving: serving, target: target, replicas: context.replicasMax))
    }

    /// Every planned transfer is done: the change this node was waiting for can complete.
    public func transfersDone() {
        switch membership.localStatus {
        case .joining:
            log.log(.info, "join complete: this node now serves its partitions", [:])
            membership.markUp()
        case .leaving:
            log.log(.info, "hand-off complete: this node leaves the cluster", [:])
            membership.markLeft()
        default:
            break
        }
    }

    /// Gives gossip a few rounds to tell the others this node left, then lets it stop. A
    /// node leaves this way after its hand-off, and at once when it was still joining (it
    /// never served: `MembershipState.leaving` marks it left directly).
    private func depart() {
        guard !departing else { return }
        departing = true
        _ = executor.schedule(afterMilliseconds: Self.departureRounds * gossipIntervalMilliseconds) { [self] in
            stopOnceHintsAreDelivered(waitedMilliseconds: 0)
        }
    }

    /// The hints a leaving node holds are writes other nodes acknowledged through it; they
    /// go before it does, within `departureHintWaitMilliseconds`.
    private func stopOnceHintsAreDelivered(waitedMilliseconds waited: Int) {
        let pending = context.hintsPending
        guard pending > 0, waited < Self.departureHintWaitMilliseconds else {
            if pending > 0 {
                log.log(.warning, "leaving with undelivered hints; their targets stayed unreachable", ["hints": "\(pending)"])
            }
            return context.departed()
        }
        _ = executor.schedule(afterMilliseconds: gossipIntervalMilliseconds) { [self] in
            stopOnceHintsAreDelivered(waitedMilliseconds: waited + gossipIntervalMilliseconds)
        }
    }

    // MARK: Operator requests

    /// Where this node stands in a change: its status and the transfers it still has to run.
    public var report: (status: MemberStatus?, transfersPending: Int) { (membership.localStatus, context.transfersPending) }

    /// Joins the cluster the seed at `address` belongs to. Allowed only while this node is
    /// alone and holds no keys: a node's data belongs to its cluster, and merging two
    /// clusters' rings would move most keys. `keyCount` is the keys this node holds,
    /// counted by the caller off the executor (a count scans the store).
    public func join(address: String, keyCount keys: Int, completion: @escaping (Result<(status: MemberStatus?, transfersPending: Int), KVError>) -> Void) {
        let state = membership.state
        if let own = state.members[membership.local], own.status == .joining || (own.status.isServing && state.members.count > 1) {
            return completion(.success(report))  // already joining or joined: nothing to do again
        }
        guard state.members.count <= 1, keys == 0 else {
            return completion(.failure(.preconditionFailed(
                message: "only a node that is alone and empty can join a cluster; this one has \(state.members.count) member(s) "
                    + "and \(keys) key(s). Start a new node with an empty --data-dir and --join \(address)")))
        }
        askSeed(address, attempt: 1, lastError: "no answer", completion: completion)
    }

    private func askSeed(
        _ address: String, attempt: Int, lastError: String,
        completion: @escaping (Result<(status: MemberStatus?, transfersPending: Int), KVError>) -> Void
    ) {
        guard attempt <= Self.seedAttemptsMax else {
            return completion(.failure(.internalError(
                message: "could not reach the seed \(address) in \(Self.seedAttemptsMax) attempts (\(lastError)); "
                    + "check it is a running member's peer address (--peer)")))
        }
        let greeting = PeerRequest.gossip(message: membership.joinGreeting())
        seeds.call(address: address, greeting, timeoutMilliseconds: Self.seedTimeoutMilliseconds) { [self] response in
            guard let response else {
                _ = executor.schedule(afterMilliseconds: Self.seedRetryMilliseconds) { [self] in
                    askSeed(address, attempt: attempt + 1, lastError: "no answer", completion: completion)
                }
                return
            }
            guard case .gossip(let reply) = response else {
                return completion(.failure(.preconditionFailed(
                    message: "cannot join through \(address): the seed answered something other than its membership")))
            }
            do throws(MembershipRefusal) {
                try membership.join(seedReply: reply)
            } catch {
                return completion(.failure(.preconditionFailed(message: "cannot join through \(address): \(error.message)")))
            }
            log.log(.info, "joining the cluster", ["seed": address, "attempt": "\(attempt)"])
            completion(.success(report))
        }
    }

    /// Starts handing this node's partitions off; the node leaves when that is done.
    public func leave() throws(KVError) -> (status: MemberStatus?, transfersPending: Int) {
        let local = membership.local
        let others = membership.state.members.values.filter { $0.id != local && $0.status.isInTarget }
        guard !others.isEmpty else {
            throw .preconditionFailed(message: "\(local) is the cluster's last member: there is nobody to hand its data to; stop it instead")
        }
        do {
            try membership.requestLeave()
        } catch {
            throw .preconditionFailed(message: error.message)
        }
        log.log(.info, "leaving the cluster: handing partitions off", [:])
        return report
    }
}
