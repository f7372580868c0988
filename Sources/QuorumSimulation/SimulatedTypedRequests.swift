import QuorumCore
import QuorumServices

/// A client's requests on typed keys (issue #16): turns each planned typed operation into
/// a `TypedOperation` or a typed read, sends it, and records invocation and outcome.
///
/// The workload is shaped so the checks can tell what must hold without guessing:
/// - every increment carries a unique operation id (a message the network duplicates is
///   deduplicated at its lead; the checks bound the value by acknowledged and attempted sums);
/// - every set element is added once, by one request, and removed only by the client that
///   added it, after a read of its own showed it present: an element no remove named must
///   be present at the end (add wins);
/// - each client owns one map register field (`c<client>`), set to unique values and removed
///   only by it; the map's counter field (`n`) is only ever incremented.
final class SimulatedTypedRequests {
    private let client: Int
    /// Per key (bucket/key): the elements this client added, in order, and those it removed.
    private var added: [String: [[UInt8]]] = [:]
    private var removed: [String: Set<[UInt8]>] = [:]
    /// Per key: this client's last successful read of it.
    private var lastRead: [String: TypedState] = [:]

    init(client: Int) {
        self.client = client
    }

    /// The map field this client owns, and the one every client increments.
    static func ownField(client: Int) -> [UInt8] { Array("c\(client)".utf8) }
    static let sharedCounterField = Array("n".utf8)

    /// Issues `operation` (the client's `number`th) on `node`; `done` runs once it answered.
    func issue(_ operation: SimulationPlan.Operation, number: Int, in world: SimulatedWorld, done: @escaping () -> Void) {
        let name = operation.bucket + "/" + String(decoding: operation.key, as: UTF8.self)
        let unique = Array("c\(client).\(number)".utf8)
        var typed: TypedOperation?
        var members: MemberSelection = .all
        switch operation.kind {
        case .increment:
            typed = .increment(by: operation.amount, operationID: unique)
        case .setAdd:
            typed = .setAdd([unique])
            added[name, default: []].append(unique)
        case .setRemove, .setRemoveObserved:
            // The newest element this client added, last read present, and not removed yet;
            // with none, the request is a read instead (which may find one for later).
            let seen = lastRead[name]
            if let element = added[name]?.reversed().first(where: { seen?.contains($0) == true && removed[name]?.contains($0) != true }),
                let seen
            {
                typed = operation.kind == .setRemove ? .setRemove([element]) : .setRemoveObserved([element], context: seen.context)
                removed[name, default: []].insert(element)
            }
        case .mapSetField:
            typed = .mapUpdate([.setRegister(field: Self.ownField(client: client), value: unique)])
        case .mapIncrementField:
            typed = .mapUpdate([.incrementCounter(field: Self.sharedCounterField, by: operation.amount)])
        case .mapRemoveField:
            typed = .mapUpdate([.removeField(field: Self.ownField(client: client))])
        case .typedReadSome:
            // The members this client wrote: its newest elements, or its field and the counter field.
            if operation.bucket == SimulatedBuckets.map {
                members = .listed([Self.ownField(client: client), Self.sharedCounterField])
            } else {
                members = .listed(Array((added[name] ?? [unique]).suffix(4)))
            }
        default:
            break
        }
        let entry = world.history.begin(
            client: client, kind: typed == nil ? .typedRead : .typedUpdate, bucket: operation.bucket, key: operation.key,
            node: operation.node, options: operation.options, sloppy: operation.sloppy, value: [], context: .empty, typed: typed,
            members: typed == nil ? members : nil, at: world.now)
        let node = world.nodes[operation.node]
        guard node.isUp else {
            world.history.complete(entry, outcome: .failed(code: "unavailable"), at: world.now)
            return done()
        }
        let completion: (ClientResult) -> Void = { [self] result in
            world.history.complete(entry, outcome: SimulatedClient.outcome(result), at: world.now)
            if case .typedRead(let state) = result { lastRead[name] = state }
            done()
        }
        if let typed {
            let command = TypedUpdateCommand(
                bucket: operation.bucket, key: operation.key, operation: typed, options: operation.options, sloppy: operation.sloppy)
            node.updateTyped(command, completion: completion)
        } else {
            node.readTyped(
                bucket: operation.bucket, key: operation.key, members: members, options: operation.options, sloppy: operation.sloppy,
                completion: completion)
        }
    }
}
