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
