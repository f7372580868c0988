import Logging
import QuorumCore
import QuorumStorage

/// What the background passes over stored keys (tombstone purges, clearing stray copies)
/// share: this node, the rings, the way to replicas, bucket props and the tombstone grace,
/// and a pager that walks partitions a page per tick, only while the ring is settled.
struct KeySweep: Sendable {
    let nodeID: String
    let rings: RingView
    let router: ReplicaRouter
    let registry: BucketRegistry
    let graceMilliseconds: UInt64
    /// Peers believed down: they count as silent without waiting for a timeout.
    let unreachable: @Sendable () -> Set<String>
    let logger: Logger
    let pager: PartitionPager
    let requestTimeoutMilliseconds = 5000

    init(
        nodeID: String, rings: RingView, store: ReplicaStore, router: ReplicaRouter, registry: BucketRegistry,
        graceMilliseconds: UInt64, unreachable: @escaping @Sendable () -> Set<String>, logger: Logger
    ) {
        self.nodeID = nodeID
        self.rings = rings
        self.router = router
        self.registry = registry
        self.graceMilliseconds = graceMilliseconds
        self.unreachable = unreachable
        self.logger = logger
        pager = PartitionPager(store: store, rowsPerPage: 500)
    }

    /// Starts one pass unless the last one still runs: when the ring has settled, the next
    /// page of rows among `partitions(ring)`, given to `body` with the ring and the partition.
    func tick(
        _ what: String, partitions: @escaping @Sendable (Ring) -> [Int],
        body: @escaping @Sendable (_ ring: Ring, _ partition: Int, _ rows: [PartitionPager.Row]) async -> Void
    ) {
        pager.startPass { [self] in
            let ring = rings.serving
            guard ring == rings.target else { return }
            do {
                guard let (partition, rows) = try pager.nextPage(of: partitions(ring), partitionCount: ring.partitionCount)
                else { return }
                await body(ring, partition, rows)
            } catch {
                logger.warning("\(what) could not scan a partition: \(error)")
            }
        }
    }

    /// The key's replicas for its bucket's n in `ring`.
    func replicas(of bucket: String, partition: Int, ring: Ring) -> [String] {
        ring.preferenceList(partition: partition, n: min(registry.props(for: bucket).n, ring.members.count))
    }

    /// Each replica's state of the key, in order; nil for one believed down or silent.
    func states(bucket: String, key: [UInt8], replicas: [String]) async -> [KeyState??] {
        let down = unreachable()
        var answers: [KeyState??] = []
        for replica in replicas {
            if !down.contains(replica), case .success(.state(let held)) = await call(replica, .fetch(bucket: bucket, key: key)) {
                answers.append(.some(held))
            } else {
                answers.append(.none)
            }
        }
        return answers
    }

    func call(_ node: String, _ request: PeerRequest) async -> Result<PeerResponse, any Error> {
        await router.call(node, request, timeoutMilliseconds: requestTimeoutMilliseconds)
    }
}
