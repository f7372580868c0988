import QuorumCore
import QuorumServices

/// `ReplicaStorage` and `MerkleIndex` in the simulator: the node's `MemoryStore` behind its
/// simulated disk (writes commit one at a time in queue order, and a crash loses those not
/// yet committed), and its Merkle trees, kept in step at each commit as the node's are.
final class SimulatedStorage: ReplicaStorage, MerkleIndex {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func readState(
        partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<[UInt8]?, StorageFailure>) -> Void
    ) {
        completion(.success(node.store.blob(partition: partition, bucket: bucket, key: key)))
    }

    func updateState(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable ([UInt8]?) throws(KVError) -> [UInt8],
        completion: @escaping (Result<[UInt8], StateWriteError>) -> Void
    ) {
        node.diskWrite({ [node] in
            let next: [UInt8]
            do throws(KVError) {
                next = try transform(node.store.blob(partition: partition, bucket: bucket, key: key))
            } catch {
                return completion(.failure(.refused(error)))
            }
            let digests = node.store.commit(partition: partition, bucket: bucket, key: key, blob: next)
            node.recordInTree(partition: partition, bucket: bucket, key: key, old: digests.old, new: digests.new)
            completion(.success(next))
        }, failed: { completion(.failure(.storage($0))) })
    }

    func deleteState(
        partition: Int, bucket: String, key: [UInt8], matches: @escaping @Sendable ([UInt8]) -> Bool,
        completion: @escaping (Result<Bool, StorageFailure>) -> Void
    ) {
        node.diskWrite({ [node] in
            guard let digest = node.store.delete(partition: partition, bucket: bucket, key: key, matches: matches) else {
                return completion(.success(false))
            }
            node.recordInTree(partition: partition, bucket: bucket, key: key, old: digest, new: nil)
            completion(.success(true))
        }, failed: { completion(.failure($0)) })
    }

    func readTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        completion: @escaping (Result<StoredTyped?, StorageFailure>) -> Void
    ) {
        completion(.success(node.store.readTyped(partition: partition, bucket: bucket, key: key, members: members)))
    }

    /// One disk write for the header and its members: a crash before it commits loses both.
    func updateTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        transform: @escaping @Sendable (StoredTyped?) throws(KVError) -> TypedRowChanges,
        completion: @escaping (Result<StoredTyped, StateWriteError>) -> Void
    ) {
        node.diskWrite({ [node] in
            let written: (stored: StoredTyped, old: UInt64?, new: UInt64)
            do throws(KVError) {
                written = try node.store.updateTyped(
                    partition: partition, bucket: bucket, key: key, members: members, transform: transform)
            } catch {
                return completion(.failure(.refused(error)))
            }
            node.recordInTree(partition: partition, bucket: bucket, key: key, old: written.old, new: written.new)
            completion(.success(written.stored))
        }, failed: { completion(.failure(.storage($0))) })
    }

    func readPaxos(
        partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<StoredPaxos, StorageFailure>) -> Void
    ) {
        completion(.success(node.store.readPaxos(partition: partition, bucket: bucket, key: key)))
    }

    func holdsStrongValues(completion: @escaping (Result<Bool, StorageFailure>) -> Void) {
        completion(.success(node.store.holdsStrongValues()))
    }

    /// One disk write for both rows: a crash before it commits loses the vote and the record.
    func updatePaxos(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable (StoredPaxos) throws(KVError) -> StoredPaxos?,
        completion: @escaping (Result<StoredPaxos, StateWriteError>) -> Void
    ) {
        node.diskWrite({ [node] in
            let before = node.store.readPaxos(partition: partition, bucket: bucket, key: key)
            let next: StoredPaxos?
            do throws(KVError) {
                next = try transform(before)
            } catch {
                return completion(.failure(.refused(error)))
            }
            guard let next, next != before else { return completion(.success(before)) }
            let digests = node.store.commitPaxos(partition: partition, bucket: bucket, key: key, next)
            if digests.old != digests.new {
                node.recordInTree(partition: partition, bucket: bucket, key: key, old: digests.old, new: digests.new)
            }
            completion(.success(next))
        }, failed: { completion(.failure(.storage($0))) })
    }

    func scan(
        partition: Int, after: (bucket: String, key: [UInt8])?, limit: Int,
        completion: @escaping (Result<[StoredRow], StorageFailure>) -> Void
    ) {
        let start = after.map { MemoryStore.Name(partition: partition, bucket: $0.bucket, key: $0.key) }
        let rows = node.store.scan(partition: partition).lazy.filter { start == nil || start! < $0.name }.prefix(limit)
        completion(.success(rows.map { StoredRow(bucket: $0.name.bucket, key: $0.name.key, blob: $0.row.blob) }))
    }

    var shape: MerkleShape { node.world.config.antiEntropyLimits.shape }

    func root(partition: Int) -> UInt64? {
        var tree = node.tree(partition)
        return tree.root
    }

    func hashes(partition: Int, level: Int, indices: [Int]) -> [Int: UInt64]? {
        var tree = node.tree(partition)
        return tree.hashes(level: level, indices: indices)
    }

    func segmentKeys(partition: Int, segments: [Int], completion: @escaping (Result<[SegmentKey], StorageFailure>) -> Void) {
        completion(.success(node.segmentKeys(partition: partition, segments: segments)))
    }

    func snapshot(partition: Int) -> MerkleTree? { node.tree(partition) }

    /// Trees are built at start and kept at every commit: none is ever missing.
    func buildMissing() {}
}

/// What a simulated node's replica driver reads from and hands to its node: the world's
/// ring, the node's HLC and hints. Bucket props are fixed in a simulated run; repair
/// batches travel uncompressed (the codec is LZ4 on the node, out of the simulator's reach).
final class SimulatedReplicaContext: ReplicaContext {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    var actorID: String { node.actorID }

    func observe(_ timestamp: HLCTimestamp) { node.hlc.observe(timestamp, nowMilliseconds: node.wallNow) }

    func takeHint(
        target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode,
        respond: @escaping (PeerResponse) -> Void
    ) {
        node.hints.take(target: target, bucket: bucket, key: key, state: state, mode: mode, respond: respond)
    }

    func takeTypedHint(
        target: String, bucket: String, key: [UInt8], state: TypedState, respond: @escaping (PeerResponse) -> Void
    ) {
        node.hints.takeTyped(target: target, bucket: bucket, key: key, delta: state, respond: respond)
    }

    func datatype(of bucket: String) -> DataType? { node.world.props(for: bucket).datatype }

    func consistency(of bucket: String) -> BucketConsistency { node.world.props(for: bucket).consistency }

    func clockReading() -> HLCTimestamp { node.hlc.tick(nowMilliseconds: node.wallNow) }

    /// Kept in the node's store, so a restart keeps it and a wiped disk starts over.
    var consensusFloor: ConsensusFloor { node.store.consensusFloor }

    func adoptConsensusFloor(_ floor: PaxosBallot, relearning: Bool, completion: @escaping (Result<Void, KVError>) -> Void) {
        node.diskWrite({ [node] in
            node.store.consensusFloor = node.store.consensusFloor.caughtUp(floor: floor, relearning: relearning)
            completion(.success(()))
        }, failed: { completion(.failure(.internalError(message: $0.message))) })
    }

    func raiseConsensusFloor(_ floor: PaxosBallot, completion: @escaping (Result<Void, KVError>) -> Void) {
        observe(floor.timestamp)
        node.diskWrite({ [node] in
            node.store.consensusFloor = node.store.consensusFloor.raised(to: floor)
            completion(.success(()))
        }, failed: { completion(.failure(.internalError(message: $0.message))) })
    }

    func storeProps(bucket: String, props: BucketProps, completion: @escaping (Result<Void, KVError>) -> Void) {
        completion(.failure(.badParameter(name: "bucket", message: "bucket props are fixed in a simulated run")))
    }

    /// Truncation points live in the node's gossiped membership state, as on a real node.
    func truncationPoint(for bucket: String) -> HLCTimestamp? { node.membership.state.truncations.point(for: bucket) }

    func adoptTruncation(bucket: String?, point: HLCTimestamp, completion: @escaping (Result<Void, KVError>) -> Void) {
        guard node.membership.state.truncations.admits(bucket, bucketsMax: GossipLimits.defaults.bucketsMax) else {
            return completion(.failure(TruncationPoints.full(bucketsMax: GossipLimits.defaults.bucketsMax)))
        }
        observe(point)
        node.membership.truncate(bucket, at: point) { completion(.success(())) }
    }

    func decompress(_ bytes: [UInt8], originalLength: Int) throws -> [UInt8] {
        guard bytes.count == originalLength else { throw WireError.malformed("batch of \(bytes.count) bytes, said \(originalLength)") }
        return bytes
    }

    /// Replica failures are what some faults cause; the checks judge a run, not its log.
    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {}
}

/// A simulated node's hint rows: written through its disk (acknowledged once committed,
/// lost if it crashes first), deleted at once.
final class SimulatedHintStorage: HintStorage {
    private unowned let node: SimulatedNode

    init(node: SimulatedNode) {
        self.node = node
    }

    func putHint(_ hint: Hint, completion: @escaping (Result<Void, StorageFailure>) -> Void) {
        node.diskWrite({ [node] in
            node.store.putHint(hint)
            completion(.success(()))
        }, failed: { completion(.failure($0)) })
    }

    func deleteHints(ids: [UInt64], completion: @escaping (Result<Void, StorageFailure>) -> Void) {
        node.store.deleteHints(ids: ids)
        completion(.success(()))
    }
}
