import QuorumCore

/// Ends a store's Paxos catch-up (issue #17): the step that lets a replica whose disk was
/// wiped vote again without breaking a promise it gave, or hiding a value it voted for,
/// before it lost them.
///
/// Promises. A promise this node gave before it lost its disk was for a ballot some member
/// issued, and that member's clock has been past the ballot ever since (a node's hybrid
/// clock never steps back: it is saved ahead of what it issues), as has the clock of every
/// acceptor that saw it. So once every other member has answered a reading of its clock, a
/// floor above all of them is above every ballot this node can have promised, and voting
/// never below it keeps every lost promise.
///
/// Votes. A value chosen by a bare majority that included this node now lives on the rest
/// of that majority only, so a promise from this node's empty state could hide it. The
/// second round fences every other member at the floor (durably, none accepts below it
/// from then on, so none can still join a lost vote of this node) and asks whether it
/// holds a vote or a commit of any strong key (a bare promise carries no value). If one
/// does, this node relearns: it promises for a key only once it voted or learned there at
/// or above the floor (a prepare of such a key counts a majority of the other replicas). If none does, no value was ever chosen with this
/// node's vote, or a majority of some key's replicas lost theirs, which no protocol
/// recovers; a new cluster is the common case, and every store in it simply votes.
///
/// Every other member must answer each round, not a majority: the member that issued a
/// lost ballot, or holds a lost vote's value, may be the only one. Until then the node stays
/// `catchingUp` (it learns commits but does not vote), which costs liveness, never safety.
///
/// Runs on its executor; `tick` is cheap when there is nothing to do (one property read).
public final class PaxosCatchUpDriver {
    private let nodeID: String
    private let replicas: any ReplicaCaller
    private let context: any ReplicaContext
    private let members: () -> Set<String>?
    private let timeoutMilliseconds: Int
    private var asking = false
    /// What the rounds gathered so far, for `others`: each answer stays good (a clock read
    /// after the wipe is past every ballot from before it; a fenced member stays fenced),
    /// so a tick asks only the members still missing, and a lossy network cannot keep
    /// catch-up from ever ending. A change of membership starts over.
    private var others: [String] = []
    private var clocks: [String: HLCTimestamp] = [:]
    private var floor: PaxosBallot?
    private var holdsValues: [String: Bool] = [:]
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
    public var isCatchingUp: Bool { context.consensusFloor.isCatchingUp }

    /// Goes on with the rounds, unless the store votes already or a round is still out;
    /// adopts the floor once every other member answered both.
    public func tick() {
        guard isCatchingUp, !asking, let members = members() else { return }
        let current = members.subtracting([nodeID]).sorted()
        if current != others {
            others = current
            clocks = [:]
            floor = nil
            holdsValues = [:]
        }
        if floor == nil { readClocks() } else { fence() }
    }

    private func readClocks() {
        ask(others.filter { clocks[$0] == nil }, .paxosFloor) { [self] node, answer in
            guard case .paxosFloor(let clock) = answer else { return false }
            clocks[node] = clock
            return true
        } then: { [self] in
            floor = Self.floor(clocks: Array(clocks.values), own: context.clockReading(), nodeID: nodeID)
            fence()
        }
    }

    private func fence() {
        guard let floor else { return }
        ask(others.filter { holdsValues[$0] == nil }, .paxosFence(floor: floor)) { [self] node, answer in
            guard case .paxosFenced(let holds) = answer else { return false }
            holdsValues[node] = holds
            return true
        } then: { [self] in
            adopt(floor: floor, relearning: holdsValues.values.contains(true))
        }
    }

    /// Sends `request` to each of `nodes`; `take` keeps an answer (false: not the answer
    /// asked for). `then` runs once all of them answered; otherwise the round ends and the
    /// next tick asks the rest.
    private func ask(
        _ nodes: [String], _ request: PeerRequest, take: @escaping (String, PeerResponse?) -> Bool,
        then: @escaping () -> Void
    ) {
        guard !nodes.isEmpty else { return then() }
        asking = true
        var missing: [String] = []
        var pending = nodes.count
        for node in nodes {
            replicas.call(node, request, timeoutMilliseconds: timeoutMilliseconds) { [self] response in
                if !take(node, response) { missing.append(node) }
                pending -= 1
                guard pending == 0 else { return }
                asking = false
                guard missing.isEmpty else {
                    incompleteRounds += 1
                    // Ticked with gossip: say it on the first round and then once a minute-ish.
                    guard incompleteRounds % Self.warningEveryRounds == 1 else { return }
                    context.log(
                        .warning, "Paxos catch-up waits for every member's answer; retrying",
                        ["unanswered": missing.sorted().joined(separator: ",")])
                    return
                }
                then()
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

    private func adopt(floor: PaxosBallot, relearning: Bool) {
        asking = true
        context.adoptConsensusFloor(floor, relearning: relearning) { [self] result in
            asking = false
            switch result {
            case .success:
                // This node's own next ballots start above the floor its acceptor now keeps.
                context.observe(floor.timestamp)
                context.log(
                    .info, relearning ? "Paxos catch-up done: voting again, relearning strong keys" : "Paxos catch-up done: voting again",
                    ["floor": "\(floor)"])
            case .failure(let error):
                context.log(.error, "Paxos catch-up could not store its floor; retrying", ["error": error.message])
            }
        }
    }
}
