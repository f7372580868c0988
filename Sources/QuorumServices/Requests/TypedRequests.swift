import QuorumCore

/// A client's update of a typed key (counter, set, map) as the request path takes it.
public struct TypedUpdateCommand: Sendable, Equatable {
    public var bucket: String
    public var key: [UInt8]
    public var operation: TypedOperation
    public var options: RequestOptions
    /// Stand-ins may take slots of unreachable primaries (they keep the delta as a hint).
    public var sloppy: Bool

    public init(bucket: String, key: [UInt8], operation: TypedOperation, options: RequestOptions, sloppy: Bool) {
        self.bucket = bucket
        self.key = key
        self.operation = operation
        self.options = options
        self.sloppy = sloppy
    }
}

/// What a typed update came to: the lead replica's reply and the acknowledgements.
public struct TypedUpdateOutcome: Sendable, Equatable {
    public var reply: TypedReply
    public var acks: Int
    /// The replica that turned the operation into a delta.
    public var lead: String
    /// The replica slots that acknowledged it before the answer (as `WriteOutcome`'s):
    /// the simulator's checks exempt updates all of whose copies were on disks wiped later.
    public var acknowledged: [ReplicaPlan.Slot] = []
}

/// What a typed read came to: the join of the answers (nil: no replica asked holds the
/// key), holding the selected members only, and how many replicas answered in time.
public struct TypedReadOutcome: Sendable, Equatable {
    public var state: TypedState?
    public var replies: Int
}

/// The coordinator's path for typed keys. An update runs as a led write: the first
/// reachable primary turns the operation into a delta with its own next dot (its dots are
/// unique because only it numbers them), commits it and answers it; the delta then goes
/// to the other slots, as a hint to a stand-in. A read asks r replicas for the members it
/// needs and joins their answers. Both use the coordinators plain values use.
extension RequestDriver {
    public func updateTyped(_ command: TypedUpdateCommand, completion: @escaping (Result<TypedUpdateOutcome, KVError>) -> Void) {
        let admitted: Admitted
        do throws(KVError) {
            admitted = try admit(
                bucket: command.bucket, key: command.key, options: command.options, for: .write,
                holding: .typed(command.operation.datatype))
        } catch {
            return completion(.failure(error))
        }
        let plan = replicaPlan(
            ring: admitted.ring, bucket: command.bucket, key: command.key, n: admitted.options.n, sloppy: command.sloppy)
        let coordinator = PutCoordinator<TypedState>(
            plan: plan, options: admitted.options, leadCandidates: PutCoordinator<TypedState>.leadCandidates(plan: plan, localNode: nodeID))
        let update = TypedUpdate(command: command, stamp: context.tick(), timeoutMilliseconds: admitted.options.timeoutMilliseconds)
        let run = TypedWriteRun(coordinator: coordinator, sweep: sweep, onDeadline: Self.typedWriteDeadline) { [context] outcome in
            context.release()
            completion(outcome)
        }
        performTyped(run.coordinator.start(), run: run, update: update)
        run.waitAtMost(milliseconds: update.timeoutMilliseconds)
    }

    public func readTyped(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions, sloppy: Bool,
        completion: @escaping (Result<TypedReadOutcome, KVError>) -> Void
    ) {
        let admitted: Admitted
        do throws(KVError) {
            admitted = try admit(bucket: bucket, key: key, options: options, for: .read, holding: .typed(nil))
        } catch {
            return completion(.failure(error))
        }
        let plan = replicaPlan(ring: admitted.ring, bucket: bucket, key: key, n: admitted.options.n, sloppy: sloppy)
        // Each answer lists every member it holds of the selection, so the answers join as full states.
        let coordinator = GetCoordinator<TypedState>(plan: plan, options: admitted.options, rule: true)
        let run = ReadRun<TypedState>(coordinator: coordinator, sweep: sweep, onDeadline: Self.readDeadline) { [context] outcome in
            context.release()
            switch outcome {
            case .succeeded(let state, let replies): completion(.success(TypedReadOutcome(state: state, replies: replies)))
            case .failed(let error): completion(.failure(error))
            case .pending: completion(.failure(.internalError(message: "read finished without an outcome")))
            }
        }
        let read = TypedRead(bucket: bucket, key: key, members: members, timeoutMilliseconds: admitted.options.timeoutMilliseconds)
        for node in coordinator.initialNodes { fetchTyped(from: node, read: read, run: run) }
        run.waitAtMost(milliseconds: read.timeoutMilliseconds)
    }

    // MARK: Updates

    private typealias TypedWriteRun = RequestRun<PutCoordinator<TypedState>, Result<TypedUpdateOutcome, KVError>>

    private static func typedWriteDeadline(_ coordinator: inout PutCoordinator<TypedState>) -> Result<TypedUpdateOutcome, KVError>? {
        for case .finish(.failed(let error)) in coordinator.deadlinePassed() { return .failure(error) }
        return nil
    }

    private func performTyped(_ actions: [PutCoordinator<TypedState>.Action], run: TypedWriteRun, update: TypedUpdate) {
        let timeout = Self.replicaTimeout(update.timeoutMilliseconds)
        for action in actions {
            switch action {
            case .askLead(let node):
                replicas.call(node, update.leadRequest, timeoutMilliseconds: timeout) { [self] response in
                    typedLeadAnswered(node, response, run: run, update: update)
                }
            case .replicate(let delta, let targets):
                for target in targets {
                    replicas.call(target.node, update.copy(delta, to: target), timeoutMilliseconds: timeout) { [self] response in
                        let next = response == .ack
                            ? run.coordinator.replicaAcked(node: target.node) : run.coordinator.replicaFailed(node: target.node)
                        performTyped(next, run: run, update: update)
                    }
                }
            case .finish(.succeeded(_, let acks)):
                guard let reply = update.reply, let lead = update.lead else {
                    return run.finish(.failure(.internalError(message: "a typed update succeeded without its lead's reply")))
                }
                let acknowledged = run.coordinator.plan.slots.filter { $0.status == .answered }
                run.finish(.success(TypedUpdateOutcome(reply: reply, acks: acks, lead: lead, acknowledged: acknowledged)))
            case .finish(.failed(let error)):
                run.finish(.failure(error))
            }
        }
    }

    private func typedLeadAnswered(_ node: String, _ response: PeerResponse?, run: TypedWriteRun, update: TypedUpdate) {
        let next: [PutCoordinator<TypedState>.Action]
        switch response {
        case .typedApplied(let delta, let reply)?:
            if update.reply == nil { (update.reply, update.lead) = (reply, node) }
            next = run.coordinator.leadSucceeded(node: node, newState: delta)
        case .failure(let code, let message)?:
            next = run.coordinator.leadFailed(node: node, error: ReplicaWrite.clientError(code: code, message: message, limits: limits))
        default:
            // No answer (a timeout, a refused connection, a lost reply): the lead may have
            // applied the update. Another lead would count an increment again under its own
            // actor (its operation id is only known to the first), so an increment is not
            // handed on; any other operation means the same led twice.
            guard update.command.operation.isIdempotentAcrossLeads else {
                return run.finish(.failure(.unavailable(
                    message: "the lead replica \(node) did not answer in time: the increment may or may not have been "
                        + "applied; read the counter before retrying, or send increments with an operation id "
                        + "(RESP ID, HTTP \"id\") so a retry the same lead takes is counted once")))
            }
            next = run.coordinator.leadFailed(node: node, error: nil)
        }
        performTyped(next, run: run, update: update)
    }

    // MARK: Reads

    private struct TypedRead {
        var bucket: String
        var key: [UInt8]
        var members: MemberSelection
        var timeoutMilliseconds: Int
    }

    private func fetchTyped(from node: String, read: TypedRead, run: ReadRun<TypedState>) {
        let request = PeerRequest.typedFetch(bucket: read.bucket, key: read.key, members: read.members)
        replicas.call(node, request, timeoutMilliseconds: Self.replicaTimeout(read.timeoutMilliseconds)) { [self] response in
            let (state, answered): (TypedState?, Bool) = if case .typed(let state)? = response { (state, true) } else { (nil, false) }
            let (standIn, repair) = readAnswered(state, answered: answered, from: node, run: run)
            if let standIn { fetchTyped(from: standIn, read: read, run: run) }
            if let repair, read.members == .all { typedReadRepair(read, state: repair.state, nodes: repair.nodes) }
        }
    }

    /// Sends the joined state to replicas that answered less, after reads of every member
    /// only: an answer of some members carries the whole context, and joining that as a
    /// full state would remove members it did not list.
    private func typedReadRepair(_ read: TypedRead, state: TypedState, nodes: [String]) {
        guard readRepairProbability >= 1 || random.nextUnit() < readRepairProbability else { return }
        context.readRepairSent(replicas: nodes.count)
        let request = PeerRequest.typedMerge(bucket: read.bucket, key: read.key, state: state, isFull: true)
        for node in nodes {
            replicas.call(node, request, timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { _ in }
        }
    }
}

/// One typed update in flight: what the lead is asked, and its reply once it answered.
private final class TypedUpdate {
    let command: TypedUpdateCommand
    let stamp: HLCTimestamp
    let timeoutMilliseconds: Int
    var reply: TypedReply?
    var lead: String?

    init(command: TypedUpdateCommand, stamp: HLCTimestamp, timeoutMilliseconds: Int) {
        self.command = command
        self.stamp = stamp
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    var leadRequest: PeerRequest {
        .typedUpdate(bucket: command.bucket, key: command.key, operation: command.operation, stamp: stamp)
    }

    func copy(_ delta: TypedState, to target: ReplicaTarget) -> PeerRequest {
        guard let primary = target.hintFor else {
            return .typedMerge(bucket: command.bucket, key: command.key, state: delta, isFull: false)
        }
        return .storeTypedHint(target: primary, bucket: command.bucket, key: command.key, state: delta)
    }
}
