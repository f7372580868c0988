/// The quorum accounting of one write or delete.
///
/// An `lww` write is stamped by the coordinator and sent to all `n` replicas at once.
/// A `vclock` write first goes to one lead replica, which gives it the next dot of its
/// own and answers the merged state; that state then goes to the other replicas. The
/// lead must hold the key so its dots are unique. If a lead fails, the next replica of
/// the preference list leads instead. A create-only write (`leadRequired`) is led in
/// either mode, so the lead can check atomically that the key holds no live value.
///
/// States: `.leading(candidate)` (vclock only) → `.replicating` → `.done`.
public struct PutCoordinator: Sendable {
    /// What the shell must do next. Actions run in order.
    public enum Action: Sendable, Equatable {
        /// Send `.coordinateWrite` with the intent to `node`.
        case askLead(node: String)
        /// Send `.merge` of `state` to each node.
        case replicate(state: KeyState, nodes: [String])
        /// Answer the client. Later answers still arrive; they change nothing.
        case finish(Outcome)
    }

    public enum Outcome: Sendable, Equatable {
        case succeeded(state: KeyState, acks: Int)
        case failed(KVError)
    }

    private enum Phase: Sendable {
        case leading(candidates: [String])
        case replicating
        case done
    }

    public let replicas: [String]
    public let mode: ConflictMode
    public private(set) var tally: QuorumTally
    private var phase: Phase
    private var answered: Set<String> = []
    private var state: KeyState?
    private let lwwState: KeyState?

    /// - Parameters:
    ///   - replicas: the key's preference list, first `n` nodes.
    ///   - localNode: this node, which leads `vclock` writes when it is a replica (no hop).
    ///   - lwwVersion: for `lww` buckets, the version the coordinator stamped.
    ///   - leadRequired: send the write through a lead replica even in an `lww` bucket.
    public init(
        replicas: [String], options: ResolvedOptions, mode: ConflictMode, localNode: String, lwwVersion: Sibling?,
        leadRequired: Bool = false
    ) {
        precondition(replicas.count == options.n, "a write asks exactly n replicas")
        self.replicas = replicas
        self.mode = mode
        self.tally = QuorumTally(
            needed: options.w, primariesNeeded: options.pw, contacted: replicas.count, primariesContacted: replicas.count)
        if mode == .lww && !leadRequired {
            precondition(lwwVersion != nil, "an lww write needs the coordinator's stamped version")
            lwwState = KeyState(siblings: [lwwVersion!])
            phase = .replicating
        } else {
            lwwState = nil
            let ordered = replicas.contains(localNode) ? [localNode] + replicas.filter { $0 != localNode } : replicas
            phase = .leading(candidates: ordered)
        }
    }

    public mutating func start() -> [Action] {
        switch phase {
        case .replicating:
            state = lwwState
            return [.replicate(state: lwwState!, nodes: replicas)]
        case .leading(let candidates):
            return [.askLead(node: candidates[0])]
        case .done:
            return []
        }
    }

    /// The lead committed the write; `newState` is its state with the new version.
    public mutating func leadSucceeded(node: String, newState: KeyState) -> [Action] {
        guard case .leading(let candidates) = phase, candidates.first == node else { return [] }
        answered.insert(node)
        state = newState
        tally.recordSuccess(primary: true)
        phase = .replicating
        let others = replicas.filter { !answered.contains($0) }
        var actions: [Action] = others.isEmpty ? [] : [.replicate(state: newState, nodes: others)]
        actions += decide()
        return actions
    }

    /// The lead could not apply the write. A refusal that any replica would repeat
    /// (`sibling_limit`, a bad parameter) ends the write; anything else tries the next lead.
    public mutating func leadFailed(node: String, error: KVError?) -> [Action] {
        guard case .leading(let candidates) = phase, candidates.first == node else { return [] }
        if let error, Self.isFinal(error) {
            phase = .done
            return [.finish(.failed(error))]
        }
        answered.insert(node)
        tally.recordFailure(primary: true)
        let remaining = Array(candidates.dropFirst())
        guard let next = remaining.first, tally.status != .failed else {
            phase = .done
            return [.finish(.failed(tally.error(for: .write)))]
        }
        phase = .leading(candidates: remaining)
        return [.askLead(node: next)]
    }

    public mutating func replicaAcked(node: String) -> [Action] {
        guard case .replicating = phase, replicas.contains(node), answered.insert(node).inserted else { return [] }
        tally.recordSuccess(primary: true)
        return decide()
    }

    public mutating func replicaFailed(node: String) -> [Action] {
        guard case .replicating = phase, replicas.contains(node), answered.insert(node).inserted else { return [] }
        tally.recordFailure(primary: true)
        return decide()
    }

    public mutating func deadlinePassed() -> [Action] {
        switch phase {
        case .done: return []
        case .leading, .replicating:
            phase = .done
            return [.finish(.failed(tally.error(for: .write)))]
        }
    }

    public var isDone: Bool {
        if case .done = phase { return true }
        return false
    }

    private mutating func decide() -> [Action] {
        switch tally.status {
        case .pending: return []
        case .succeeded:
            phase = .done
            return [.finish(.succeeded(state: state!, acks: tally.succeeded))]
        case .failed:
            phase = .done
            return [.finish(.failed(tally.error(for: .write)))]
        }
    }

    private static func isFinal(_ error: KVError) -> Bool {
        switch error {
        case .siblingLimit, .badParameter, .tooLarge, .preconditionFailed: return true
        default: return false
        }
    }
}
