import QuorumCore

/// The coordinator's data path: checks a client's read or write, plans the key's replica
/// slots, runs a `GetCoordinator` or `PutCoordinator`, sends what it asks for, feeds the
/// answers back, tells the client once, and repairs stale replicas after reads.
///
/// The same lines run in the real node (one driver per event loop, each on its loop) and
/// in the simulator (one per simulated node, on the agenda). Every method must be called
/// on `executor`; answers come back on it.
///
/// A request costs no timer: those still waiting after their first calls are bounded by
/// the driver's `DeadlineSweep`, so a request that gets too few answers fails no sooner
/// than its timeout and at most `deadlineGranularityMilliseconds` after it. Replica plans
/// come from a `ReplicaPlanCache`, rebuilt only when the ring or the unreachable peers change.
public final class RequestDriver {
    public let nodeID: String
    let limits: Limits
    let readRepairProbability: Double
    let replicas: any ReplicaCaller
    let context: any RequestContext
    let random: any RandomSource
    let faults: FaultPoints
    let sweep: DeadlineSweep
    /// Where retries of strong operations wait out their back-off.
    let executor: any ServiceExecutor
    private(set) var plans: ReplicaPlanCache

    public init(
        nodeID: String, limits: Limits, readRepairProbability: Double, executor: any ServiceExecutor,
        replicas: any ReplicaCaller, context: any RequestContext, random: any RandomSource, faults: FaultPoints = .inert,
        deadlineGranularityMilliseconds: Int = ServiceDefaults.requestDeadlineGranularityMilliseconds,
        replicaPlansCachedMax: Int = ServiceDefaults.replicaPlansCachedMax
    ) {
        self.nodeID = nodeID
        self.limits = limits
        self.readRepairProbability = readRepairProbability
        self.replicas = replicas
        self.context = context
        self.random = random
        self.faults = faults
        self.executor = executor
        sweep = DeadlineSweep(executor: executor, granularityMilliseconds: deadlineGranularityMilliseconds)
        plans = ReplicaPlanCache(entriesMax: replicaPlansCachedMax)
    }

    // MARK: Reads

    public func get(
        bucket: String, key: [UInt8], options: RequestOptions, sloppy: Bool,
        completion: @escaping (Result<ReadOutcome, KVError>) -> Void
    ) {
        let admitted: Admitted
        do throws(KVError) {
            admitted = try admit(bucket: bucket, key: key, options: options, for: .read)
        } catch {
            return completion(.failure(error))
        }
        let plan = replicaPlan(ring: admitted.ring, bucket: bucket, key: key, n: admitted.options.n, sloppy: sloppy)
        let coordinator = GetCoordinator(plan: plan, options: admitted.options, mode: admitted.props.conflict)
        let run = ReadRun<KeyState>(coordinator: coordinator, sweep: sweep, onDeadline: Self.readDeadline) { [context] outcome in
            context.release()
            switch outcome {
            case .succeeded(let state, let replies): completion(.success(ReadOutcome(state: state, replies: replies)))
            case .failed(let error): completion(.failure(error))
            case .pending: completion(.failure(.internalError(message: "read finished without an outcome")))
            }
        }
        let read = KeyRead(bucket: bucket, key: key, mode: admitted.props.conflict, timeoutMilliseconds: admitted.options.timeoutMilliseconds)
        for node in coordinator.initialNodes { fetch(from: node, read: read, run: run) }
        // A read answered by local replicas alone is done already and never waits.
        run.waitAtMost(milliseconds: read.timeoutMilliseconds)
    }

    typealias ReadRun<State: ReplicaState> = RequestRun<GetCoordinator<State>, GetCoordinator<State>.Outcome>

    static func readDeadline<State>(_ coordinator: inout GetCoordinator<State>) -> GetCoordinator<State>.Outcome? {
        let outcome = coordinator.deadlinePassed()
        return outcome == .pending ? nil : outcome
    }

    /// Feeds one replica slot's answer to a read's coordinator (`state` nil with `answered`
    /// false: the node failed or timed out) and finishes the read once it is decided.
    /// Answers the stand-in to ask in the failed node's place, and, once every slot has
    /// answered, the joined state and the replicas that answered less (read repair).
    func readAnswered<State>(
        _ state: State?, answered: Bool, from node: String, run: ReadRun<State>
    ) -> (standIn: String?, repair: (state: State, nodes: [String])?) {
        let step = answered
            ? GetCoordinator<State>.Step.outcome(run.coordinator.receive(state: state, from: node))
            : run.coordinator.receiveFailure(from: node)
        let repair = run.coordinator.takeReadRepair()
        switch step {
        case .outcome(let outcome):
            finishRead(run, outcome)
            return (nil, repair)
        case .ask(let standIn, let outcome):
            finishRead(run, outcome)
            return (standIn, repair)
        }
    }

    private struct KeyRead {
        var bucket: String
        var key: [UInt8]
        var mode: ConflictMode
        var timeoutMilliseconds: Int
    }

    /// Asks one replica slot's node; a failure may hand the slot to a stand-in, asked in turn.
    private func fetch(from node: String, read: KeyRead, run: ReadRun<KeyState>) {
        let request = PeerRequest.fetch(bucket: read.bucket, key: read.key)
        replicas.call(node, request, timeoutMilliseconds: Self.replicaTimeout(read.timeoutMilliseconds)) { [self] response in
            let (state, answered): (KeyState?, Bool) = if case .state(let state)? = response { (state, true) } else { (nil, false) }
            let (standIn, repair) = readAnswered(state, answered: answered, from: node, run: run)
            if let standIn { fetch(from: standIn, read: read, run: run) }
            if let repair { readRepair(read, state: repair.state, nodes: repair.nodes) }
        }
    }

    private func finishRead<State>(_ run: ReadRun<State>, _ outcome: GetCoordinator<State>.Outcome) {
        if outcome != .pending { return run.finish(outcome) }
        if faults.has(.readAnswersAfterOneReply), !run.coordinator.answers.isEmpty {
            // The deliberate bug: answer with the replies so far, whatever r asked for.
            run.finish(.succeeded(run.coordinator.merged, replies: run.coordinator.answers.count))
        }
    }

    /// Sends the merged version to replicas that answered with older ones, on the sampled
    /// share of reads. Runs after the client has its answer; a failed repair is left to the
    /// next read or to anti-entropy.
    private func readRepair(_ read: KeyRead, state: KeyState, nodes: [String]) {
        guard readRepairProbability >= 1 || random.nextUnit() < readRepairProbability else { return }
        var sent = state
        if faults.has(.readRepairDropsSiblings), let newest = state.siblings.max(by: { $1.isNewer(than: $0) }) {
            sent = KeyState(clock: state.clock, siblings: [newest])  // the deliberate bug
        }
        context.readRepairSent(replicas: nodes.count)
        let request = PeerRequest.merge(bucket: read.bucket, key: read.key, state: sent, mode: read.mode)
        for node in nodes {
            replicas.call(node, request, timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { _ in }
        }
    }

    // MARK: Writes

    /// Writes a value or a tombstone (`command.intent`).
    public func write(_ command: WriteCommand, completion: @escaping (Result<WriteOutcome, KVError>) -> Void) {
        if !command.intent.isTombstone, command.intent.value.count > limits.valueBytesMax {
            return completion(.failure(.tooLarge(what: "value", bytes: command.intent.value.count, limit: limits.valueBytesMax)))
        }
        let admitted: Admitted
        do throws(KVError) {
            admitted = try admit(bucket: command.bucket, key: command.key, options: command.options, for: .write)
        } catch {
            return completion(.failure(error))
        }
        let write = KeyWrite(command: command, mode: admitted.props.conflict, timestamp: context.tick(), options: admitted.options)
        let lwwVersion = write.mode == .lww ? write.lwwVersion(actor: context.actorID) : nil
        let coordinator = PutCoordinator(
            plan: replicaPlan(
                ring: admitted.ring, bucket: command.bucket, key: command.key, n: admitted.options.n, sloppy: command.sloppy),
            options: admitted.options, mode: write.mode, localNode: nodeID, lwwVersion: lwwVersion, leadRequired: command.ifAbsent)
        let run = WriteRun(coordinator: coordinator, sweep: sweep, onDeadline: Self.writeDeadline) { [context] outcome in
            context.release()
            switch outcome {
            case .succeeded(let state, let acks, let lead, let acknowledged):
                completion(.success(WriteOutcome(
                    state: state, acks: acks, lead: lead, lwwVersion: lwwVersion, acknowledged: acknowledged)))
            case .failed(let error):
                completion(.failure(error))
            }
        }
        perform(run.coordinator.start(), run: run, write: write)
        run.waitAtMost(milliseconds: write.options.timeoutMilliseconds)
    }

    private static func writeDeadline(_ coordinator: inout PutCoordinator<KeyState>) -> WriteRunOutcome? {
        finishing(coordinator.deadlinePassed()).map { WriteRunOutcome($0, lead: nil, plan: coordinator.plan) }
    }

    private struct KeyWrite {
        var command: WriteCommand
        var mode: ConflictMode
        var timestamp: HLCTimestamp
        var options: ResolvedOptions

        func lwwVersion(actor: String) -> Sibling {
            Sibling(
                dot: Dot(actor: actor, counter: 0), value: command.intent.value, contentType: command.intent.contentType,
                isTombstone: command.intent.isTombstone, timestamp: timestamp, expiry: command.intent.expiry(stampedAt: timestamp))
        }

        var leadRequest: PeerRequest {
            .coordinateWrite(
                bucket: command.bucket, key: command.key, intent: command.intent, mode: mode, timestamp: timestamp,
                ifAbsent: command.ifAbsent)
        }

        func copy(_ state: KeyState, to target: ReplicaTarget) -> PeerRequest {
            guard let primary = target.hintFor else { return .merge(bucket: command.bucket, key: command.key, state: state, mode: mode) }
            return .storeHint(target: primary, bucket: command.bucket, key: command.key, state: state, mode: mode)
        }
    }

    private typealias WriteRun = RequestRun<PutCoordinator<KeyState>, WriteRunOutcome>

    /// A write coordinator's outcome plus the lead that made its version.
    private enum WriteRunOutcome {
        case succeeded(state: KeyState, acks: Int, lead: String?, acknowledged: [ReplicaPlan.Slot])
        case failed(KVError)

        init(_ outcome: PutCoordinator<KeyState>.Outcome, lead: String?, plan: ReplicaPlan) {
            switch outcome {
            case .succeeded(let state, let acks):
                self = .succeeded(state: state, acks: acks, lead: lead, acknowledged: plan.slots.filter { $0.status == .answered })
            case .failed(let error): self = .failed(error)
            }
        }
    }

    /// Carries out a write coordinator's actions in order and feeds the answers back.
    private func perform(_ actions: [PutCoordinator<KeyState>.Action], run: WriteRun, write: KeyWrite, lead: String? = nil) {
        let timeout = Self.replicaTimeout(write.options.timeoutMilliseconds)
        for action in actions {
            switch action {
            case .askLead(let node):
                replicas.call(node, write.leadRequest, timeoutMilliseconds: timeout) { [self] response in
                    leadAnswered(node, response, run: run, write: write)
                }
            case .replicate(let state, let targets):
                if faults.has(.acknowledgeBeforeQuorum) {
                    run.finish(.succeeded(state: state, acks: 0, lead: lead, acknowledged: []))  // the deliberate bug
                }
                for target in targets {
                    replicas.call(target.node, write.copy(state, to: target), timeoutMilliseconds: timeout) { [self] response in
                        let acknowledged = response == .ack || faults.has(.failedReplicaCountsAsAck)
                        let next = acknowledged
                            ? run.coordinator.replicaAcked(node: target.node) : run.coordinator.replicaFailed(node: target.node)
                        perform(next, run: run, write: write, lead: lead)
                    }
                }
            case .finish(let outcome):
                run.finish(WriteRunOutcome(outcome, lead: lead, plan: run.coordinator.plan))
            }
        }
    }

    private func leadAnswered(_ node: String, _ response: PeerResponse?, run: WriteRun, write: KeyWrite) {
        let next: [PutCoordinator<KeyState>.Action]
        switch response {
        case .state(let state?)?:
            next = run.coordinator.leadSucceeded(node: node, newState: state)
        case .failure(let code, let message)?:
            next = run.coordinator.leadFailed(node: node, error: ReplicaWrite.clientError(code: code, message: message, limits: limits))
        default:
            next = run.coordinator.leadFailed(node: node, error: nil)
        }
        perform(next, run: run, write: write, lead: node)
    }

    private static func finishing(_ actions: [PutCoordinator<KeyState>.Action]) -> PutCoordinator<KeyState>.Outcome? {
        for case .finish(let outcome) in actions { return outcome }
        return nil
    }

    // MARK: Expiry changes

    /// Changes a key's expiry (`EXPIRE`, `PERSIST`, ...): reads at the request's r, plans
    /// the change on what it read (`ExpiryTouch`, judged at `nowMilliseconds`, this node's
    /// wall clock) and merges the touched state into the replicas at w. Answers whether
    /// the change applied; a change that does not apply writes nothing.
    public func touch(_ command: TouchCommand, nowMilliseconds: UInt64, completion: @escaping (Result<Bool, KVError>) -> Void) {
        get(bucket: command.bucket, key: command.key, options: command.options, sloppy: command.sloppy) { [self] result in
            let read: ReadOutcome
            switch result {
            case .success(let outcome): read = outcome
            case .failure(let error): return completion(.failure(error))
            }
            guard let touched = ExpiryTouch.plan(
                read: read.state, change: command.change, conditions: command.conditions, nowMilliseconds: nowMilliseconds,
                stamp: context.tick())
            else { return completion(.success(false)) }
            let admitted: Admitted
            do throws(KVError) {
                admitted = try admit(bucket: command.bucket, key: command.key, options: command.options, for: .write)
            } catch {
                return completion(.failure(error))
            }
            let coordinator = PutCoordinator(
                plan: replicaPlan(
                    ring: admitted.ring, bucket: command.bucket, key: command.key, n: admitted.options.n, sloppy: command.sloppy),
                options: admitted.options, merging: touched)
            let run = WriteRun(coordinator: coordinator, sweep: sweep, onDeadline: Self.writeDeadline) { [context] outcome in
                context.release()
                switch outcome {
                case .succeeded: completion(.success(true))
                case .failed(let error): completion(.failure(error))
                }
            }
            let intent = WriteIntent(value: [], contentType: "")
            let write = KeyWrite(
                command: WriteCommand(
                    bucket: command.bucket, key: command.key, intent: intent, options: command.options, sloppy: command.sloppy),
                mode: admitted.props.conflict, timestamp: touched.siblings.map(\.expiry.stamp).max() ?? .zero,
                options: admitted.options)
            perform(run.coordinator.start(), run: run, write: write)
            run.waitAtMost(milliseconds: write.options.timeoutMilliseconds)
        }
    }

    // MARK: Shared

    /// A checked request: its bucket's props, its resolved options, and the ring it is
    /// placed by from start to end.
    struct Admitted {
        var props: BucketProps
        var options: ResolvedOptions
        var ring: Ring
    }

    /// Checks the request and claims an admission slot (given back when the run finishes).
    func admit(
        bucket: String, key: [UInt8], options: RequestOptions, for operation: QuorumOperation, holding: BucketHolding = .plain
    ) throws(KVError) -> Admitted {
        try validateBucketName(bucket, limits: limits)
        guard !key.isEmpty else { throw .badParameter(name: "key", message: "the key is empty; keys are 1 to \(limits.keyBytesMax) bytes") }
        guard key.count <= limits.keyBytesMax else { throw .tooLarge(what: "key", bytes: key.count, limit: limits.keyBytesMax) }
        let props = context.props(for: bucket)
        try holding.check(props, bucket: bucket)
        let ring = context.serving
        let resolved = try options.resolve(props: props, clusterSize: ring.members.count, limits: limits, for: operation)
        guard context.admit() else {
            throw .overloaded(
                message: "this node is coordinating \(limits.coordinatedRequestsMax) requests already; retry shortly or spread requests over more nodes")
        }
        return Admitted(props: props, options: resolved, ring: ring)
    }

    /// The key's replica slots: its preference list, with stand-ins past it when sloppy.
    func replicaPlan(ring: Ring, bucket: String, key: [UInt8], n: Int, sloppy: Bool) -> ReplicaPlan {
        plans.plan(ring: ring, partition: ring.partition(bucket: bucket, key: key), n: n, sloppy: sloppy, context: context)
    }

    /// How long one replica may take before its slot moves to a stand-in: half the
    /// request's time, so the stand-in still has the other half.
    static func replicaTimeout(_ requestTimeoutMilliseconds: Int) -> Int {
        max(1, requestTimeoutMilliseconds / 2)
    }
}
