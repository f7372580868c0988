/// One client operation on one key, as a history records it: when it was invoked, what it
/// asked for, and what came of it.
///
/// Times are plain integers so that the simulator (ticks) and a real-process test
/// (monotonic nanoseconds) can both fill them in; only their order matters. Two
/// operations whose intervals touch (one responds at the tick the other is invoked) are
/// treated as concurrent, which can only make the checker more permissive, never report
/// a history that is linearizable as one that is not.
public struct LinearizabilityOperation<Input, Output> {
    /// The caller's name for the operation (say, its index in the simulator's history);
    /// witnesses and counterexamples refer to operations by it.
    public var id: Int
    /// The client that issued it, for explanations only: the search does not use it.
    public var client: Int
    /// When the client sent the request.
    public var invokedAt: UInt64
    public var input: Input
    public var outcome: LinearizabilityOutcome<Output>

    public init(id: Int, client: Int = 0, invokedAt: UInt64, input: Input, outcome: LinearizabilityOutcome<Output>) {
        self.id = id
        self.client = client
        self.invokedAt = invokedAt
        self.input = input
        self.outcome = outcome
    }
}

/// What the client learned about an operation.
public enum LinearizabilityOutcome<Output> {
    /// The operation took effect, and answered `output` at `respondedAt`.
    case ok(Output, respondedAt: UInt64)
    /// The operation certainly had no effect (refused before it reached consensus, say).
    /// The checker drops it.
    case failed
    /// The client does not know (a timeout, a lost connection): the operation may have
    /// taken effect at any point after its invocation, or never. The checker gives it a
    /// response at +infinity and an unknown output, as Knossos does with `:info` and
    /// Porcupine with a return time of the maximum integer; it may be placed anywhere
    /// after its invocation or left out.
    case indeterminate
}

extension LinearizabilityOutcome: Sendable where Output: Sendable {}
extension LinearizabilityOutcome: Equatable where Output: Equatable {}
extension LinearizabilityOperation: Sendable where Input: Sendable, Output: Sendable {}
extension LinearizabilityOperation: Equatable where Input: Equatable, Output: Equatable {}
