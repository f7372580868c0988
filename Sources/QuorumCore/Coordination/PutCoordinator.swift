/// The quorum accounting of one write or delete.
///
/// An `lww` write is stamped by the coordinator and sent to all `n` replica slots at
/// once. A `vclock` write first goes to one lead replica, which gives it the next dot of
/// its own and answers the merged state; that state then goes to the other slots. The
/// lead must be a primary, which holds the key's history, so its dots are unique; if a
/// lead fails the next primary leads. A create-only write (`leadRequired`) is led in
/// either mode, so the lead can check atomically that the key holds no live value.
/// Slots whose primary is down or fails are served by stand-ins when sloppy quorum is
/// on (see `ReplicaPlan`); a stand-in keeps the state as a hint for the primary.
///
/// A typed key's update (`TypedState`) runs the same way: its lead replica turns the
/// operation into a delta, which then goes to the other slots. The accounting does not
/// look inside the state, so one coordinator serves both kinds (`ReplicaState`).
///
/// States: `.leading(candidates)` → `.replicating` → `.done`.
public struct PutCoordinator<State: ReplicaState>: Sendable {
    /// What the shell must do next. Actions run in order.
    public enum Action: Sendable, Equatable {
        /// Send `.coordinateWrite` with the intent to `node`.
        case askLead(node: String)
        /// Send `state` to each target: `.merge` to a primary, `.storeHint` to a stand-in.
        case replicate(state: State, targets: [ReplicaTarget])
        /// Answer the client. Later answers still arrive; they change nothing.
        case finish(Outcome)
    }

    public enum Outcome: Sendable, Equatable {
        case succeeded(state: State, acks: Int)
        case failed(KVError)
    }

    private enum Phase: Sendable {
        case leading(candidates: [String])
        case replicating
        case done
    }

    public private(set) var plan: ReplicaPlan
    private let needed: Int
    private let primariesNeeded: Int
    private var phase: Phase
    private var state: State?
    /// The state sent to every slot at once: an lww write's version, or a state-based write.
    private let directState: State?

    /// A led write: the first of `leadCandidates` is asked to make the new state.
    public init(plan: ReplicaPlan, options: ResolvedOptions, leadCandidates: [String]) {
        precondition(plan.slots.count == options.n, "a write fills exactly n replica slots")
        self.plan = plan
        needed = options.w
        primariesNeeded = options.pw
        directState = nil
        phase = .leading(candidates: leadCandidates)
    }

    /// A state-based write: `state` goes to every slot as a merge, with no lead and no new
    /// version (an lww version, an expiry change). Like a repair write it can only join.
    public init(plan: ReplicaPlan, options: ResolvedOptions, merging state: State) {
        precondition(plan.slots.count == options.n, "a write fills exactly n replica slots")
        self.plan = plan
        needed = options.w
        primariesNeeded = options.pw
        directState = state
        phase = .replicating
    }

    /// Who may lead, in the order to ask: primaries believed up (this node first, which
    /// saves a hop), then those believed down. Never a stand-in: a lead's dots must be
    /// unique, and only a primary holds the key's history.
    public static func leadCandidates(plan: ReplicaPlan, localNode: String) -> [String] {
        let up = plan.slots.filter { !$0.isStandIn }.map(\.primary)
        let ordered = up.contains(localNode) ? [localNode] + up.filter { $0 != localNode } : up
        return ordered + plan.slots.filter(\.isStandIn).map(\.primary)
    }

    public mutating func start() -> [Action] {
        // pw above the primaries believed up: refuse before writing anywhere.
        if plan.status(needed: needed, primariesNeeded: primariesNeeded) == .failed { return fail() }
        switch phase {
        case .replicating:
            state = directState
            return [.replicate(state: directState!, targets: pendingTargets())]
        case .leading(let candidates):
            guard let first = candidates.first else { return fail() }
            return [.askLead(node: first)]
        case .done:
            return []
        }
    }

    /// The lead committed the write; `newState` is its state with the new version.
    public mutating func leadSucceeded(node: String, newState: State) -> [Action] {
        guard case .leading(let candidates) = phase, candidates.first == node else { return [] }
        state = newState
        phase = .replicating
        plan.recordPrimaryAnswer(node)
        let targets = pendingTargets()
        var actions: [Action] = targets.isEmpty ? [] : [.replicate(state: newState, targets: targets)]
        actions += decide()
        return actions
    }

    /// The lead could not apply the write. A refusal that any replica would repeat
    /// (`sibling_limit`, a bad parameter, a failed precondition) ends the write; anything
    /// else tries the next lead.
    public mutating func leadFailed(node: String, error: KVError?) -> [Action] {
        guard case .leading(let candidates) = phase, candidates.first == node else { return [] }
        if let error, Self.isFinal(error) {
            phase = .done
            return [.finish(.failed(error))]
        }
        if plan.slotIndex(of: node) != nil { _ = plan.recordFailure(of: node) }
        let remaining = Array(candidates.dropFirst())
        guard let next = remaining.first, plan.status(needed: needed, primariesNeeded: primariesNeeded) != .failed else {
            return fail()
        }
        phase = .leading(candidates: remaining)
        return [.askLead(node: next)]
    }

    public mutating func replicaAcked(node: String) -> [Action] {
        guard case .replicating = phase, plan.recordAnswer(from: node) else { return [] }
        return decide()
    }

    /// A replica (or stand-in) failed or timed out: its slot moves to a stand-in if it can.
    public mutating func replicaFailed(node: String) -> [Action] {
        guard case .replicating = phase, plan.slotIndex(of: node) != nil else { return [] }
        if let standIn = plan.recordFailure(of: node), let state, let index = plan.slotIndex(of: standIn) {
            return [.replicate(state: state, targets: [ReplicaTarget(slot: plan.slots[index])])]
        }
        return decide()
    }

    public mutating func deadlinePassed() -> [Action] {
        switch phase {
        case .done: return []
        case .leading, .replicating: return fail()
        }
    }

    public var isDone: Bool {
        if case .done = phase { return true }
        return false
    }

    private func pendingTargets() -> [ReplicaTarget] {
        plan.slots.filter { $0.status == .pending }.map(ReplicaTarget.init(slot:))
    }

    private mutating func decide() -> [Action] {
        switch plan.status(needed: needed, primariesNeeded: primariesNeeded) {
        case .pending: return []
        case .succeeded:
            phase = .done
            return [.finish(.succeeded(state: state!, acks: plan.answered))]
        case .failed:
            return fail()
        }
    }

    private mutating func fail() -> [Action] {
        phase = .done
        return [.finish(.failed(plan.error(for: .write, needed: needed, primariesNeeded: primariesNeeded)))]
    }

    private static func isFinal(_ error: KVError) -> Bool {
        switch error {
        case .siblingLimit, .badParameter, .tooLarge, .preconditionFailed, .wrongType: return true
        default: return false
        }
    }
}

extension PutCoordinator where State == KeyState {
    /// - Parameters:
    ///   - plan: the key's replica slots (primaries and any stand-ins).
    ///   - localNode: this node, which leads `vclock` writes when it is a primary (no hop).
    ///   - lwwVersion: for `lww` buckets, the version the coordinator stamped.
    ///   - leadRequired: send the write through a lead replica even in an `lww` bucket.
    public init(
        plan: ReplicaPlan, options: ResolvedOptions, mode: ConflictMode, localNode: String, lwwVersion: Sibling?,
        leadRequired: Bool = false
    ) {
        if mode == .lww && !leadRequired {
            precondition(lwwVersion != nil, "an lww write needs the coordinator's stamped version")
            self.init(plan: plan, options: options, merging: KeyState(siblings: [lwwVersion!]))
        } else {
            self.init(plan: plan, options: options, leadCandidates: Self.leadCandidates(plan: plan, localNode: localNode))
        }
    }

    /// Convenience for a plan without stand-ins: every slot on its primary.
    public init(
        replicas: [String], options: ResolvedOptions, mode: ConflictMode, localNode: String, lwwVersion: Sibling?,
        leadRequired: Bool = false
    ) {
        self.init(
            plan: ReplicaPlan(primaries: replicas, fallbacks: [], down: [], sloppy: false), options: options, mode: mode,
            localNode: localNode, lwwVersion: lwwVersion, leadRequired: leadRequired)
    }
}

/// Where one copy of a write goes: a primary, or a stand-in holding a hint for one.
public struct ReplicaTarget: Sendable, Equatable {
    public var node: String
    /// The primary a stand-in holds the write for; nil when `node` is the primary.
    public var hintFor: String?

    public init(node: String, hintFor: String? = nil) {
        self.node = node
        self.hintFor = hintFor
    }

    init(slot: ReplicaPlan.Slot) {
        self.init(node: slot.node, hintFor: slot.isStandIn ? slot.primary : nil)
    }
}
