import QuorumCore
import QuorumServices

/// One client: issues its planned requests one after another, each to its planned node,
/// and records every invocation and outcome in the history.
///
/// A write "with context" carries the context of this client's last read or write of the
/// key, as an HTTP client sends back `X-Context`; without one it is blind. A request to a
/// node that is down fails at once (connection refused), applied nowhere. Requests on
/// typed keys go through `SimulatedTypedRequests`, which remembers what they need.
final class SimulatedClient {
    let index: Int
    private let operations: [SimulationPlan.Operation]
    private var next = 0
    private var contexts: [String: VersionVector] = [:]
    private unowned let world: SimulatedWorld
    private(set) var isDone = false
    /// The client's requests on typed keys, with what it remembers of them.
    private let typed: SimulatedTypedRequests
    /// The client's requests on strong keys, with the values and etags it last saw.
    private let strong: SimulatedStrongRequests

    init(index: Int, operations: [SimulationPlan.Operation], world: SimulatedWorld) {
        typed = SimulatedTypedRequests(client: index)
        strong = SimulatedStrongRequests(client: index)
        self.index = index
        self.operations = operations
        self.world = world
    }

    func start() {
        issueNext()
    }

    private func issueNext() {
        guard next < operations.count else {
            isDone = true
            return
        }
        let operation = operations[next]
        next += 1
        world.schedule(after: operation.thinkMilliseconds) { [self] in issue(operation) }
    }

    private func issue(_ operation: SimulationPlan.Operation) {
        if operation.kind.isTyped {
            return typed.issue(operation, number: next - 1, in: world) { [self] in issueNext() }
        }
        if operation.kind.isStrong {
            return strong.issue(operation, number: next - 1, in: world) { [self] in issueNext() }
        }
        let name = operation.bucket + "/" + String(decoding: operation.key, as: UTF8.self)
        let kind: History.Kind
        var intent: WriteIntent?
        switch operation.kind {
        case .get:
            kind = .get
        case .put, .putWithContext, .putIfAbsent:
            kind = .put
            let value = Array("c\(index).\(next - 1)".utf8)
            // The coordinator turns the ttl into a deadline by its own clock, as a node does.
            let deadline = operation.ttlMilliseconds.map { world.nodes[operation.node].wallNow + $0 }
            intent = WriteIntent(
                value: value, contentType: "text/plain",
                context: operation.kind == .putWithContext ? contexts[name] ?? .empty : .empty, expiresAtMilliseconds: deadline)
        case .expire:
            return touch(operation, name: name)
        case .delete, .deleteWithContext:
            kind = .delete
            intent = .delete(context: operation.kind == .deleteWithContext ? contexts[name] ?? .empty : .empty)
        case .truncate:
            kind = .truncate
        case .typedRead, .typedReadSome, .increment, .setAdd, .setRemove, .setRemoveObserved, .mapSetField, .mapIncrementField,
            .mapRemoveField:
            preconditionFailure("typed requests go through SimulatedTypedRequests")
        case .strongRead, .strongWrite, .strongDelete, .strongIfEquals, .strongIfAbsent, .strongIfMatch:
            preconditionFailure("strong requests go through SimulatedStrongRequests")
        }
        let entry = world.history.begin(
            client: index, kind: kind, bucket: operation.bucket, key: operation.key, node: operation.node,
            options: operation.options, sloppy: operation.sloppy, value: intent?.value ?? [], context: intent?.context ?? .empty,
            createOnly: operation.kind == .putIfAbsent, at: world.now)
        let node = world.nodes[operation.node]
        guard node.isUp else {
            world.history.complete(entry, outcome: .failed(code: "unavailable"), at: world.now)
            return issueNext()
        }
        let completion: (ClientResult) -> Void = { [self] result in
            world.history.complete(entry, outcome: Self.outcome(result), at: world.now)
            switch result {
            case .read(let state): contexts[name] = state?.context ?? .empty
            case .written(_, let state, _): contexts[name] = state.context
            default: break
            }
            issueNext()
        }
        if operation.kind == .truncate {
            node.truncate(bucket: operation.bucket, completion: completion)
        } else if let intent {
            node.write(
                bucket: operation.bucket, key: operation.key, intent: intent, options: operation.options, sloppy: operation.sloppy,
                ifAbsent: operation.kind == .putIfAbsent, completion: completion)
        } else {
            node.get(bucket: operation.bucket, key: operation.key, options: operation.options, sloppy: operation.sloppy, completion: completion)
        }
    }

    /// An expiry change (`PEXPIRE key ttl`); its effect shows in the deadlines later reads
    /// return, which `ExpiryCheck` judges.
    private func touch(_ operation: SimulationPlan.Operation, name: String) {
        let entry = world.history.begin(
            client: index, kind: .expire, bucket: operation.bucket, key: operation.key, node: operation.node,
            options: operation.options, sloppy: operation.sloppy, value: Array("ttl=\(operation.ttlMilliseconds ?? 0)ms".utf8),
            context: .empty, at: world.now)
        let node = world.nodes[operation.node]
        guard node.isUp else {
            world.history.complete(entry, outcome: .failed(code: "unavailable"), at: world.now)
            return issueNext()
        }
        let deadline = node.wallNow + (operation.ttlMilliseconds ?? 0)
        let command = TouchCommand(
            bucket: operation.bucket, key: operation.key, change: .at(milliseconds: deadline), options: operation.options,
            sloppy: operation.sloppy)
        node.touch(command) { [self] result in
            world.history.complete(entry, outcome: Self.outcome(result), at: world.now)
            issueNext()
        }
    }

    static func outcome(_ result: ClientResult) -> History.Outcome {
        switch result {
        case .read(let state): return .read(state)
        case .written(let version, let state, let acknowledgedBy):
            return .written(version: version, state: state, acknowledgedBy: acknowledgedBy)
        case .failed(let error): return .failed(code: error.code)
        case .indeterminate: return .indeterminate
        case .truncated(let point): return .truncated(point: point)
        case .touched(let applied): return .touched(applied: applied)
        case .typedUpdated(let reply, let acknowledgedBy): return .typedUpdated(reply: reply, acknowledgedBy: acknowledgedBy)
        case .typedRead(let state): return .typedRead(state)
        case .strong(let answer): return .strongAnswered(answer)
        }
    }
}
