/// Multi-key histories. Linearizability is local (Herlihy and Wing; Porcupine calls it
/// P-compositionality): a history is linearizable if and only if each key's sub-history
/// is. Checking keys apart turns one search exponential in the whole history into
/// several small ones, which is what keeps the simulator's histories decidable.
extension LinearizabilityChecker {
    /// Splits `operations` by `key` and checks each key on its own, with the whole
    /// budget for each key.
    public func checkPerKey<Key: Hashable>(
        _ operations: [Operation], key: (Operation) -> Key
    ) -> PerKeyLinearizability<Key, Model.State> {
        var order: [Key] = []
        var byKey: [Key: [Operation]] = [:]
        for operation in operations {
            let name = key(operation)
            if byKey[name] == nil { order.append(name) }
            byKey[name, default: []].append(operation)
        }
        return PerKeyLinearizability(results: order.map { ($0, check(byKey[$0]!)) })
    }
}

/// Each key's verdict, in the order the keys first appear in the history.
public struct PerKeyLinearizability<Key: Hashable, State> {
    public var results: [(key: Key, result: LinearizabilityResult<State>)]

    /// True only if every key is linearizable: an undecided key fails, as issue 17 asks.
    public var passed: Bool { results.allSatisfy { $0.result.isLinearizable } }

    /// The keys that are not linearizable or could not be decided, with why.
    public var failures: [(key: Key, reason: String)] {
        results.compactMap { entry in entry.result.failure.map { (entry.key, $0) } }
    }
}

extension PerKeyLinearizability: Sendable where Key: Sendable, State: Sendable {}
