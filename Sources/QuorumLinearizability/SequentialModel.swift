/// The sequential specification a history is checked against: a deterministic state
/// machine. A history is linearizable if its operations can be put in one order, that
/// respects real time, in which each operation's step is legal.
///
/// A protocol so that models other than the register (a counter, say) can be added
/// without touching the search.
public protocol SequentialModel: Sendable {
    /// Hashable because the search memoises (linearized set, state) pairs, after Lowe.
    associatedtype State: Hashable
    associatedtype Input
    associatedtype Output

    var initialState: State { get }

    /// Applies `input` to `state`. `output` is what the operation answered, or nil when
    /// it is indeterminate: then any output is acceptable and only the effect matters.
    /// Returns the new state, or nil when the operation could not have answered
    /// `output` from `state`.
    func step(_ state: State, _ input: Input, _ output: Output?) -> State?
}
