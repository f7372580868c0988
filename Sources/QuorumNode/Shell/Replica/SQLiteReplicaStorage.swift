import Dispatch
import NIOCore
import QuorumCore
import QuorumServices
import QuorumStorage
import Synchronization

/// `ReplicaStorage` and `MerkleIndex` on the real node, for the replica driver of one
/// event loop (and the anti-entropy driver on the background loop): the SQLite store and
/// the live partition trees.
///
/// A point read runs on the loop when a reader connection is idle (for a key whose replica
/// is local that is the whole request, with no thread hop); reads that must wait and scans
/// go to `blockingQueue`. Writes commit on the store's writer; the trees are told each
/// change from the store's completions, which run in commit order, and only then is the
/// answer brought back to the loop.
final class SQLiteReplicaStorage: ReplicaStorage, MerkleIndex {
    private let store: ReplicaStore
    private let trees: PartitionTrees
    private let loop: any EventLoop
    private let blockingQueue: DispatchQueue

    init(store: ReplicaStore, trees: PartitionTrees, loop: any EventLoop, blockingQueue: DispatchQueue) {
        self.store = store
        self.trees = trees
        self.loop = loop
        self.blockingQueue = blockingQueue
    }

    // MARK: ReplicaStorage

    func readState(
        partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<[UInt8]?, StorageFailure>) -> Void
    ) {
        do {
            if case .read(let found) = try store.readIfIdle(partition: partition, bucket: bucket, key: key) {
                return completion(.success(found))
            }
        } catch {
            return completion(.failure(Self.failure(error)))
        }
        let answer = LoopHop.back(to: loop, completion)
        blockingQueue.async { [store] in
            answer(Result { try store.read(partition: partition, bucket: bucket, key: key) }.mapError(Self.failure))
        }
    }

    func updateState(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable ([UInt8]?) throws(KVError) -> [UInt8],
        completion: @escaping (Result<[UInt8], StateWriteError>) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        // The digests before and after, taken in the writer's transaction.
        let digests = Mutex<(old: UInt64?, new: UInt64?)>((nil, nil))
        store.update(partition: partition, bucket: bucket, key: key, transform: { blob in
            let next = try transform(blob)
            digests.withLock { $0 = (blob.map { StableHash.hash($0) }, StableHash.hash(next)) }
            return next
        }, completion: { [trees] result in
            switch result {
            case .success(let blob?):
                let change = digests.withLock { $0 }
                trees.record(partition: partition, keyHash: StableHash.keyHash(bucket: bucket, key: key), old: change.old, new: change.new)
                answer(.success(blob))
            case .success(nil):
                answer(.failure(.storage(.failed("the store kept no state for the write"))))
            case .failure(let error as KVError):
                answer(.failure(.refused(error)))
            case .failure(let error):
                answer(.failure(.storage(Self.failure(error))))
            }
        })
    }

    func deleteState(
        partition: Int, bucket: String, key: [UInt8], matches: @escaping @Sendable ([UInt8]) -> Bool,
        completion: @escaping (Result<Bool, StorageFailure>) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        store.deleteState(partition: partition, bucket: bucket, key: key, matches: matches) { [trees] result in
            switch result {
            case .success(let deleted?):
                let keyHash = StableHash.keyHash(bucket: bucket, key: key)
                trees.record(partition: partition, keyHash: keyHash, old: StableHash.hash(deleted), new: nil)
                answer(.success(true))
            case .success(nil):
                answer(.success(false))
            case .failure(let error):
                answer(.failure(Self.failure(error)))
            }
        }
    }

    /// On `blockingQueue` always: header and members are read in one read transaction,
    /// which the loop must not wait for.
    func readTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        completion: @escaping (Result<StoredTyped?, StorageFailure>) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        blockingQueue.async { [store] in
            answer(Result {
                try store.readTyped(partition: partition, bucket: bucket, key: key, members: members)
            }.mapError(Self.failure))
        }
    }

    /// `updateState`'s pattern: the header's digests before and after are taken in the
    /// writer's transaction and told to the tree from the commit-ordered completion, so a
    /// typed key's Merkle leaf follows its header like any state's.
    func updateTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        transform: @escaping @Sendable (StoredTyped?) throws(KVError) -> TypedRowChanges,
        completion: @escaping (Result<StoredTyped, StateWriteError>) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        let digests = Mutex<(old: UInt64?, new: UInt64?)>((nil, nil))
        store.updateTyped(partition: partition, bucket: bucket, key: key, members: members, transform: { stored in
            let changes = try transform(stored)
            digests.withLock { $0 = (stored.map { StableHash.hash($0.header) }, StableHash.hash(changes.header)) }
            return changes
        }, completion: { [trees] result in
            switch result {
            case .success(let stored):
                let change = digests.withLock { $0 }
                trees.record(partition: partition, keyHash: StableHash.keyHash(bucket: bucket, key: key), old: change.old, new: change.new)
                answer(.success(stored))
            case .failure(let error as KVError):
                answer(.failure(.refused(error)))
            case .failure(let error):
                answer(.failure(.storage(Self.failure(error))))
            }
        })
    }

    /// On `blockingQueue` always: both rows are read in one read transaction, which the
    /// loop must not wait for.
    func readPaxos(
        partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<StoredPaxos, StorageFailure>) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        blockingQueue.async { [store] in
            answer(Result { try store.readPaxos(partition: partition, bucket: bucket, key: key) }.mapError(Self.failure))
        }
    }

    /// On `blockingQueue`, like `readPaxos`.
    func holdsStrongValues(completion: @escaping (Result<Bool, StorageFailure>) -> Void) {
        let answer = LoopHop.back(to: loop, completion)
        blockingQueue.async { [store] in
            answer(Result { try store.holdsStrongValues() }.mapError(Self.failure))
        }
    }

    /// `updateState`'s pattern for a strong key's two rows: the `kv` row's digests before
    /// and after are taken in the writer's transaction and told to the tree from the
    /// commit-ordered completion, so the key's Merkle leaf follows its commit like any
    /// state's; a step that leaves the `kv` row as it was (a promise, a vote) changes no leaf.
    func updatePaxos(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable (StoredPaxos) throws(KVError) -> StoredPaxos?,
        completion: @escaping (Result<StoredPaxos, StateWriteError>) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        let digests = Mutex<(old: UInt64?, new: UInt64?)?>(nil)
        store.updatePaxos(partition: partition, bucket: bucket, key: key, transform: { stored in
            guard let next = try transform(stored) else { return nil }
            if next.record != stored.record {
                digests.withLock { $0 = (stored.record.map { StableHash.hash($0) }, next.record.map { StableHash.hash($0) }) }
            }
            return next
        }, completion: { [trees] result in
            switch result {
            case .success(let stored):
                if let change = digests.withLock({ $0 }) {
                    let keyHash = StableHash.keyHash(bucket: bucket, key: key)
                    trees.record(partition: partition, keyHash: keyHash, old: change.old, new: change.new)
                }
                answer(.success(stored))
            case .failure(let error as KVError):
                answer(.failure(.refused(error)))
            case .failure(let error):
                answer(.failure(.storage(Self.failure(error))))
            }
        })
    }

    func scan(
        partition: Int, after: (bucket: String, key: [UInt8])?, limit: Int,
        completion: @escaping (Result<[StoredRow], StorageFailure>) -> Void
    ) {
        let answer = LoopHop.back(to: loop, completion)
        let start = after.map { StartAfter(bucket: $0.bucket, key: $0.key) }
        blockingQueue.async { [store] in
            answer(Result {
                try store.scan(partition: partition, after: start.map { ($0.bucket, $0.key) }, limit: limit)
                    .map { StoredRow(bucket: $0.bucket, key: $0.key, blob: $0.blob) }
            }.mapError(Self.failure))
        }
    }

    private struct StartAfter: Sendable {
        var bucket: String
        var key: [UInt8]
    }

    // MARK: MerkleIndex

    var shape: MerkleShape { trees.shape }

    func root(partition: Int) -> UInt64? { trees.withTree(partition) { $0.root } }

    func hashes(partition: Int, level: Int, indices: [Int]) -> [Int: UInt64]? {
        trees.withTree(partition) { $0.hashes(level: level, indices: indices) }
    }

    func segmentKeys(partition: Int, segments: [Int], completion: @escaping (Result<[SegmentKey], StorageFailure>) -> Void) {
        let answer = LoopHop.back(to: loop, completion)
        blockingQueue.async { [trees] in
            answer(Result { try trees.segmentKeys(partition: partition, segments: segments) }.mapError(Self.failure))
        }
    }

    func snapshot(partition: Int) -> MerkleTree? { trees.snapshot(partition) }

    func buildMissing() { trees.buildMissing() }

    /// A store error as the services see it (also for `SQLiteHintStorage`).
    static func failure(_ error: any Error) -> StorageFailure {
        switch error {
        case StoreError.overloaded(let message): return .overloaded(message)
        case StoreError.diskFull(let message): return .full(message)
        case let error as StoreError: return .failed(error.message)
        case let error as WireError: return .failed("a stored state could not be decoded: \(error.message)")
        default: return .failed("\(error)")
        }
    }
}
