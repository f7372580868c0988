import QuorumCore
import QuorumStorage
import Synchronization

/// The snapshots this node serves to peers running an exchange with it: one per
/// partition, taken at the peer's `.treeRoot` and kept for the exchange's next requests.
/// Bounded in count and age.
final class SnapshotCache: Sendable {
    private struct Entry {
        var snapshot: PartitionSnapshot
        var takenMilliseconds: UInt64
    }

    private let store: ReplicaStore
    private let shape: MerkleShape
    private let entries = Mutex<[Int: Entry]>([:])
    private let entriesMax = 8
    private let ageMaxMilliseconds: UInt64 = 60_000

    init(store: ReplicaStore, shape: MerkleShape) {
        self.store = store
        self.shape = shape
    }

    /// A fresh snapshot of `partition`, kept for the exchange that asked for it.
    func take(partition: Int) throws -> PartitionSnapshot {
        let snapshot = try PartitionSnapshot.build(partition: partition, store: store, shape: shape)
        let now = WallClock.nowMilliseconds()
        entries.withLock { entries in
            entries = entries.filter { now - $0.value.takenMilliseconds < ageMaxMilliseconds }
            if entries.count >= entriesMax, let oldest = entries.min(by: { $0.value.takenMilliseconds < $1.value.takenMilliseconds }) {
                entries[oldest.key] = nil
            }
            entries[partition] = Entry(snapshot: snapshot, takenMilliseconds: now)
        }
        return snapshot
    }

    /// The snapshot an exchange started from, or a new one if it expired.
    func current(partition: Int) throws -> PartitionSnapshot {
        if let entry = entries.withLock({ $0[partition] }) { return entry.snapshot }
        return try take(partition: partition)
    }
}
