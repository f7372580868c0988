/// A counter: additions (negative for decrements) and reads. Here to show a second model
/// beside the register, and for a future strong counter; the convergent counters of the
/// eventual buckets are not linearizable and have their own bounds check in the simulator.
public struct CounterModel: SequentialModel {
    public typealias State = Int64

    public enum Input: Hashable, Sendable {
        case add(Int64)
        case read
    }

    public enum Output: Hashable, Sendable {
        /// What a read saw.
        case value(Int64)
        /// An addition was acknowledged.
        case done
    }

    public let initialState: State

    public init(initialValue: Int64 = 0) { initialState = initialValue }

    public func step(_ state: State, _ input: Input, _ output: Output?) -> State? {
        switch input {
        case .add(let amount):
            guard output == nil || output == .done else { return nil }
            return state &+ amount
        case .read:
            guard let output else { return state }
            return output == .value(state) ? state : nil
        }
    }
}
