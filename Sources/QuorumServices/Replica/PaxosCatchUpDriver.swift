import QuorumCore

/// Ends a store's Paxos catch-up (issue #17): the step that lets a replica whose disk was
/// wiped vote again without breaking a promise it gave before.
///
/// Why it is safe. A promise this node gave before it lost its disk was for a ballot some
/// member issued, and that member's clock has been past the ballot ever since (a node's
/// hybrid clock never steps back: it is saved ahead of what it issues), as has the clock of
/// every acceptor that saw it. So once every other member has answered a reading of its
/// clock, a floor above all of them is above every ballot this node can have promised, and
/// voting never below it keeps every lost promise. A prepare or proposal still in flight
/// from before carries a ballot below the floor and is refused.
///
/// Every other member must answer, not a majority: the member that issued the lost ballot
/// may be the only one whose clock is past it. Until then the node stays `catchingUp` (it
/// learns commits but does not vote), which costs liveness, never safety. A store that
/// started empty in a new cluster goes through the same step; its members answer at once.
///
/// Runs on its executor; `tick` is cheap when there is nothing to do (one property read).
public final class PaxosCatchUpDriver {
    private let nodeID: String
    private let replicas: any ReplicaCaller
    private let context: any ReplicaContext
    private let members: () -> Set<String>?
    private let timeoutMilliseconds: Int
    private var asking = false
    /// Rounds that ended without every member's answer (for tests and the log).
    public private(set) var incompleteRounds = 0
    /// While members stay silent, one warning per this many incomplete rounds.
    static let warningEveryRounds = 60

    /// - Parameter members: every member of the cluster now (both rings while one changes);
    ///   nil while this node does not know the membership yet (it waits: answering alone
    ///   would skip the members it has not heard of).
    public init(
        nodeID: String, replicas: any ReplicaCaller, context: any ReplicaContext, members: @escaping () -> Set<String>?,
        timeoutMilliseconds: Int
    ) {
        self.nodeID = nodeID
        self.replicas = replicas
        self.context = context
        self.members = members
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Whether this store still waits to vote.
    public var isCatchingUp: Bool { context.consensusFloor == .catchingUp }

    /// Asks every other member for its clock, unless the store votes already or a round is
    /// still out; adopts the floor once all answered.
    public func tick() {
        guard isCatchingUp, !asking, let members = members() else { return }
        let others = members.subtracting([nodeID]).sorted()
        guard !others.isEmpty else { return adopt(clocks: []) }
        asking = true
        var clocks: [HLCTimestamp] = []
        var pending = others.count
        var missing: [String] = []
        for node in others {
            replicas.call(node, .paxosFloor, timeoutMilliseconds: timeoutMilliseconds) { [self] response in
                if case .paxosFloor(let clock)? = response { clocks.append(clock) } else { missing.append(node) }
                pending -= 1
                guard pending == 0 else { return }
                asking = false
                guard missing.isEmpty else {
                    incompleteRounds += 1
                    // Ticked with gossip: say it on the first round and then once a minute-ish.
                    guard incompleteRounds % Self.warningEveryRounds == 1 else { return }
                    context.log(
                        .warning, "Paxos catch-up waits for every member's clock; retrying",
                        ["unanswered": missing.sorted().joined(separator: ",")])
                    return
                }
                adopt(clocks: clocks)
            }
        }
    }

    /// The floor: a ballot just above every clock read, this node's own included.
    static func floor(clocks: [HLCTimestamp], own: HLCTimestamp, nodeID: String) -> PaxosBallot {
        let highest = clocks.reduce(own) { max($0, $1) }
        let above = highest.logical == .max
            ? HLCTimestamp(physicalMilliseconds: highest.physicalMilliseconds + 1, logical: 0)
            : HLCTimestamp(physicalMilliseconds: highest.physicalMilliseconds, logical: highest.logical + 1)
        return PaxosBallot(timestamp: above, node: nodeID)
    }

    private func adopt(clocks: [HLCTimestamp]) {
        let floor = Self.floor(clocks: clocks, own: context.clockReading(), nodeID: nodeID)
        asking = true
        context.adoptConsensusFloor(floor) { [self] result in
            asking = false
            switch result {
            case .success:
                // This node's own next ballots start above the floor its acceptor now keeps.
                context.observe(floor.timestamp)
                context.log(.info, "Paxos catch-up done: voting again", ["floor": "\(floor)"])
            case .failure(let error):
                context.log(.error, "Paxos catch-up could not store its floor; retrying", ["error": error.message])
            }
        }
    }
}
