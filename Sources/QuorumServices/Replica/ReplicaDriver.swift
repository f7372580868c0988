import QuorumCore

/// The replica side of a node: answers every `PeerRequest` but gossip against the node's
/// own store. Used for requests from peers and, without encoding, for this node's replica
/// of keys it coordinates. Writes answer only after their commit, so an ack always means
/// durable. The same lines run in the real node (one per event loop) and the simulator.
public final class ReplicaDriver {
    public let nodeID: String
    private let limits: Limits
    private let storage: any ReplicaStorage
    private let trees: any MerkleIndex
    private let context: any ReplicaContext
    private let faults: FaultPoints
    /// This node's wall clock: what it judges expiry by.
    private let clock: any ServiceClock
    /// Finds a key's partition. A key's partition depends only on the partition count,
    /// which never changes for a node, so no ring (and no lock) is read per request.
    private let placement: Ring
    private let typed: TypedReplica
    private let strong: StrongReplica

    public init(
        nodeID: String, partitionCount: Int, limits: Limits, storage: any ReplicaStorage, trees: any MerkleIndex,
        context: any ReplicaContext, clock: any ServiceClock, faults: FaultPoints = .inert
    ) {
        self.clock = clock
        self.nodeID = nodeID
        placement = Ring(members: [nodeID], partitionCount: partitionCount)
        typed = TypedReplica(limits: limits, storage: storage, context: context, placement: placement, faults: faults)
        strong = StrongReplica(storage: storage, context: context, placement: placement, faults: faults)
        self.limits = limits
        self.storage = storage
        self.trees = trees
        self.context = context
        self.faults = faults
    }

    public func handle(_ request: PeerRequest, respond: @escaping (PeerResponse) -> Void) {
        switch request {
        case .fetch(let bucket, let key):
            fetch(bucket: bucket, key: key, respond: respond)
        case .coordinateWrite(let bucket, let key, let intent, let mode, let timestamp, let ifAbsent):
            lead(bucket: bucket, key: key, intent: intent, mode: mode, timestamp: timestamp, ifAbsent: ifAbsent, respond: respond)
        case .merge(let bucket, let key, let state, let mode):
            merge(bucket: bucket, key: key, state: state, mode: mode, respond: respond)
        case .mergeBatch(let compressed, let originalLength):
            mergeBatch(compressed: compressed, originalLength: originalLength, respond: respond)
        case .storeHint(let target, let bucket, let key, let state, let mode):
            context.takeHint(target: target, bucket: bucket, key: key, state: state, mode: mode, respond: respond)
        case .setBucketProps(let bucket, let props):
            context.storeProps(bucket: bucket, props: props) { result in
                switch result {
                case .success: respond(.ack)
                case .failure(let error): respond(.failure(code: error.code, message: error.message))
                }
            }
        case .listKeys(let bucket, let partition, let after, let limit):
            listKeys(bucket: bucket, partition: partition, after: after, limit: limit, respond: respond)
        case .treeRoot, .treeHashes, .segmentKeys:
            answerAntiEntropy(request, respond: respond)
        case .purge(let bucket, let key, let digest):
            purge(bucket: bucket, key: key, digest: digest, respond: respond)
        case .truncate(let bucket, let point):
            context.adoptTruncation(bucket: bucket, point: point) { result in
                switch result {
                case .success: respond(.ack)
                case .failure(let error): respond(.failure(code: error.code, message: error.message))
                }
            }
        case .typedUpdate(let bucket, let key, let operation, let stamp):
            typed.lead(bucket: bucket, key: key, operation: operation, stamp: stamp, respond: respond)
        case .typedMerge(let bucket, let key, let state, let isFull):
            typed.merge(bucket: bucket, key: key, state: state, isFull: isFull, respond: respond)
        case .typedFetch(let bucket, let key, let members):
            typed.fetch(bucket: bucket, key: key, members: members, respond: respond)
        case .storeTypedHint(let target, let bucket, let key, let state):
            context.takeTypedHint(target: target, bucket: bucket, key: key, state: state, respond: respond)
        case .paxosPrepare(let bucket, let key, let ballot):
            strong.prepare(bucket: bucket, key: key, ballot: ballot, respond: respond)
        case .paxosPropose(let bucket, let key, let proposal):
            strong.propose(bucket: bucket, key: key, proposal: proposal, respond: respond)
        case .paxosCommit(let bucket, let key, let commit):
            strong.commit(bucket: bucket, key: key, commit: commit, respond: respond)
        case .paxosFloor:
            strong.floor(respond: respond)
        case .paxosFence(let floor):
            strong.fence(floor: floor, respond: respond)
        case .strongFetch(let bucket, let key):
            strong.fetch(bucket: bucket, key: key, respond: respond)
        case .ping:
            respond(.pong)
        case .gossip:
            respond(.failure(code: "bad_parameter", message: "gossip goes to the membership service, not a replica"))
        }
    }

    // MARK: Reads

    /// Answers the stored state as this replica hands states out: versions below the
    /// bucket's truncation point and versions expired by this node's clock turned into
    /// tombstones of the same version (`settled`), so no replica hands out a hidden value
    /// (to a read, a repair or anti-entropy). When that changed the state, it also rewrites
    /// the committed state in that form (a lattice step, so a concurrent write is kept):
    /// the next anti-entropy exchange then finds the replicas' stored bytes agree, and the
    /// value's bytes are gone.
    private func fetch(bucket: String, key: [UInt8], respond: @escaping (PeerResponse) -> Void) {
        let partition = placement.partition(bucket: bucket, key: key)
        storage.readState(partition: partition, bucket: bucket, key: key) { [self] result in
            switch result {
            case .success(let blob):
                if let blob, TypedHeader.isTypedHeader(blob) {
                    return respond(.failure(code: "wrong_type", message: Self.typedKeyMessage(bucket: bucket)))
                }
                if let blob, StrongRecord.isStrongRecord(blob) {
                    return respond(.failure(code: "wrong_type", message: Self.strongKeyMessage(bucket: bucket)))
                }
                let held: KeyState?
                do {
                    held = try blob.map { try KeyState(decoding: $0) }
                } catch {
                    return respond(failure("a stored state could not be decoded: \(error)", doing: "read"))
                }
                guard let held else { return respond(.state(nil)) }
                // The deliberate bugs: judge by the start of time, when nothing has expired;
                // forget the truncation point.
                let now = faults.has(.expiryIgnored) ? 0 : clock.nowMilliseconds()
                let point = faults.has(.readsIgnoreTruncation) ? nil : context.truncationPoint(for: bucket)
                let visible = Self.settled(held, truncatedBefore: point, now: now)
                guard visible != held else { return respond(.state(held)) }
                respond(.state(visible))
                // Lazy conversion: `update` stores the committed state settled (expiries counted
                // there). A key deleted or purged meanwhile: no write. A failure leaves the old
                // copy for the next read or the purge.
                update(bucket: bucket, key: key, now: now, respond: { _ in }, transform: { current throws(KVError) in
                    guard let current else { throw .preconditionFailed(message: "nothing to convert") }
                    return current
                }, stored: { _ in })
            case .failure(let failure):
                respond(self.failure(failure, doing: "read"))
            }
        }
    }

    /// Live keys of one bucket in one partition; tombstoned keys are skipped, typed keys
    /// count as live while they hold a member (a reset set or map lists as absent), and
    /// strong keys while their latest commit is a value (a committed delete lists as absent).
    private func listKeys(bucket: String, partition: Int, after: [UInt8]?, limit: Int, respond: @escaping (PeerResponse) -> Void) {
        guard partition >= 0, partition < placement.partitionCount else {
            return respond(.failure(code: "bad_parameter", message: "partition \(partition) is outside the ring"))
        }
        guard (1...limits.keyPageMax).contains(limit) else {
            return respond(.failure(code: "bad_parameter", message: "limit must be 1...\(limits.keyPageMax), got \(limit)"))
        }
        storage.scan(partition: partition, after: (bucket: bucket, key: after ?? []), limit: limit) { [self] result in
            switch result {
            case .success(let rows):
                let inBucket = rows.prefix { $0.bucket == bucket }
                let now = clock.nowMilliseconds()
                let point = context.truncationPoint(for: bucket)
                let live = inBucket.filter { row in
                    if TypedHeader.isTypedHeader(row.blob) {
                        return ((try? TypedHeader(decoding: row.blob, limits: limits))?.memberCount ?? 0) > 0
                    }
                    if StrongRecord.isStrongRecord(row.blob) {
                        return (try? StrongRecord.decode(row.blob))?.value.isTombstone == false
                    }
                    return (try? KeyState(decoding: row.blob))?.truncated(before: point).isDeleted(atMilliseconds: now) == false
                }.map(\.key)
                let more = rows.count == limit && inBucket.count == rows.count
                respond(.keys(live, resumeAfter: more ? inBucket.last?.key : nil))
            case .failure(let failure):
                respond(self.failure(failure, doing: "list keys"))
            }
        }
    }

    // MARK: Writes

    /// The lead of a write: applies the client's intent on the committed state with this
    /// store's next dot and answers the new state.
    private func lead(
        bucket: String, key: [UInt8], intent: WriteIntent, mode: ConflictMode, timestamp: HLCTimestamp, ifAbsent: Bool,
        respond: @escaping (PeerResponse) -> Void
    ) {
        context.observe(timestamp)
        let (actor, limits) = (context.actorID, limits)
        let checksAbsence = ifAbsent && !faults.has(.createOnlySkipsExistenceCheck)
        let now = faults.has(.expiryIgnored) ? 0 : clock.nowMilliseconds()  // the deliberate bug
        update(bucket: bucket, key: key, now: now, respond: respond) { current throws(KVError) in
            try ReplicaWrite.lead(
                current: current, intent: intent, actor: actor, timestamp: timestamp, mode: mode, ifAbsent: checksAbsence,
                nowMilliseconds: now, limits: limits)
        } stored: { state in
            respond(.state(state))
        }
    }

    private func merge(bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode, respond: @escaping (PeerResponse) -> Void) {
        if let newest = state.siblings.map(\.timestamp).max() { context.observe(newest) }
        let now = faults.has(.expiryIgnored) ? 0 : clock.nowMilliseconds()  // the deliberate bug
        update(bucket: bucket, key: key, now: now, respond: respond) { current throws(KVError) in
            ReplicaWrite.merge(current: current, incoming: state, mode: mode)
        } stored: { _ in
            respond(.ack)
        }
    }

    /// Merges every state of an anti-entropy batch (a typed key's whole state joined as a
    /// full state; a strong key's commit learned through the acceptor's commit step, so
    /// the later ballot wins and nothing is merged); acks once all are committed.
    private func mergeBatch(compressed: [UInt8], originalLength: Int, respond: @escaping (PeerResponse) -> Void) {
        var entries: [RepairBatch.Entry]
        do {
            guard originalLength <= limits.frameBytesMax else { throw WireError.malformed("batch of \(originalLength) bytes") }
            entries = try RepairBatch(
                decoding: try context.decompress(compressed, originalLength: originalLength), limits: limits
            ).entries
        } catch {
            return respond(.failure(code: "bad_parameter", message: "unreadable repair batch: \(error)"))
        }
        if faults.has(.mergeBatchDropsLast), entries.count > 1 { entries.removeLast() }  // the deliberate bug
        guard !entries.isEmpty else { return respond(.ack) }
        var remaining = entries.count
        var failed = false
        for entry in entries {
            let stored: (PeerResponse) -> Void = { response in
                if response != .ack { failed = true }
                remaining -= 1
                guard remaining == 0 else { return }
                respond(failed ? .failure(code: "internal", message: "some states of the repair batch were not stored") : .ack)
            }
            switch entry.payload {
            case .versions(let state, let mode):
                merge(bucket: entry.bucket, key: entry.key, state: state, mode: mode, respond: stored)
            case .typed(let state):
                typed.merge(bucket: entry.bucket, key: entry.key, state: state, isFull: true, respond: stored)
            case .strong(let commit):
                strong.learn(bucket: entry.bucket, key: entry.key, commit: commit) { result in
                    switch result {
                    case .success: stored(.ack)
                    case .failure(let error): stored(.failure(code: error.code, message: error.message))
                    }
                }
            }
        }
    }

    /// Removes a tombstone whose version digest is still `digest`; the store takes it out
    /// of the partition's Merkle tree, so anti-entropy sees the replicas agree on "absent".
    private func purge(bucket: String, key: [UInt8], digest: UInt64, respond: @escaping (PeerResponse) -> Void) {
        let partition = placement.partition(bucket: bucket, key: key)
        let now = clock.nowMilliseconds()
        let point = context.truncationPoint(for: bucket)
        storage.deleteState(
            partition: partition, bucket: bucket, key: key,
            matches: { TombstonePurgeRule.storedStateMatches($0, digest: digest, nowMilliseconds: now, truncatedBefore: point) }
        ) {
            [self] result in
            switch result {
            case .success(true): respond(.ack)
            case .success(false): respond(.failure(code: "precondition_failed", message: "the state changed or is absent; not purged"))
            case .failure(let failure): respond(self.failure(failure, doing: "purge"))
            }
        }
    }

    /// Why a plain read or write found a strong key's commit instead (issue #17): its
    /// value changes only through consensus.
    static func strongKeyMessage(bucket: String) -> String {
        "the key in bucket \(bucket) belongs to a strongly consistent bucket; its value changes only through consensus "
            + "(strong reads and writes), never by a plain read, merge or repair"
    }

    /// Why a plain read or write found a typed key (a counter, set or map) instead.
    static func typedKeyMessage(bucket: String) -> String {
        "the key in bucket \(bucket) holds a counter, set or map, not a plain value; use the typed commands for it"
    }

    /// A state as a replica hands it out and keeps it: versions below the bucket's
    /// truncation point and versions expired at `now` turned into tombstones of the same
    /// version. Deterministic, so replicas that settle the same state store the same bytes.
    static func settled(_ state: KeyState, truncatedBefore point: HLCTimestamp?, now: UInt64) -> KeyState {
        let truncated = state.truncated(before: point)
        return truncated.expiredCount(atMilliseconds: now) > 0 ? truncated.strippingExpired(atMilliseconds: now) : truncated
    }

    /// Runs `transform` on the committed state in the store's commit order; `stored` gets
    /// the state once committed, failures answer the peer. Versions below the bucket's
    /// truncation point, and versions expired at `now` (this node's clock when the write
    /// arrived), are stored as tombstones: a replica keeps only what must shadow older versions (a lattice step, see
    /// `Sibling.strippedToTombstone`), so repair, hints and anti-entropy never bring an
    /// expired value back.
    private func update(
        bucket: String, key: [UInt8], now: UInt64, respond: @escaping (PeerResponse) -> Void,
        transform: @escaping @Sendable (KeyState?) throws(KVError) -> KeyState, stored: @escaping (KeyState) -> Void
    ) {
        let partition = placement.partition(bucket: bucket, key: key)
        let produced = ProducedState()
        // Read once per write: a truncation adopted while the write waits for the writer
        // is applied by the next read or write of the key (`fetch` converts on read).
        let point = context.truncationPoint(for: bucket)
        storage.updateState(partition: partition, bucket: bucket, key: key, transform: { blob throws(KVError) in
            // A plain write never replaces a typed key's header (its member rows would be orphaned).
            if let blob, TypedHeader.isTypedHeader(blob) { throw .wrongType(message: Self.typedKeyMessage(bucket: bucket)) }
            // Nor a strong key's commit: a merge would order it by HLC, and a ballot orders it.
            if let blob, StrongRecord.isStrongRecord(blob) { throw .wrongType(message: Self.strongKeyMessage(bucket: bucket)) }
            let current: KeyState?
            do {
                current = try blob.map { try KeyState(decoding: $0) }
            } catch {
                throw .internalError(message: "a stored state could not be decoded: \(error)")
            }
            var next = try transform(current?.truncated(before: point)).truncated(before: point)
            let expired = next.expiredCount(atMilliseconds: now)
            if expired > 0 {
                next = next.strippingExpired(atMilliseconds: now)
                produced.expired = expired
            }
            produced.state = next
            return next.encoded()
        }) { [self] result in
            switch result {
            case .success:
                // The stored bytes are the transform's output: its state, not decoded again.
                guard let state = produced.state else {
                    return respond(.failure(code: "internal", message: "the store acknowledged a write it never applied"))
                }
                if produced.expired > 0 { context.versionsExpired(produced.expired) }
                stored(state)
            case .failure(.refused(let error)):
                respond(.failure(code: error.code, message: error.message))
            case .failure(.storage(let failure)):
                respond(self.failure(failure, doing: "write"))
            }
        }
    }

    // MARK: Anti-entropy

    /// Answers a peer's exchange from this node's live tree of the partition and, for
    /// segment keys, a scan of the partition.
    private func answerAntiEntropy(_ request: PeerRequest, respond: @escaping (PeerResponse) -> Void) {
        let notReady = PeerResponse.failure(
            code: "unavailable", message: "\(nodeID) has no Merkle tree of that partition (still building, or not a replica of it)")
        switch request {
        case .treeRoot(let partition):
            guard let root = trees.root(partition: partition) else { return respond(notReady) }
            respond(.treeRoot(hash: root, segmentCount: trees.shape.segmentCount, fanOut: trees.shape.fanOut))
        case .treeHashes(let partition, let level, let indices):
            guard let hashes = trees.hashes(partition: partition, level: level, indices: indices) else { return respond(notReady) }
            respond(.treeHashes(hashes))
        case .segmentKeys(let partition, let segments):
            guard partition >= 0, partition < placement.partitionCount else {
                return respond(.failure(code: "bad_parameter", message: "partition \(partition) is outside the ring"))
            }
            trees.segmentKeys(partition: partition, segments: segments) { [self] result in
                switch result {
                case .success(let keys): respond(.segmentKeys(keys))
                case .failure(let failure): respond(self.failure(failure, doing: "list segment keys"))
                }
            }
        default:
            respond(.failure(code: "bad_parameter", message: "not an anti-entropy request"))
        }
    }

    // MARK: Failures

    private func failure(_ failure: StorageFailure, doing operation: String) -> PeerResponse {
        switch failure {
        case .overloaded(let message):
            return .failure(code: "overloaded", message: message)
        case .full(let message):
            // A fault of this replica that another may not have: `internal`, which the
            // coordinator answers by trying the next replica. The store logs the full disk
            // once per spell, not once per write.
            return .failure(code: "internal", message: "replica \(nodeID) could not \(operation): \(message)")
        case .failed(let message):
            return self.failure(message, doing: operation)
        }
    }

    private func failure(_ message: String, doing operation: String) -> PeerResponse {
        context.log(.error, "replica \(operation) failed", ["error": message])
        return .failure(code: "internal", message: "replica \(nodeID) could not \(operation): \(message)")
    }
}

/// The state a write's transform produced, handed to its completion so the stored bytes
/// (`ReplicaStorage.updateState` stores exactly what the transform returns) need not be
/// decoded again. Written once, by the transform, on the store's thread before
/// the commit; read by the completion, which the store runs only after that commit (the
/// store's hand-off to the completion orders the two), so it needs no lock.
private final class ProducedState: @unchecked Sendable {
    var state: KeyState?
    /// Versions the transform's output held expired and the store keeps stripped.
    var expired = 0
}
