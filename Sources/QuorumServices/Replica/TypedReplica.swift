import QuorumCore

/// The replica side of typed keys (counters, sets, maps): leads updates, joins deltas and
/// whole states, answers reads. The store keeps a typed key decomposed, a header row plus
/// a row per member, and every request here reads and writes only the members it names,
/// so adding the 10 000th element of a set costs what adding the first did.
final class TypedReplica {
    private let limits: Limits
    private let storage: any ReplicaStorage
    private let context: any ReplicaContext
    private let placement: Ring
    /// Deliberate bugs a simulated world switches on (inert on a real node).
    private let faults: FaultPoints

    init(limits: Limits, storage: any ReplicaStorage, context: any ReplicaContext, placement: Ring, faults: FaultPoints = .inert) {
        self.faults = faults
        self.limits = limits
        self.storage = storage
        self.context = context
        self.placement = placement
    }

    /// The lead of an update: turns `operation` into a delta with this store's next dot,
    /// joins it into the stored rows in one commit, and answers the delta with the reply.
    func lead(
        bucket: String, key: [UInt8], operation: TypedOperation, stamp: HLCTimestamp, respond: @escaping (PeerResponse) -> Void
    ) {
        context.observe(stamp)
        let datatype: DataType
        do throws(KVError) {
            datatype = try bucketType(bucket, wanted: operation.datatype)
        } catch {
            return respond(.failure(code: error.code, message: error.message))
        }
        let (actor, limits) = (context.actorID, limits)
        let produced = ProducedDelta()
        update(bucket: bucket, key: key, members: operation.touchedMembers, respond: respond) { stored throws(KVError) in
            let (header, members) = try Self.decode(stored, limits: limits)
            let current = TypedState(header: header ?? TypedHeader(datatype: datatype), members: members)
            let delta = try TypedState.delta(
                applying: operation, actor: actor, stamp: stamp, current: current,
                memberCount: header.map { Int($0.memberCount) } ?? 0, limits: limits)
            produced.delta = delta
            return try TypedState.joinStored(
                header: header, storedMembers: members, incoming: delta.delta, isFull: delta.isFull,
                operationIDsMax: limits.typedOperationIDsMax)
        } stored: {
            guard let delta = produced.delta else {
                return respond(.failure(code: "internal", message: "the store acknowledged an update it never applied"))
            }
            respond(.typedApplied(delta: delta.delta, reply: delta.reply))
        }
    }

    /// Joins a delta (only the members it lists are read) or a whole state (every member).
    func merge(bucket: String, key: [UInt8], state: TypedState, isFull: Bool, respond: @escaping (PeerResponse) -> Void) {
        do throws(KVError) {
            _ = try bucketType(bucket, wanted: state.datatype)
        } catch {
            return respond(.failure(code: error.code, message: error.message))
        }
        let limits = limits
        let selection = TypedState.selection(forJoining: state, isFull: isFull)
        let takesMax = faults.has(.counterMergeTakesMax) && state.datatype == .counter  // the deliberate bug
        update(bucket: bucket, key: key, members: selection, respond: respond) { stored throws(KVError) in
            let (header, members) = try Self.decode(stored, limits: limits)
            if takesMax {
                return try Self.counterJoinTakingLargerTotal(
                    header: header, storedMembers: members, incoming: state, isFull: isFull, limits: limits)
            }
            return try TypedState.joinStored(
                header: header, storedMembers: members, incoming: state, isFull: isFull,
                operationIDsMax: limits.typedOperationIDsMax)
        } stored: {
            respond(.ack)
        }
    }

    /// Answers the key's context with the selected members it holds.
    func fetch(bucket: String, key: [UInt8], members: MemberSelection, respond: @escaping (PeerResponse) -> Void) {
        let partition = placement.partition(bucket: bucket, key: key)
        let limits = limits
        storage.readTyped(partition: partition, bucket: bucket, key: key, members: members) { result in
            switch result {
            case .success(nil):
                respond(.typed(nil))
            case .success(let stored?):
                do throws(KVError) {
                    let (header, members) = try Self.decode(stored, limits: limits)
                    guard let header else { return respond(.typed(nil)) }
                    respond(.typed(TypedState(header: header, members: members)))
                } catch {
                    respond(.failure(code: error.code, message: error.message))
                }
            case .failure(let failure):
                respond(.failure(code: "internal", message: "replica could not read a typed key: \(failure.message)"))
            }
        }
    }

    // MARK: Shared

    /// The bucket's type by this node's props, checked against what a request is for.
    private func bucketType(_ bucket: String, wanted: DataType?) throws(KVError) -> DataType {
        guard let held = context.datatype(of: bucket) else {
            throw .wrongType(
                message: "this replica knows bucket \(bucket) as one of plain values; a typed bucket is usable once "
                    + "every member has its props (retry, or create the bucket with its datatype first)")
        }
        if let wanted, wanted != held {
            throw .wrongType(message: "bucket \(bucket) holds \(held.rawValue)s, not \(wanted.rawValue)s")
        }
        return held
    }

    private func update(
        bucket: String, key: [UInt8], members: MemberSelection, respond: @escaping (PeerResponse) -> Void,
        transform: @escaping @Sendable (StoredTyped?) throws(KVError) -> TypedStoredChanges, stored: @escaping () -> Void
    ) {
        let partition = placement.partition(bucket: bucket, key: key)
        storage.updateTyped(partition: partition, bucket: bucket, key: key, members: members, transform: { rows throws(KVError) in
            let changes = try transform(rows)
            return TypedRowChanges(
                header: changes.header.encoded(),
                members: changes.members.map { MemberChange(member: $0.key, payload: $0.member?.encodedRow()) })
        }) { result in
            switch result {
            case .success: stored()
            case .failure(.refused(let error)): respond(.failure(code: error.code, message: error.message))
            case .failure(.storage(.overloaded(let message))): respond(.failure(code: "overloaded", message: message))
            case .failure(.storage(let failure)):
                respond(.failure(code: "internal", message: "replica could not update a typed key: \(failure.message)"))
            }
        }
    }

    /// The stored rows as values; a plain value's row under a typed key is a wrong type.
    private static func decode(_ stored: StoredTyped?, limits: Limits) throws(KVError) -> (TypedHeader?, [[UInt8]: Member]) {
        guard let stored else { return (nil, [:]) }
        guard TypedHeader.isTypedHeader(stored.header) else {
            throw .wrongType(message: "the key holds a plain value, not a counter, set or map")
        }
        let header: TypedHeader
        do { header = try TypedHeader(decoding: stored.header, limits: limits) } catch {
            throw .internalError(message: "a stored typed header could not be decoded: \(error.message)")
        }
        var members: [[UInt8]: Member] = [:]
        for row in stored.members {
            do { members[row.member] = try Member(decodingRow: row.payload, limits: limits) } catch {
                throw .internalError(message: "a stored typed member could not be decoded: \(error.message)")
            }
        }
        return (header, members)
    }
}

/// The delta a lead's transform made, handed to its completion (see `ProducedState`: the
/// store runs the completion after the transform, which orders the two).
private final class ProducedDelta: @unchecked Sendable {
    var delta: TypedDelta?
}
