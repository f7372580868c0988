/// One key's state as it travels apart from a request: in a hint a stand-in keeps, and in
/// an anti-entropy repair batch. A plain key carries its versions with the bucket's
/// conflict mode (how it merges); a typed key its `TypedState` (a delta in a hint, joined
/// with `isFull` false; a whole state in a repair batch, joined with `isFull` true).
public enum ReplicaPayload: Sendable, Equatable {
    case versions(KeyState, mode: ConflictMode)
    case typed(TypedState)

    /// A plain key's state; nil for a typed key's.
    public var state: KeyState? {
        if case .versions(let state, _) = self { return state }
        return nil
    }

    /// A plain key's conflict mode; nil for a typed key's.
    public var mode: ConflictMode? {
        if case .versions(_, let mode) = self { return mode }
        return nil
    }
}
