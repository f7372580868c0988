import QuorumCore

/// What the background passes over stored keys (tombstone purges, clearing stray copies)
/// share: a pager that walks some partitions of the store a page per tick, resuming where
/// the last page stopped, at most one pass at a time and only while the ring is settled;
/// and the way to ask a key's replicas for their states.
///
/// Each pass has its own sweep, so its own cursor. Runs on its driver's executor.
final class KeySweep {
    let nodeID: String
    let bounds: AntiEntropyBounds
    let context: any AntiEntropyContext
    /// The pass, for the log.
    private let what: String
    private let storage: any ReplicaStorage
    private let replicas: any ReplicaCaller
    /// Where the next page starts: a partition, and the last row the previous page of it ended on.
    private var cursor: (partition: Int, after: (bucket: String, key: [UInt8])?) = (0, nil)
    /// A pass is scanning or working through its page.
    private(set) var isRunning = false

    init(
        _ what: String, nodeID: String, bounds: AntiEntropyBounds, storage: any ReplicaStorage, replicas: any ReplicaCaller,
        context: any AntiEntropyContext
    ) {
        self.what = what
        self.nodeID = nodeID
        self.bounds = bounds
        self.storage = storage
        self.replicas = replicas
        self.context = context
    }

    /// Starts one pass unless the last one still runs: when the ring has settled, the next
    /// page of rows among `partitions(ring)`, given to `body` with the ring and the
    /// partition; `body` calls its `done` when it is through with them.
    func tick(
        partitions: (Ring) -> [Int],
        body: @escaping (_ ring: Ring, _ partition: Int, _ rows: [StoredRow], _ done: @escaping () -> Void) -> Void
    ) {
        guard !isRunning else { return }
        let ring = context.serving
        guard ring == context.target, let (partition, after) = position(in: partitions(ring)) else { return }
        isRunning = true
        storage.scan(partition: partition, after: after, limit: bounds.rowsPerPage) { [self] result in
            switch result {
            case .success(let rows):
                if let last = rows.last, rows.count == bounds.rowsPerPage {
                    cursor = (partition, (last.bucket, last.key))
                } else {
                    cursor = ((partition + 1) % ring.partitionCount, nil)
                }
                body(ring, partition, rows) { [self] in isRunning = false }
            case .failure(let failure):
                context.log(.warning, "\(what) could not scan a partition", ["partition": "\(partition)", "error": failure.message])
                isRunning = false
            }
        }
    }

    /// The page to read among `partitions` (ascending): the cursor's partition from where
    /// the last page stopped, else the next of them after it from its start. Nil when there
    /// are none.
    private func position(in partitions: [Int]) -> (Int, (bucket: String, key: [UInt8])?)? {
        guard !partitions.isEmpty else { return nil }
        if partitions.contains(cursor.partition) { return (cursor.partition, cursor.after) }
        let next = partitions.first { $0 > cursor.partition } ?? partitions[0]
        cursor = (next, nil)
        return (next, nil)
    }

    /// The key's replicas for its bucket's n in `ring`.
    func replicas(of bucket: String, partition: Int, ring: Ring) -> [String] {
        ring.preferenceList(partition: partition, n: min(context.props(for: bucket).n, ring.members.count))
    }

    /// Each replica's state of the key, in order (`.some(nil)`: it holds none); nil for a
    /// replica believed down or silent. Asks one replica at a time.
    func states(bucket: String, key: [UInt8], replicas nodes: [String], completion: @escaping ([KeyState??]) -> Void) {
        let down = context.unreachable()
        var answers = [KeyState??](repeating: nil, count: nodes.count)
        BoundedSteps.run(count: nodes.count, step: { [self] index, finished in
            guard !down.contains(nodes[index]) else { return finished() }
            call(nodes[index], .fetch(bucket: bucket, key: key)) { response in
                if case .state(let held)? = response { answers[index] = .some(held) }
                finished()
            }
        }, done: { completion(answers) })
    }

    func call(_ node: String, _ request: PeerRequest, completion: @escaping (PeerResponse?) -> Void) {
        replicas.call(node, request, timeoutMilliseconds: bounds.requestTimeoutMilliseconds, completion: completion)
    }
}
