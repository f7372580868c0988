import QuorumCore
import QuorumLinearizability

/// (m) Strong keys are linearizable (issue #17): each key's history — the strong
/// clients' operations and the final read — is checked against `RegisterModel` by the
/// linearizability checker, within its standard budget; a key it cannot decide fails as a
/// violation does. Virtual milliseconds are the times (touching intervals are concurrent).
///
/// An answered operation is definite. A compare-and-set whose condition failed wrote
/// nothing and answered the current value, so it counts as a read of that value (the
/// stronger statement: the model's "not applied" only says the condition was false, and
/// that is checked here on the value it answered). An operation that "may still have been
/// applied", or whose coordinator crashed, or that never answered, is indeterminate: it
/// may take effect at any point after its invocation, or never. Any other failure had no
/// effect and is dropped.
///
/// Keys a majority of whose replicas lost their disks are not judged
/// (`CheckInput.strongExempt`): their committed values can be lost legitimately.
enum LinearizabilityCheck {
    typealias Operation = LinearizabilityChecker<RegisterModel>.Operation
    /// The checker's budget per key, named here for tests that need a smaller one.
    typealias Budget = SearchBudget

    /// Lines of history a violation quotes at most.
    static let excerptLinesMax = 60

    static func check(_ input: CheckInput, budget: SearchBudget = .standard) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        let checker = LinearizabilityChecker(model: RegisterModel(), budget: budget)
        for name in input.strongKeys where input.strongExempt[name] == nil {
            let entries = input.history.entries.filter { $0.kind == .strong && $0.bucket == name.bucket && $0.key == name.key }
            var operations: [Operation] = []
            for entry in entries {
                switch operation(entry) {
                case .success(let operation?): operations.append(operation)
                case .success(nil): continue
                case .failure(let problem):
                    violations.append(CheckViolation(
                        check: .linearizable, message: "\(name.text): \(problem)\n" + excerpt(entries, marking: [entry.id])))
                }
            }
            let result = checker.check(operations)
            guard let failure = result.failure else { continue }
            var marked: Set<Int> = []
            if case .notLinearizable(let counterexample) = result {
                marked = Set(counterexample.couldNotPlace + [counterexample.blockedBy])
            }
            violations.append(CheckViolation(
                check: .linearizable,
                message: "\(name.text): \(failure) (operations are history entries #id; * marks those that could "
                    + "not come next)\n" + excerpt(entries, marking: marked)))
        }
        return violations
    }

    /// A history entry as the checker's operation; nil for one with no effect to judge
    /// (none so far); a failure when the answer contradicts the request on its own.
    static func operation(_ entry: History.Entry) -> Result<Operation?, Problem> {
        guard let strong = entry.strong else { return .success(nil) }
        guard var input = input(strong, etagValue: entry.etagValue) else {
            return .failure(Problem("#\(entry.id): a strong operation the register model has no step for"))
        }
        let outcome: LinearizabilityOutcome<RegisterModel.Output>
        switch entry.outcome {
        case .strongAnswered(.done(let value, _)):
            let at = entry.completedAt ?? entry.invokedAt
            switch strong {
            case .read:
                outcome = .ok(.value(value?.bytes), respondedAt: at)
            case .write(let written), .compareAndSet(_, let written):
                guard value?.bytes == written.bytes else {
                    return .failure(Problem("#\(entry.id): answered done with \(History.render(value)), not the value it wrote"))
                }
                if case .write = strong { outcome = .ok(.done, respondedAt: at) } else { outcome = .ok(.applied(true), respondedAt: at) }
            case .delete:
                outcome = .ok(.done, respondedAt: at)
            }
        case .strongAnswered(.conditionFailed(let current, let etag)):
            guard case .compareAndSet(let condition, _) = strong else {
                return .failure(Problem("#\(entry.id): answered condition failed, but it has no condition"))
            }
            let live = current?.bytes
            let holds: Bool
            switch condition {
            case .ifEquals(let bytes): holds = live == bytes
            case .ifAbsent: holds = live == nil
            case .ifPresent: holds = live != nil
            // An etag names one operation's value (its origin), and values are unique per
            // request: refused while the value its etag came with is current is a spurious 412.
            case .ifMatch(let expected): holds = live != nil && (etag == expected || live == entry.etagValue)
            }
            if holds {
                return .failure(Problem(
                    "#\(entry.id): refused its condition, yet the condition holds on the value it answered (\(History.render(current)))"))
            }
            input = .read
            outcome = .ok(.value(live), respondedAt: entry.completedAt ?? entry.invokedAt)
        case .pending, .indeterminate:
            outcome = .indeterminate
        case .failed:
            outcome = .failed
        default:
            return .failure(Problem("#\(entry.id): a strong operation with an outcome of another kind"))
        }
        return .success(Operation(id: entry.id, client: entry.client, invokedAt: entry.invokedAt, input: input, outcome: outcome))
    }

    /// The register model's step for a strong operation. An `ifMatch` is a compare-and-set
    /// on the value the client was given with the etag: values are unique per request, so
    /// the etag stands for that value.
    static func input(_ operation: StrongOperation, etagValue: [UInt8]?) -> RegisterModel.Input? {
        switch operation {
        case .read: return .read
        case .write(let value): return value.bytes.map { .write($0) }
        case .delete: return .delete
        case .compareAndSet(let condition, let value):
            guard let new = value.bytes else { return nil }
            switch condition {
            case .ifEquals(let expected): return .compareAndSet(expected: expected, new: new)
            case .ifAbsent: return .writeIfAbsent(new)
            case .ifMatch: return etagValue.map { .compareAndSet(expected: $0, new: new) }
            case .ifPresent: return nil
            }
        }
    }

    /// The key's history, one line an entry (`*` before the marked ones), at most
    /// `excerptLinesMax` lines: those around the marked entries first.
    static func excerpt(_ entries: [History.Entry], marking marked: Set<Int>) -> String {
        var shown = entries
        if shown.count > excerptLinesMax {
            let first = entries.firstIndex { marked.contains($0.id) } ?? 0
            let start = max(0, min(first - excerptLinesMax / 2, entries.count - excerptLinesMax))
            shown = Array(entries[start..<(start + excerptLinesMax)])
        }
        var text = shown.map { (marked.contains($0.id) ? "  * " : "    ") + CheckInput.describe($0) }.joined(separator: "\n")
        if shown.count < entries.count { text += "\n    (\(entries.count - shown.count) more entries on this key; replay the seed for all)" }
        return text
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
