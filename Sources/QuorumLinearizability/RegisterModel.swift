/// A single key of a strong bucket: an optional value, with reads, writes, deletes,
/// compare-and-set and write-if-absent.
public struct RegisterModel: SequentialModel {
    /// A struct rather than a bare `[UInt8]?`: `step` returns `State?`, and a doubly
    /// optional state would let "illegal" (nil) silently become "legal, key absent".
    public struct State: Hashable, Sendable, CustomStringConvertible {
        /// The value, or nil when the key is absent (never written, or deleted).
        public var value: [UInt8]?

        public init(_ value: [UInt8]?) { self.value = value }

        public var description: String {
            guard let value else { return "absent" }
            return String(decoding: value, as: UTF8.self).debugDescription
        }
    }

    public enum Input: Hashable, Sendable {
        case read
        case write([UInt8])
        case delete
        /// Sets `new` if the current value is `expected` (nil: the key is absent).
        case compareAndSet(expected: [UInt8]?, new: [UInt8])
        /// Sets the value only if the key is absent (HTTP `If-None-Match: *`, RESP `SET NX`).
        case writeIfAbsent([UInt8])
    }

    public enum Output: Hashable, Sendable {
        /// What a read saw (nil: absent).
        case value([UInt8]?)
        /// A write or delete was acknowledged.
        case done
        /// Whether a compare-and-set or write-if-absent found its condition true and applied.
        case applied(Bool)
    }

    public let initialState: State

    public init(initialValue: [UInt8]? = nil) { initialState = State(initialValue) }

    public func step(_ state: State, _ input: Input, _ output: Output?) -> State? {
        switch input {
        case .read:
            guard let output else { return state }
            return output == .value(state.value) ? state : nil
        case .write(let value):
            return output == nil || output == .done ? State(value) : nil
        case .delete:
            return output == nil || output == .done ? State(nil) : nil
        case .compareAndSet(let expected, let new):
            return conditional(state, holds: state.value == expected, new: new, output)
        case .writeIfAbsent(let new):
            return conditional(state, holds: state.value == nil, new: new, output)
        }
    }

    private func conditional(_ state: State, holds: Bool, new: [UInt8], _ output: Output?) -> State? {
        if let output, output != .applied(holds) { return nil }
        return holds ? State(new) : state
    }
}

extension RegisterModel.Input {
    /// Conveniences for tests and readable histories: values as UTF-8 strings.
    public static func write(_ value: String) -> Self { .write(Array(value.utf8)) }
    public static func writeIfAbsent(_ value: String) -> Self { .writeIfAbsent(Array(value.utf8)) }
    public static func compareAndSet(expected: String?, new: String) -> Self {
        .compareAndSet(expected: expected.map { Array($0.utf8) }, new: Array(new.utf8))
    }
}

extension RegisterModel.Output {
    public static func value(_ value: String?) -> Self { .value(value.map { Array($0.utf8) }) }
}
