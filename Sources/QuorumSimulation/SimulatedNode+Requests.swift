import QuorumCore

/// What a client request came to, as the simulated node reports it: the raw states, so
/// the checkers can compare versions rather than rendered answers.
enum ClientResult {
    case read(KeyState?)
    case written(version: Sibling, state: KeyState)
    case failed(KVError)
    /// The coordinator crashed before answering.
    case indeterminate
}

/// One coordinated request: the core coordinator, whether the client has its answer, and
/// (for writes) which lead committed the version.
final class CoordinatedRun<Coordinator> {
    var coordinator: Coordinator
    var finished = false
    var lead: String?
    let requestNumber: UInt64
    let completion: (ClientResult) -> Void

    init(coordinator: Coordinator, requestNumber: UInt64, completion: @escaping (ClientResult) -> Void) {
        self.coordinator = coordinator
        self.requestNumber = requestNumber
        self.completion = completion
    }
}

/// The coordinator side of a node, step for step as `RequestCoordinator`: resolve the
/// options, plan the replica slots, run a `GetCoordinator` or `PutCoordinator`, send what
/// it asks, feed the answers back, and repair after reads.
extension SimulatedNode {
    // MARK: Reads

    func get(bucket: String, key: [UInt8], options: RequestOptions, sloppy: Bool, completion: @escaping (ClientResult) -> Void) {
        let props = world.props(for: bucket)
        let resolved: ResolvedOptions
        do {
            resolved = try options.resolve(props: props, clusterSize: world.ring.members.count, limits: limits, for: .read)
        } catch {
            return completion(.failed(error))
        }
        let plan = replicaPlan(bucket: bucket, key: key, n: resolved.n, sloppy: sloppy)
        let run = open(GetCoordinator(plan: plan, options: resolved, mode: props.conflict), completion: completion)
        armDeadline(resolved.timeoutMilliseconds, run: run) { coordinator in
            let outcome = coordinator.deadlinePassed()
            return outcome == .pending ? nil : Self.result(outcome)
        }
        for node in run.coordinator.initialNodes {
            fetch(from: node, bucket: bucket, key: key, mode: props.conflict, run: run, timeoutMilliseconds: resolved.timeoutMilliseconds)
        }
    }

    private func fetch(
        from node: String, bucket: String, key: [UInt8], mode: ConflictMode, run: CoordinatedRun<GetCoordinator>,
        timeoutMilliseconds: Int
    ) {
        call(node, .fetch(bucket: bucket, key: key), timeoutMilliseconds: Self.replicaTimeout(timeoutMilliseconds)) { [self] response in
            let step: GetCoordinator.Step
            if case .state(let state)? = response {
                step = .outcome(run.coordinator.receive(state: state, from: node))
            } else {
                step = run.coordinator.receiveFailure(from: node)
            }
            let repair = run.coordinator.takeReadRepair()
            switch step {
            case .outcome(let outcome):
                if outcome != .pending { finish(run, Self.result(outcome)) }
            case .ask(let standIn, let outcome):
                if outcome != .pending { finish(run, Self.result(outcome)) }
                fetch(from: standIn, bucket: bucket, key: key, mode: mode, run: run, timeoutMilliseconds: timeoutMilliseconds)
            }
            if let repair { readRepair(bucket: bucket, key: key, mode: mode, state: repair.state, nodes: repair.nodes) }
        }
    }

    /// Sends the merged state to the primaries that answered with less; nobody waits.
    private func readRepair(bucket: String, key: [UInt8], mode: ConflictMode, state: KeyState, nodes: [String]) {
        var sent = state
        if world.config.bug == .readRepairDropsSiblings, state.siblings.count > 1 {
            // The deliberate bug: keep only the newest sibling, under the full context.
            let newest = state.siblings.max { $1.isNewer(than: $0) }!
            sent = KeyState(clock: state.clock, siblings: [newest])
        }
        for node in nodes {
            call(node, .merge(bucket: bucket, key: key, state: sent, mode: mode),
                 timeoutMilliseconds: UInt64(limits.requestTimeoutMillisecondsDefault)) { _ in }
        }
    }

    private static func result(_ outcome: GetCoordinator.Outcome) -> ClientResult {
        switch outcome {
        case .succeeded(let state, _): return .read(state)
        case .failed(let error): return .failed(error)
        case .pending: return .failed(.internalError(message: "read finished without an outcome"))
        }
    }

    // MARK: Writes

    func write(
        bucket: String, key: [UInt8], intent: WriteIntent, options: RequestOptions, sloppy: Bool,
        completion: @escaping (ClientResult) -> Void
    ) {
        let props = world.props(for: bucket)
        let resolved: ResolvedOptions
        do {
            resolved = try options.resolve(props: props, clusterSize: world.ring.members.count, limits: limits, for: .write)
        } catch {
            return completion(.failed(error))
        }
        let timestamp = hlc.tick(nowMilliseconds: wallNow)
        var lwwVersion: Sibling?
        if props.conflict == .lww {
            lwwVersion = Sibling(
                dot: Dot(actor: actorID, counter: 0), value: intent.value, contentType: intent.contentType,
                isTombstone: intent.isTombstone, timestamp: timestamp)
        }
        let plan = replicaPlan(bucket: bucket, key: key, n: resolved.n, sloppy: sloppy)
        let coordinator = PutCoordinator(
            plan: plan, options: resolved, mode: props.conflict, localNode: id, lwwVersion: lwwVersion)
        let run = open(coordinator, completion: completion)
        let request = WriteRequest(
            bucket: bucket, key: key, intent: intent, mode: props.conflict, timestamp: timestamp,
            timeoutMilliseconds: resolved.timeoutMilliseconds, lwwVersion: lwwVersion)
        armDeadline(resolved.timeoutMilliseconds, run: run) { [self] coordinator in
            Self.finishing(coordinator.deadlinePassed()).map { writeResult($0, run: run, request: request) }
        }
        perform(run.coordinator.start(), run: run, request: request)
    }

    struct WriteRequest {
        var bucket: String
        var key: [UInt8]
        var intent: WriteIntent
        var mode: ConflictMode
        var timestamp: HLCTimestamp
        var timeoutMilliseconds: Int
        var lwwVersion: Sibling?
    }

    /// Carries out a write coordinator's actions in order and feeds the answers back.
    private func perform(_ actions: [PutCoordinator.Action], run: CoordinatedRun<PutCoordinator>, request: WriteRequest) {
        let timeout = Self.replicaTimeout(request.timeoutMilliseconds)
        for action in actions {
            switch action {
            case .askLead(let node):
                let message = PeerRequest.coordinateWrite(
                    bucket: request.bucket, key: request.key, intent: request.intent, mode: request.mode,
                    timestamp: request.timestamp, ifAbsent: false)
                call(node, message, timeoutMilliseconds: timeout) { [self] response in
                    let next: [PutCoordinator.Action]
                    switch response {
                    case .state(let state?)?:
                        next = run.coordinator.leadSucceeded(node: node, newState: state)
                        if !next.isEmpty { run.lead = node }
                    case .failure(let code, let message)?:
                        next = run.coordinator.leadFailed(
                            node: node, error: ReplicaWrite.clientError(code: code, message: message, limits: limits))
                    default:
                        next = run.coordinator.leadFailed(node: node, error: nil)
                    }
                    perform(next, run: run, request: request)
                }
            case .replicate(let state, let targets):
                if world.config.bug == .acknowledgeBeforeQuorum {
                    // The deliberate bug: the client hears "ok" before any copy is acknowledged.
                    finish(run, writeResult(.succeeded(state: state, acks: 0), run: run, request: request))
                }
                for target in targets {
                    let node = target.node
                    let message = target.hintFor.map { primary in
                        PeerRequest.storeHint(target: primary, bucket: request.bucket, key: request.key, state: state, mode: request.mode)
                    } ?? .merge(bucket: request.bucket, key: request.key, state: state, mode: request.mode)
                    call(node, message, timeoutMilliseconds: timeout) { [self] response in
                        let next: [PutCoordinator.Action]
                        if case .ack? = response {
                            next = run.coordinator.replicaAcked(node: node)
                        } else {
                            next = run.coordinator.replicaFailed(node: node)
                        }
                        perform(next, run: run, request: request)
                    }
                }
            case .finish(let outcome):
                finish(run, writeResult(outcome, run: run, request: request))
            }
        }
    }

    /// The client's answer, with the exact version the write created: the coordinator's
    /// stamped version in `lww`, the lead's new dot in `vclock`.
    private func writeResult(_ outcome: PutCoordinator.Outcome, run: CoordinatedRun<PutCoordinator>, request: WriteRequest) -> ClientResult {
        switch outcome {
        case .failed(let error):
            return .failed(error)
        case .succeeded(let state, _):
            if let version = request.lwwVersion { return .written(version: version, state: state) }
            guard let lead = run.lead, let actor = world.node(lead)?.actorID,
                let version = state.siblings.first(where: { $0.dot == Dot(actor: actor, counter: state.clock[actor]) })
            else {
                preconditionFailure("seed \(world.seed): a vclock write succeeded without its lead's new version in \(state)")
            }
            return .written(version: version, state: state)
        }
    }

    private static func finishing(_ actions: [PutCoordinator.Action]) -> PutCoordinator.Outcome? {
        for case .finish(let outcome) in actions { return outcome }
        return nil
    }

    // MARK: Shared

    /// The key's replica slots, with stand-ins past the preference list when sloppy; down
    /// is what this node's failure detector believes.
    private func replicaPlan(bucket: String, key: [UInt8], n: Int, sloppy: Bool) -> ReplicaPlan {
        let ring = world.ring
        let partition = ring.partition(bucket: bucket, key: key)
        return ReplicaPlan(
            primaries: ring.preferenceList(partition: partition, n: n), fallbacks: ring.fallbacks(partition: partition, n: n),
            down: gossip.unreachable(nowMilliseconds: wallNow), sloppy: sloppy)
    }

    /// Half the request's time, so a stand-in still has the other half.
    private static func replicaTimeout(_ requestTimeoutMilliseconds: Int) -> UInt64 {
        UInt64(max(1, requestTimeoutMilliseconds / 2))
    }

    private func open<C>(_ coordinator: C, completion: @escaping (ClientResult) -> Void) -> CoordinatedRun<C> {
        let number = nextRequest
        nextRequest += 1
        let run = CoordinatedRun(coordinator: coordinator, requestNumber: number, completion: completion)
        openRequests[number] = { [run] in
            guard !run.finished else { return }
            run.finished = true
            run.completion(.indeterminate)
        }
        return run
    }

    private func finish<C>(_ run: CoordinatedRun<C>, _ result: ClientResult) {
        guard !run.finished else { return }
        run.finished = true
        openRequests[run.requestNumber] = nil
        run.completion(result)
    }

    private func armDeadline<C>(_ milliseconds: Int, run: CoordinatedRun<C>, onDeadline: @escaping (inout C) -> ClientResult?) {
        let armed = incarnation
        world.schedule(after: UInt64(milliseconds)) { [self] in
            guard incarnation == armed, !run.finished else { return }
            if let result = onDeadline(&run.coordinator) { finish(run, result) }
        }
    }
}
