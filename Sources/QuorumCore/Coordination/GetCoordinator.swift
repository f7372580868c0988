/// The quorum accounting of one read: asks the replica slots, merges what they answer
/// by causality, and decides when the read is done.
///
/// A slot whose node fails moves to a stand-in when sloppy quorum is on. The stand-in
/// answers from its own store only: a value it holds as a hint for the failed primary is
/// not consulted, so with primaries down a sloppy read can miss a write that only hints
/// hold (use `pr` to insist on primaries). The read completes on the fastest `r` answers;
/// answers that arrive later are still merged and recorded, so the shell can repair
/// replicas that answered with older versions (`readRepairTargets`).
///
/// States: collecting → decided (succeeded or failed) → every slot answered or failed.
public struct GetCoordinator<State: ReplicaState>: Sendable {
    public enum Outcome: Sendable, Equatable {
        case pending
        /// Enough replicas answered; the merged state (nil: no replica holds the key).
        case succeeded(State?, replies: Int)
        case failed(KVError)
    }

    /// What the shell must do after a failure: ask a stand-in in the failed node's place.
    public enum Step: Sendable, Equatable {
        case outcome(Outcome)
        case ask(node: String, then: Outcome)
    }

    /// How answers join: a `KeyState` by the bucket's conflict mode.
    public let rule: State.JoinRule
    public private(set) var plan: ReplicaPlan
    public private(set) var merged: State?
    /// What each node answered (nil state: it holds nothing for the key).
    public private(set) var answers: [String: State?] = [:]
    private let needed: Int
    private let primariesNeeded: Int
    private var decided = false
    private var repairTaken = false

    public init(plan: ReplicaPlan, options: ResolvedOptions, rule: State.JoinRule) {
        precondition(plan.slots.count == options.n, "a read fills exactly n replica slots")
        self.plan = plan
        self.rule = rule
        needed = options.r
        primariesNeeded = options.pr
    }

    /// Nodes to ask first: every slot at once.
    public var initialNodes: [String] { plan.slots.map(\.node) }

    public mutating func receive(state: State?, from node: String) -> Outcome {
        guard plan.recordAnswer(from: node) else { return .pending }
        answers[node] = .some(state)
        if let state { merged = merged.map { $0.joined(with: state, by: rule) } ?? state }
        return decide()
    }

    /// `node` failed or timed out; when a stand-in takes its slot, the shell asks it.
    public mutating func receiveFailure(from node: String) -> Step {
        let standIn = plan.recordFailure(of: node)
        let outcome = decide()
        if let standIn { return .ask(node: standIn, then: outcome) }
        return .outcome(outcome)
    }

    /// The request's deadline passed: fail unless already decided.
    public mutating func deadlinePassed() -> Outcome {
        guard !decided else { return .pending }
        decided = true
        return .failed(plan.error(for: .read, needed: needed, primariesNeeded: primariesNeeded))
    }

    /// True once no slot is waiting for an answer: time to plan read repair.
    public var allAnswered: Bool { plan.pending == 0 }

    /// Primaries that answered with something older than, or missing from, the merged
    /// state. Stand-ins are not repaired: their hints reach the primary anyway.
    public var readRepairTargets: [String] {
        guard let merged else { return [] }
        return plan.slots.compactMap { slot in
            guard !slot.isStandIn, slot.status == .answered, let answer = answers[slot.node] else { return nil }
            return answer == merged ? nil : slot.node
        }
    }

    /// Once every slot has answered or failed: the merged state and the primaries to
    /// repair with it. Returns non-nil at most once per read, and only when some primary
    /// is behind.
    public mutating func takeReadRepair() -> (state: State, nodes: [String])? {
        guard !repairTaken, allAnswered, let merged else { return nil }
        repairTaken = true
        let nodes = readRepairTargets
        return nodes.isEmpty ? nil : (merged, nodes)
    }

    private mutating func decide() -> Outcome {
        guard !decided else { return .pending }
        switch plan.status(needed: needed, primariesNeeded: primariesNeeded) {
        case .pending: return .pending
        case .succeeded:
            decided = true
            return .succeeded(merged, replies: plan.answered)
        case .failed:
            decided = true
            return .failed(plan.error(for: .read, needed: needed, primariesNeeded: primariesNeeded))
        }
    }
}

extension GetCoordinator where State == KeyState {
    public init(plan: ReplicaPlan, options: ResolvedOptions, mode: ConflictMode) {
        self.init(plan: plan, options: options, rule: mode)
    }

    /// Convenience for a plan without stand-ins.
    public init(replicas: [String], options: ResolvedOptions, mode: ConflictMode) {
        self.init(plan: ReplicaPlan(primaries: replicas, fallbacks: [], down: [], sloppy: false), options: options, mode: mode)
    }

    public var mode: ConflictMode { rule }
}
