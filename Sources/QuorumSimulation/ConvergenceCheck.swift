import QuorumCore

/// (a) Once faults healed and repair had its time, every replica of every key holds the
/// same state: the same siblings under the same context.
enum ConvergenceCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.replicaStates.keys.sorted() {
            let replicas = input.replicaStates[name]!
            guard let first = replicas.first else { continue }
            for replica in replicas.dropFirst() where replica.state != first.state {
                violations.append(CheckViolation(
                    check: .convergence,
                    message: "\(name.text): \(first.node) holds \(render(first.state)) but \(replica.node) holds \(render(replica.state))"))
            }
        }
        return violations
    }

    static func render(_ state: KeyState?) -> String {
        state.map(History.render) ?? "nothing"
    }
}
