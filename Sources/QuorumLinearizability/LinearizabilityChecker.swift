/// Checks one key's history against a sequential model: Wing and Gong's depth-first
/// search for a linearization, with Lowe's memoisation ("Testing for linearizability",
/// 2017), the algorithm behind Knossos's `wgl` and Porcupine.
///
/// The search walks the entry list from its head. At a call entry it tries to linearize
/// that operation next: if the model allows it and the resulting (set of linearized
/// operations, state) has not been seen before, it lifts the operation out of the list
/// and starts again from the head. At a return entry, the operation it belongs to has
/// responded without having been linearized, so the last choice was wrong: it puts the
/// most recently linearized operation back and tries the entry after it. The memo is
/// what makes this practical: two orders that reach the same set and the same state
/// have the same future, so the second is cut off; without it the search is factorial
/// in the number of concurrent operations.
///
/// Pure: no clocks, no randomness, no IO; the same history and budget always give the
/// same result. The checker has no idea of keys: ``checkPerKey(_:key:)`` splits a
/// history first (P-compositionality: a history is linearizable if and only if each
/// key's sub-history is).
///
/// Cost, measured in a debug build on 2 shared cores (`LinearizabilityRandomHistoryTests`,
/// ten seeds of 200 operations from 5 clients with random overlaps, about 5 concurrent):
/// a linearizable history is decided in 1.5–3.6 ms, since the first order tried nearly
/// always works. Refuting the same history with its last read changed takes 12–640 ms:
/// the search must exhaust every order up to that read before it may say no, and the
/// worst seed needs more than 400,000 of the 2,000,000 steps of ``SearchBudget/standard``
/// (roughly 600,000 steps a second in debug). Refutation is the expensive verdict, so size
/// the simulator's per-key histories by it; an undecided one still fails the run.
///
/// Usage, from the simulator or a real-process test:
///
///     let checker = LinearizabilityChecker(model: RegisterModel())
///     let report = checker.checkPerKey(operations) { keyOf[$0.id] }
///     if !report.passed { fail(report.failures) }  // undecided keys fail too
public struct LinearizabilityChecker<Model: SequentialModel>: Sendable {
    public typealias Operation = LinearizabilityOperation<Model.Input, Model.Output>
    public typealias Result = LinearizabilityResult<Model.State>

    public let model: Model
    public let budget: SearchBudget

    public init(model: Model, budget: SearchBudget = .standard) {
        self.model = model
        self.budget = budget
    }

    /// Checks `operations` as the history of a single key. Failed operations are dropped;
    /// indeterminate ones may be placed anywhere after their invocation, or left out.
    public func check(_ operations: [Operation]) -> Result {
        let kept = operations.filter {
            if case .failed = $0.outcome { return false }
            return true
        }
        var search = Search(model: model, budget: budget, operations: kept)
        return search.run()
    }
}

/// The state of one run of the search, kept apart from the checker so the checker stays a
/// plain value.
private struct Search<Model: SequentialModel> {
    typealias Operation = LinearizabilityOperation<Model.Input, Model.Output>

    private struct MemoKey: Hashable {
        var linearized: OperationSet
        var state: Model.State
    }

    /// One linearization choice: the call entry lifted and the state before it.
    private struct Choice {
        var call: Int
        var stateBefore: Model.State
    }

    let model: Model
    let budget: SearchBudget
    let operations: [Operation]
    /// Output per operation; nil for indeterminate ones.
    let outputs: [Model.Output?]
    var entries: EntryList

    init(model: Model, budget: SearchBudget, operations: [Operation]) {
        self.model = model
        self.budget = budget
        self.operations = operations
        var outputs: [Model.Output?] = []
        var responded: [UInt64?] = []
        for operation in operations {
            switch operation.outcome {
            case .ok(let output, let at):
                outputs.append(output)
                // A response recorded before its invocation (a clock step in a real
                // test) is read as an instant at the invocation.
                responded.append(max(at, operation.invokedAt))
            case .failed, .indeterminate:
                outputs.append(nil)
                responded.append(nil)
            }
        }
        self.outputs = outputs
        entries = EntryList(invoked: operations.map(\.invokedAt), responded: responded)
    }

    mutating func run() -> LinearizabilityResult<Model.State> {
        // Indeterminate operations never have to be placed: once every operation that
        // responded is linearized, the rest can be left out, so the search is done.
        var unplacedDefinite = outputs.filter { $0 != nil }.count
        var state = model.initialState
        var linearized = OperationSet(capacity: operations.count)
        var memo: Set<MemoKey> = []
        var choices: [Choice] = []
        var best: Counterexample<Model.State>?
        var deepest = 0
        var steps = 0
        var entry = entries.first

        while unplacedDefinite > 0 {
            steps += 1
            if steps > budget.maxSteps || memo.count > budget.maxCacheEntries {
                return .undecided(
                    Exhaustion(steps: steps - 1, cacheEntries: memo.count, budget: budget, deepestPrefix: deepest))
            }
            let index = entries.operation[entry]
            if entries.isCall[entry] {
                if let next = model.step(state, operations[index].input, outputs[index]) {
                    let key = MemoKey(linearized: linearized.inserting(index), state: next)
                    if memo.insert(key).inserted {
                        choices.append(Choice(call: entry, stateBefore: state))
                        deepest = max(deepest, choices.count)
                        state = next
                        linearized.insert(index)
                        if outputs[index] != nil { unplacedDefinite -= 1 }
                        entries.lift(entry)
                        entry = entries.first
                        continue
                    }
                }
                entry = entries.next[entry]
            } else {
                // Operation `index` responded before it was linearized: a dead end.
                if best == nil || choices.count > best!.longestPrefix.count {
                    best = explain(choices: choices, state: state, blockedAt: entry)
                }
                guard let last = choices.popLast() else { return .notLinearizable(best!) }
                let undone = entries.operation[last.call]
                state = last.stateBefore
                linearized.remove(undone)
                if outputs[undone] != nil { unplacedDefinite += 1 }
                entries.unlift(last.call)
                entry = entries.next[last.call]
            }
        }
        return .linearizable(witness: choices.map { operations[entries.operation[$0.call]].id })
    }

    /// The dead end as a counterexample: the prefix so far, and the operations whose
    /// calls come before the return entry that stopped the search.
    private func explain(choices: [Choice], state: Model.State, blockedAt returnEntry: Int) -> Counterexample<Model.State> {
        var candidates: [Int] = []
        var entry = entries.first
        while entry != returnEntry && entry != EntryList.none {
            if entries.isCall[entry] { candidates.append(operations[entries.operation[entry]].id) }
            entry = entries.next[entry]
        }
        return Counterexample(
            longestPrefix: choices.map { operations[entries.operation[$0.call]].id }, stateAfterPrefix: state,
            couldNotPlace: candidates, blockedBy: operations[entries.operation[returnEntry]].id)
    }
}
