import QuorumCore

/// (k) No acknowledged increment is lost and none is counted twice (issue #16): after
/// repair, the final r = n value of a counter lies between the sum of its acknowledged
/// increments and that sum plus every increment whose fate is unknown (failed, which may
/// still have applied at its lead; indeterminate; acknowledged only by disks wiped later).
/// With decrements among them, the unknown ones widen the range on both sides.
///
/// Also the map's shared counter field (`SimulatedTypedRequests.sharedCounterField`),
/// whose increments carry no operation id: a message the network duplicates counts twice
/// there by design (as a Cassandra counter's would), so in mixes that duplicate messages
/// only the lower bound (nothing acknowledged lost) is checked.
enum CounterCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.typedKeys {
            switch name.bucket {
            case SimulatedBuckets.counter:
                violations += judge(name, in: input, what: "counter", upperBound: true, amount: { operation in
                    if case .increment(let by, _) = operation { return by }
                    return nil
                }, value: { state throws(KVError) in try state.counterValue() })
            case SimulatedBuckets.map:
                let field = SimulatedTypedRequests.sharedCounterField
                violations += judge(name, in: input, what: "map field n", upperBound: !input.mix.dropsMessages, amount: { operation in
                    guard case .mapUpdate(let updates) = operation else { return nil }
                    let amounts = updates.compactMap { update -> Int64? in
                        guard case .incrementCounter(field, let by) = update else { return nil }
                        return by
                    }
                    return amounts.isEmpty ? nil : amounts.reduce(0, +)
                }, value: { state throws(KVError) in
                    switch try state.mapFieldValue(field) {
                    case nil: return 0
                    case .integer(let value)?: return value
                    case let other?: throw KVError.internalError(message: "the counter field holds \(other), not an integer")
                    }
                })
            default: continue
            }
        }
        return violations
    }

    private static func judge(
        _ name: CheckInput.KeyName, in input: CheckInput, what: String, upperBound: Bool,
        amount: (TypedOperation) -> Int64?, value: (TypedState) throws(KVError) -> Int64
    ) -> [CheckViolation] {
        var acknowledged: Int64 = 0
        var low: Int64 = 0
        var high: Int64 = 0
        var counted = 0
        for entry in input.requests(on: name) {
            guard let operation = entry.typed, let by = amount(operation) else { continue }
            counted += 1
            if entry.isTypedAcknowledged {
                acknowledged += by
            } else {
                low += min(0, by)
                high += max(0, by)
            }
        }
        guard counted > 0 else { return [] }
        guard let final = input.typedFinalStates[name] else {
            return [CheckViolation(check: .counterBounds, message: "\(name.text): the final read at r = n failed")]
        }
        let found: Int64
        do throws(KVError) {
            found = try final.map(value) ?? 0
        } catch {
            return [CheckViolation(check: .counterBounds, message: "\(name.text): the final \(what) has no value: \(error.message)")]
        }
        let range = (acknowledged + low)...(acknowledged + high)
        guard found < range.lowerBound || (upperBound && found > range.upperBound) else { return [] }
        let verdict = found < range.lowerBound ? "acknowledged increments lost" : "increments counted twice"
        return [CheckViolation(
            check: .counterBounds,
            message: "\(name.text): \(verdict): the final \(what) is \(found), outside \(range.lowerBound)...\(range.upperBound) "
                + "(acknowledged sum \(acknowledged)); final read: \(final.map(History.render) ?? "nothing")")]
    }
}
