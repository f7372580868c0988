/// The quorum accounting of one read: asks the replicas, merges what they answer by
/// causality, and decides when the read is done.
///
/// States: `.collecting` → `.done` (succeeded or failed); replies after `.done` are
/// still merged, so the shell can later use them for read repair.
public struct GetCoordinator: Sendable {
    public enum Outcome: Sendable, Equatable {
        case pending
        /// Enough replicas answered; the merged state (nil: no replica holds the key).
        case succeeded(KeyState?, replies: Int)
        case failed(KVError)
    }

    public let replicas: [String]
    public let mode: ConflictMode
    public private(set) var tally: QuorumTally
    public private(set) var merged: KeyState?
    private var answered: Set<String> = []
    private var finished = false

    /// - Parameter replicas: the key's preference list, first `n` nodes; all primaries.
    public init(replicas: [String], options: ResolvedOptions, mode: ConflictMode) {
        precondition(replicas.count == options.n, "a read asks exactly n replicas")
        self.replicas = replicas
        self.mode = mode
        self.tally = QuorumTally(
            needed: options.r, primariesNeeded: options.pr, contacted: replicas.count, primariesContacted: replicas.count)
    }

    public mutating func receive(state: KeyState?, from node: String) -> Outcome {
        guard replicas.contains(node), answered.insert(node).inserted else { return .pending }
        if let state { merged = merged.map { $0.merged(with: state, mode: mode) } ?? state }
        tally.recordSuccess(primary: true)
        return decide()
    }

    public mutating func receiveFailure(from node: String) -> Outcome {
        guard replicas.contains(node), answered.insert(node).inserted else { return .pending }
        tally.recordFailure(primary: true)
        return decide()
    }

    /// The request's deadline passed: fail unless already decided.
    public mutating func deadlinePassed() -> Outcome {
        guard !finished else { return .pending }
        finished = true
        return .failed(tally.error(for: .read))
    }

    private mutating func decide() -> Outcome {
        guard !finished else { return .pending }
        switch tally.status {
        case .pending: return .pending
        case .succeeded:
            finished = true
            return .succeeded(merged, replies: tally.succeeded)
        case .failed:
            finished = true
            return .failed(tally.error(for: .read))
        }
    }
}
