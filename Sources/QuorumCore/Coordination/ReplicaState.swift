/// What a replica holds for one key, as the coordinators combine it: a key's versions
/// (`KeyState`) or a typed key's state. Coordinators count answers and acknowledgements
/// the same way for both; only the join differs, and it needs a rule from the bucket
/// (a `KeyState` joins by the bucket's conflict mode).
public protocol ReplicaState: Sendable, Equatable {
    associatedtype JoinRule: Sendable
    /// The least state that holds both: commutative, associative and idempotent.
    func joined(with other: Self, by rule: JoinRule) -> Self
}

extension KeyState: ReplicaState {
    public func joined(with other: KeyState, by mode: ConflictMode) -> KeyState {
        merged(with: other, mode: mode)
    }
}

extension TypedState: ReplicaState {
    /// `isFull`: whether both sides list every member they hold of what was asked for (a
    /// read's answers do); see `joined(with:isFull:operationIDsMax:)`.
    public func joined(with other: TypedState, by isFull: Bool) -> TypedState {
        joined(with: other, isFull: isFull)
    }
}
