import QuorumStorage
import Synchronization

/// Walks some partitions of the store a page of rows at a time, resuming where the last
/// page stopped, and runs at most one pass at a time: how the background passes (tombstone
/// purges, clearing stray copies) spread a full sweep over anti-entropy ticks.
final class PartitionPager: Sendable {
    typealias Row = (bucket: String, key: [UInt8], blob: [UInt8])

    private let store: ReplicaStore
    let rowsPerPage: Int
    private let cursor = Mutex<(partition: Int, after: (bucket: String, key: [UInt8])?)>((0, nil))
    private let running = Atomic<Bool>(false)

    init(store: ReplicaStore, rowsPerPage: Int) {
        self.store = store
        self.rowsPerPage = rowsPerPage
    }

    /// Runs `pass` in a task unless the previous one is still running.
    func startPass(_ pass: @escaping @Sendable () async -> Void) {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        Task {
            await pass()
            running.store(false, ordering: .releasing)
        }
    }

    /// The next page among `partitions` (ascending): the partition at or after the cursor,
    /// from where the last page stopped; moves the cursor past it. Nil when there are none.
    func nextPage(of partitions: [Int], partitionCount: Int) throws -> (partition: Int, rows: [Row])? {
        guard let (partition, after) = position(in: partitions) else { return nil }
        let rows = try store.scan(partition: partition, after: after, limit: rowsPerPage)
        cursor.withLock { position in
            if let last = rows.last, rows.count == rowsPerPage {
                position = (partition, (last.bucket, last.key))
            } else {
                position = ((partition + 1) % partitionCount, nil)
            }
        }
        return (partition, rows)
    }

    private func position(in partitions: [Int]) -> (Int, (bucket: String, key: [UInt8])?)? {
        guard !partitions.isEmpty else { return nil }
        return cursor.withLock { position in
            if partitions.contains(position.partition) { return (position.partition, position.after) }
            let next = partitions.first { $0 > position.partition } ?? partitions[0]
            position = (next, nil)
            return (next, nil)
        }
    }
}
