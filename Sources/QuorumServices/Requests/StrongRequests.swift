import QuorumCore

/// A client's operation on a key of a strongly consistent bucket (issue #17).
public struct StrongCommand: Sendable, Equatable {
    public var bucket: String
    public var key: [UInt8]
    public var operation: StrongOperation
    public var options: RequestOptions

    public init(bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions) {
        self.bucket = bucket
        self.key = key
        self.operation = operation
        self.options = options
    }
}

/// The coordinator's path for strong keys: a `StrongCoordinator` (per-key Paxos) over the
/// key's primaries, and while a ring change is pending, the primaries after it too. Never
/// stand-ins, never hints: an acceptor's promise is only good where it was given.
extension RequestDriver {
    public func strong(_ command: StrongCommand, completion: @escaping (Result<StrongAnswer, KVError>) -> Void) {
        if let bytes = command.operation.newValue?.bytes, bytes.count > limits.valueBytesMax {
            return completion(.failure(.tooLarge(what: "value", bytes: bytes.count, limit: limits.valueBytesMax)))
        }
        let admitted: Admitted
        do throws(KVError) {
            try Self.checkStrongOptions(command.options)
            let operation: QuorumOperation = command.operation == .read ? .read : .write
            admitted = try admit(bucket: command.bucket, key: command.key, options: command.options, for: operation, holding: .strong)
        } catch {
            return completion(.failure(error))
        }
        let (primaries, incoming) = strongReplicas(command: command, admitted: admitted)
        let coordinator = StrongCoordinator(
            node: nodeID, primaries: primaries, incomingPrimaries: incoming, operation: command.operation,
            randomSeed: random.next(), faults: faults.has(.proposerLearnsFromMinority) ? .learnsFromMinority : [])
        let run = StrongRun(coordinator: coordinator, sweep: sweep, onDeadline: Self.strongDeadline) { [context] outcome in
            context.release()
            completion(Self.answer(outcome))
        }
        let timeout = Self.replicaTimeout(admitted.options.timeoutMilliseconds)
        let operation = StrongRequest(bucket: command.bucket, key: command.key, replicaTimeoutMilliseconds: timeout)
        performStrong(run.coordinator.start(at: context.tick()), run: run, request: operation)
        run.waitAtMost(milliseconds: admitted.options.timeoutMilliseconds)
    }

    /// A strong operation needs a majority of the key's n primaries, always: per-request
    /// settings that would change that are refused rather than ignored.
    static func checkStrongOptions(_ options: RequestOptions) throws(KVError) {
        let named = [("n", options.n != nil), ("r", options.r != nil), ("w", options.w != nil),
                     ("pr", options.pr != nil), ("pw", options.pw != nil)]
        guard let (name, _) = named.first(where: { $0.1 }) else { return }
        throw .badParameter(
            name: name,
            message: "\(name) can't be set on a strongly consistent bucket: every read and write needs a majority of the "
                + "key's n primaries (set n when creating the bucket); leave out n, r, w, pr and pw")
    }

    /// The key's primaries by the serving ring, and by the target ring when they differ.
    private func strongReplicas(command: StrongCommand, admitted: Admitted) -> ([String], [String]?) {
        let primaries = admitted.ring.preferenceList(bucket: command.bucket, key: command.key, n: admitted.options.n)
        let target = context.target
        guard target.members != admitted.ring.members else { return (primaries, nil) }
        let n = min(admitted.props.n, target.members.count)
        let incoming = target.preferenceList(bucket: command.bucket, key: command.key, n: n)
        return (primaries, incoming == primaries ? nil : incoming)
    }

    private typealias StrongRun = RequestRun<StrongCoordinator, StrongCoordinator.Outcome>

    private struct StrongRequest {
        var bucket: String
        var key: [UInt8]
        var replicaTimeoutMilliseconds: Int
    }

    private static func strongDeadline(_ coordinator: inout StrongCoordinator) -> StrongCoordinator.Outcome? {
        for case .finish(let outcome) in coordinator.deadlinePassed() { return outcome }
        return nil
    }

    private static func answer(_ outcome: StrongCoordinator.Outcome) -> Result<StrongAnswer, KVError> {
        switch outcome {
        case .succeeded(let value, let etag): return .success(.done(value: value, etag: etag))
        case .conditionFailed(let current, let etag): return .success(.conditionFailed(current: current, etag: etag))
        case .unavailable, .contended, .timedOut:
            return .failure(.unavailable(message: StrongCoordinator.failureMessage(of: outcome) ?? "the operation failed"))
        }
    }

    /// Carries out the proposer's actions and feeds each acceptor's answer back with the
    /// ballot it answers, so an answer to a round the proposer has left changes nothing.
    private func performStrong(_ actions: [StrongCoordinator.Action], run: StrongRun, request: StrongRequest) {
        for action in actions {
            switch action {
            case .prepare(let ballot, let nodes):
                let message = PeerRequest.paxosPrepare(bucket: request.bucket, key: request.key, ballot: ballot)
                askAcceptors(nodes, message, ballot: ballot, run: run, request: request)
            case .propose(let proposal, let nodes):
                let message = PeerRequest.paxosPropose(bucket: request.bucket, key: request.key, proposal: proposal)
                askAcceptors(nodes, message, ballot: proposal.ballot, run: run, request: request)
            case .commit(let commit, let nodes):
                let message = PeerRequest.paxosCommit(bucket: request.bucket, key: request.key, commit: commit)
                for node in nodes {
                    replicas.call(node, message, timeoutMilliseconds: request.replicaTimeoutMilliseconds) { _ in }
                }
            case .retry(let delay):
                _ = executor.schedule(afterMilliseconds: Int(delay)) { [self] in
                    guard !run.isFinished else { return }
                    if let seen = run.coordinator.highestBallotSeen { context.observe(seen.timestamp) }
                    performStrong(run.coordinator.start(at: context.tick()), run: run, request: request)
                }
            case .finish(let outcome):
                run.finish(outcome)
            }
        }
    }

    private func askAcceptors(
        _ nodes: [String], _ message: PeerRequest, ballot: PaxosBallot, run: StrongRun, request: StrongRequest
    ) {
        for node in nodes {
            replicas.call(node, message, timeoutMilliseconds: request.replicaTimeoutMilliseconds) { [self] response in
                // After the answer only a relearning replica's `notReady` still matters: a
                // finished read teaches it the value.
                guard !run.isFinished || response == .paxos(.notReady) else { return }
                let next: [StrongCoordinator.Action]
                if case .paxos(let reply)? = response {
                    if case .rejected(let promised) = reply { context.observe(promised.timestamp) }
                    next = run.coordinator.receive(reply, from: node, ballot: ballot)
                } else {
                    next = run.coordinator.receiveFailure(from: node, ballot: ballot)
                }
                performStrong(next, run: run, request: request)
            }
        }
    }
}
