/// The checker's verdict on one key's history.
public enum LinearizabilityResult<State> {
    /// The operations can be ordered. `witness` is one such order, by operation id;
    /// indeterminate operations missing from it are ones that need never have happened.
    case linearizable(witness: [Int])
    case notLinearizable(Counterexample<State>)
    /// The search ran out of its budget before deciding.
    case undecided(Exhaustion)

    public var isLinearizable: Bool {
        if case .linearizable = self { return true }
        return false
    }

    /// Nil when linearizable; otherwise why not. An undecided history is a failure too, as
    /// issue 17 asks: a check that gives up must not pass.
    public var failure: String? {
        switch self {
        case .linearizable: return nil
        case .notLinearizable(let counterexample): return "not linearizable: \(counterexample)"
        case .undecided(let exhaustion): return "undecided: \(exhaustion)"
        }
    }
}

/// Why a history is not linearizable, as small as the search can make it: the longest
/// order of operations it managed to linearize, the state that left, and the
/// operations none of which could come next although one of them had to (the
/// earliest-responding of them had already answered).
public struct Counterexample<State>: CustomStringConvertible {
    /// Operation ids, in the order they were linearized.
    public var longestPrefix: [Int]
    /// The model's state after `longestPrefix`.
    public var stateAfterPrefix: State
    /// Ids of the operations that were candidates to come next; each was illegal from
    /// that state (or led only to dead ends).
    public var couldNotPlace: [Int]
    /// The operation whose response forced one of them to be placed: it had already
    /// answered, yet could not be linearized.
    public var blockedBy: Int

    public var description: String {
        "after linearizing \(longestPrefix) (state \(stateAfterPrefix)), none of \(couldNotPlace) could come next, "
            + "yet operation \(blockedBy) had already responded"
    }
}

extension Counterexample: Equatable where State: Equatable {}
extension Counterexample: Sendable where State: Sendable {}

/// How far the search got before its budget ran out.
public struct Exhaustion: Sendable, Equatable, CustomStringConvertible {
    public var steps: Int
    public var cacheEntries: Int
    public var budget: SearchBudget
    /// The most operations linearized at once during the search.
    public var deepestPrefix: Int

    public var description: String {
        "budget exhausted after \(steps) steps and \(cacheEntries) memo entries (limits \(budget.maxSteps), "
            + "\(budget.maxCacheEntries)); deepest prefix \(deepestPrefix) operations"
    }
}

extension LinearizabilityResult: Sendable where State: Sendable {}
extension LinearizabilityResult: Equatable where State: Equatable {}
