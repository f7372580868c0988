@testable import QuorumCore

/// A tiny world of replicas for property tests: each replica holds a full typed state and
/// a decomposed copy (header + member rows, as storage keeps it); an operation at one
/// replica makes a delta that is queued for every other replica and delivered in a random
/// order, possibly more than once.
struct TypedWorld {
    struct Replica {
        var actor: String
        var state: TypedState
        var header: TypedHeader?
        var rows: [[UInt8]: Member] = [:]
    }

    struct Message {
        var target: Int
        var delta: TypedState
        var isFull: Bool
    }

    var replicas: [Replica]
    var pending: [Message] = []
    var deltas: [(delta: TypedState, isFull: Bool)] = []
    var rng: SplitMix64
    let datatype: DataType
    let limits: Limits
    var clock: UInt64 = 1
    /// Sum of increments acknowledged (counter worlds, no resets).
    var incremented: Int64 = 0
    /// Operations whose delta from the partial stored state (header + touched rows)
    /// differed from the one from the whole state; must stay 0.
    var partialLeadMismatches = 0

    init(datatype: DataType, replicaCount: Int, seed: UInt64, limits: Limits = .defaults) {
        self.datatype = datatype
        self.limits = limits
        rng = SplitMix64(seed: seed)
        replicas = (0..<replicaCount).map { Replica(actor: "actor-\($0)", state: TypedState(datatype: datatype)) }
    }

    static let elements: [[UInt8]] = (0..<6).map { Array("e\($0)".utf8) }

    mutating func randomOperation(allowReset: Bool) -> TypedOperation {
        let element = { (rng: inout SplitMix64) in TypedWorld.elements[Int.random(in: 0..<TypedWorld.elements.count, using: &rng)] }
        if allowReset && Int.random(in: 0..<20, using: &rng) == 0 { return .reset }
        switch datatype {
        case .counter:
            return .increment(by: Int64.random(in: -5...9, using: &rng), operationID: nil)
        case .set:
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: return .setRemove([element(&rng)])
            default: return .setAdd([element(&rng), element(&rng)])
            }
        case .map:
            let field = element(&rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: return .mapUpdate([.setRegister(field: field, value: Array("\(Int.random(in: 0..<50, using: &rng))".utf8))])
            case 1: return .mapUpdate([.incrementCounter(field: field, by: Int64.random(in: -3...3, using: &rng))])
            case 2: return .mapUpdate([.enableFlag(field: field)])
            case 3: return .mapUpdate([.removeField(field: field)])
            default: return .mapUpdate([.setRegister(field: field, value: Array("x".utf8)), .incrementCounter(field: element(&rng), by: 1)])
            }
        }
    }

    /// Applies `op` at replica `index` (as its lead), queues the delta for the others.
    @discardableResult
    mutating func update(_ op: TypedOperation, at index: Int) throws(KVError) -> TypedDelta {
        clock += 1
        let stamp = HLCTimestamp(physicalMilliseconds: clock, logical: 0)
        let replica = replicas[index]
        let result = try TypedState.delta(applying: op, actor: replica.actor, stamp: stamp, current: replica.state, limits: limits)
        // The lead in a real node reads only the header and the touched member rows.
        let header = replica.header ?? TypedHeader(datatype: datatype)
        var touched: [[UInt8]: Member] = [:]
        switch op.touchedMembers {
        case .all: touched = replica.rows
        case .listed(let keys): for key in keys { touched[key] = replica.rows[key] }
        }
        let partial = try TypedState.delta(
            applying: op, actor: replica.actor, stamp: stamp, current: TypedState(header: header, members: touched),
            memberCount: Int(header.memberCount), limits: limits)
        if partial != result { partialLeadMismatches += 1 }
        if case .increment(let by, _) = op, result.delta.context != .empty { incremented += by }
        deliver(result.delta, isFull: result.isFull, to: index)
        deltas.append((result.delta, result.isFull))
        for target in replicas.indices where target != index {
            pending.append(Message(target: target, delta: result.delta, isFull: result.isFull))
        }
        return result
    }

    /// Joins a state into replica `index`, both whole and decomposed.
    mutating func deliver(_ incoming: TypedState, isFull: Bool, to index: Int) {
        replicas[index].state = replicas[index].state.joined(with: incoming, isFull: isFull)
        let keys: [[UInt8]]
        switch TypedState.selection(forJoining: incoming, isFull: isFull) {
        case .all: keys = Array(replicas[index].rows.keys)
        case .listed(let listed): keys = listed
        }
        var selected: [[UInt8]: Member] = [:]
        for key in keys { selected[key] = replicas[index].rows[key] }
        let changes = try! TypedState.joinStored(
            header: replicas[index].header, storedMembers: selected, incoming: incoming, isFull: isFull)
        replicas[index].header = changes.header
        for change in changes.members { replicas[index].rows[change.key] = change.member }
    }

    /// Delivers one random pending message; sometimes keeps it queued to deliver again.
    mutating func deliverRandom() {
        guard !pending.isEmpty else { return }
        let pick = Int.random(in: 0..<pending.count, using: &rng)
        let message = pending[pick]
        if Int.random(in: 0..<4, using: &rng) != 0 { pending.remove(at: pick) }
        deliver(message.delta, isFull: message.isFull, to: message.target)
    }

    mutating func deliverAll() {
        while !pending.isEmpty { deliverRandom() }
    }

    /// A random history: operations at random replicas interleaved with random deliveries.
    mutating func run(steps: Int, allowReset: Bool) {
        for _ in 0..<steps {
            if Int.random(in: 0..<3, using: &rng) == 0 {
                deliverRandom()
            } else {
                let op = randomOperation(allowReset: allowReset)
                _ = try? update(op, at: Int.random(in: 0..<replicas.count, using: &rng))
            }
        }
    }
}
