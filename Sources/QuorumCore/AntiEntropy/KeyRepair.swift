/// How anti-entropy repairs one key two replicas disagree on: merge both sides' states and
/// write the merge to whichever side lacks it. The decision inside
/// `AntiEntropyDriver`'s repair, kept pure so it is tested on its own.
///
/// Tombstones travel like values: a side that lacks a delete receives it, so nothing
/// deleted comes back.
public struct KeyRepair: Sendable, Equatable {
    /// The join of both sides.
    public var merged: KeyState
    /// The local replica lacks something the merge has: write `merged` locally.
    public var writeLocally: Bool
    /// The peer lacks something the merge has: send `merged` to the peer.
    public var sendToPeer: Bool

    /// Nil when neither side holds the key (nothing to repair).
    public init?(local: KeyState?, remote: KeyState?, mode: ConflictMode) {
        let states = [local, remote].compactMap { $0 }
        guard var merged = states.first else { return nil }
        for state in states.dropFirst() { merged = merged.merged(with: state, mode: mode) }
        self.merged = merged
        writeLocally = local != merged
        sendToPeer = remote != merged
    }
}

/// `KeyRepair` for a typed key (issue #16): both sides' whole states (every member) are
/// joined as full states, and the join goes, whole, to whichever side lacks something.
///
/// Whole, never a delta: the two sides may differ in members a delta would not list (a
/// removal one side saw), and a full join makes the receiver visit every member it
/// holds, so dots the other side's context covers and no longer holds are removed.
public struct TypedKeyRepair: Sendable, Equatable {
    /// The join of both sides (no empty members).
    public var merged: TypedState
    /// The local replica lacks something the join has: join `merged` locally.
    public var writeLocally: Bool
    /// The peer lacks something the join has: send `merged` to the peer.
    public var sendToPeer: Bool

    /// Nil when neither side holds the key, or the sides hold different datatypes (which
    /// no honest run makes: a bucket's datatype is fixed at creation; nothing is repaired,
    /// and the mismatch stays visible to the next exchange).
    public init?(local: TypedState?, remote: TypedState?, operationIDsMax: Int = Limits.defaults.typedOperationIDsMax) {
        let local = local?.withoutEmptyMembers
        let remote = remote?.withoutEmptyMembers
        let merged: TypedState
        switch (local, remote) {
        case (nil, nil): return nil
        case (let one?, nil), (nil, let one?): merged = one
        case (let left?, let right?):
            guard left.datatype == right.datatype else { return nil }
            merged = left.joined(with: right, isFull: true, operationIDsMax: operationIDsMax)
        }
        self.merged = merged
        writeLocally = local != merged
        sendToPeer = remote != merged
    }
}
