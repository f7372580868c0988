import QuorumCore
import QuorumStorage
import Synchronization

/// Every bucket's props this node knows, cached in memory and kept durably in SQLite;
/// and where buckets were truncated.
///
/// Copies meet by broadcast; the newer `version` wins, so every node ends with the same
/// props whatever order the broadcasts arrive in. Truncation points are durable in the
/// saved membership state (they are gossiped with it); this is their copy for readers on
/// any thread, installed from each new membership.
final class BucketRegistry: Sendable {
    private let store: ReplicaStore
    private let known: Mutex<[String: BucketProps]>

    init(store: ReplicaStore) throws {
        self.store = store
        var loaded: [String: BucketProps] = [:]
        for (bucket, blob) in try store.allBucketProps() {
            loaded[bucket] = try BucketProps(decoding: blob)
        }
        known = Mutex(loaded)
    }

    private let truncations = Mutex<TruncationPoints>(.none)
    /// Lets every request skip the lock while no bucket was ever truncated.
    private let anyTruncation = Atomic<Bool>(false)

    /// The point below which `bucket`'s versions read as deleted, if it was truncated.
    func truncationPoint(for bucket: String) -> HLCTimestamp? {
        guard anyTruncation.load(ordering: .acquiring) else { return nil }
        return truncations.withLock { $0.point(for: bucket) }
    }

    /// Whether a truncation of `bucket` fits in gossip (`TruncationPoints.admits`).
    func admitsTruncation(of bucket: String?) -> Bool {
        truncations.withLock { $0.admits(bucket, bucketsMax: GossipLimits.defaults.bucketsMax) }
    }

    /// Takes in points from a membership state; points only move forward.
    func adopt(_ points: TruncationPoints) {
        guard !points.isEmpty else { return }
        truncations.withLock { $0 = $0.merged(with: points) }
        anyTruncation.store(true, ordering: .releasing)
    }

    /// The bucket's props, or the defaults for a bucket nobody configured.
    func props(for bucket: String) -> BucketProps {
        known.withLock { $0[bucket] } ?? .defaults
    }

    /// Whether `bucket` has props of its own (set by someone), not the defaults.
    func isConfigured(_ bucket: String) -> Bool {
        known.withLock { $0[bucket] != nil }
    }

    /// The most replicas any bucket keeps (the default bucket's n included): how many
    /// copies of a partition anti-entropy and ring changes look after.
    var replicasMax: Int {
        known.withLock { table in table.values.map(\.n).max() }.map { max($0, BucketProps.defaults.n) } ?? BucketProps.defaults.n
    }

    func all() -> [(bucket: String, props: BucketProps)] {
        known.withLock { $0.map { (bucket: $0.key, props: $0.value) } }.sorted { $0.bucket < $1.bucket }
    }

    /// Joins `props` into the copy held (`BucketProps.joined`); durable before it returns.
    func store(bucket: String, props: BucketProps) throws(KVError) {
        try validateBucketName(bucket)
        let current = known.withLock { $0[bucket] }
        let joined = current.map { $0.joined(with: props) } ?? props
        guard joined != current else { return }
        do {
            try store.putBucketProps(bucket: bucket, blob: joined.encoded())
        } catch {
            throw .internalError(message: "could not store props of bucket \(bucket): \(error)")
        }
        known.withLock { table in
            table[bucket] = table[bucket].map { $0.joined(with: joined) } ?? joined
        }
    }
}
