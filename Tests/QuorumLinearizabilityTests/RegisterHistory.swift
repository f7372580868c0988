import QuorumLinearizability

/// Shorthands for writing register histories by hand: times are ticks, values strings.
typealias RegisterOperation = LinearizabilityOperation<RegisterModel.Input, RegisterModel.Output>

struct RegisterHistory {
    private(set) var operations: [RegisterOperation] = []

    @discardableResult
    mutating func ok(
        _ client: Int, _ input: RegisterModel.Input, _ output: RegisterModel.Output, from start: UInt64, to end: UInt64
    ) -> Int {
        append(client, input, start, .ok(output, respondedAt: end))
    }

    @discardableResult
    mutating func indeterminate(_ client: Int, _ input: RegisterModel.Input, from start: UInt64) -> Int {
        append(client, input, start, .indeterminate)
    }

    @discardableResult
    mutating func failed(_ client: Int, _ input: RegisterModel.Input, from start: UInt64) -> Int {
        append(client, input, start, .failed)
    }

    private mutating func append(
        _ client: Int, _ input: RegisterModel.Input, _ start: UInt64, _ outcome: LinearizabilityOutcome<RegisterModel.Output>
    ) -> Int {
        let id = operations.count
        operations.append(RegisterOperation(id: id, client: client, invokedAt: start, input: input, outcome: outcome))
        return id
    }

    func check(budget: SearchBudget = .standard) -> LinearizabilityResult<RegisterModel.State> {
        LinearizabilityChecker(model: RegisterModel(), budget: budget).check(operations)
    }
}
