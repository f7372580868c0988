import QuorumLinearizability

/// Random register histories that are linearizable by construction: clients issue
/// operations one after another with random gaps and durations, each takes effect on
/// a real register at a random instant inside its interval, and outputs are what the
/// register answered at that instant. Some operations are made indeterminate (the
/// client loses the answer; the effect may or may not have happened) or failed (no
/// effect).
struct RandomRegisterHistory {
    private struct Planned {
        var operation: RegisterOperation
        var effectAt: UInt64
        var takesEffect: Bool
        var respondedAt: UInt64
        var fate: Fate
    }

    enum Fate { case ok, indeterminate, failed }

    static func make(seed: UInt64, operations count: Int, clients: Int) -> [RegisterOperation] {
        var random = SplitMix64(seed: seed)
        var clientFree = Array(repeating: UInt64(0), count: clients)
        var planned: [Planned] = []
        for id in 0..<count {
            let client = Int(random.next() % UInt64(clients))
            // Times are scaled by the client count and offset by the client so no two
            // effects share an instant.
            let start = clientFree[client] + (random.next() % 5) * UInt64(clients) + UInt64(client)
            let duration = (1 + random.next() % 30) * UInt64(clients)
            let effectAt = start + (random.next() % duration)
            let end = start + duration
            clientFree[client] = end + UInt64(clients)
            let input: RegisterModel.Input
            let roll = random.next() % 100
            let recent = "v\(random.next() % UInt64(max(id, 1)))"
            switch roll {
            case 0..<40: input = .read
            case 40..<60: input = .write("v\(id)")
            case 60..<85: input = .compareAndSet(expected: random.next() % 4 == 0 ? nil : recent, new: "v\(id)")
            case 85..<90: input = .delete
            default: input = .writeIfAbsent("v\(id)")
            }
            let fateRoll = random.next() % 100
            let fate: Fate = fateRoll < 4 ? .indeterminate : fateRoll < 7 ? .failed : .ok
            let takesEffect = fate == .ok || (fate == .indeterminate && random.next() % 2 == 0)
            planned.append(
                Planned(
                    operation: RegisterOperation(id: id, client: client, invokedAt: start, input: input, outcome: .failed),
                    effectAt: effectAt, takesEffect: takesEffect, respondedAt: end, fate: fate))
        }
        // Apply effects in the order of their instants to find each output.
        var value: [UInt8]? = nil
        for index in planned.indices.sorted(by: { planned[$0].effectAt < planned[$1].effectAt }) {
            guard planned[index].takesEffect else { continue }
            let output: RegisterModel.Output
            switch planned[index].operation.input {
            case .read: output = .value(value)
            case .write(let new): value = new; output = .done
            case .delete: value = nil; output = .done
            case .compareAndSet(let expected, let new):
                output = .applied(value == expected)
                if value == expected { value = new }
            case .writeIfAbsent(let new):
                output = .applied(value == nil)
                if value == nil { value = new }
            }
            if planned[index].fate == .ok {
                planned[index].operation.outcome = .ok(output, respondedAt: planned[index].respondedAt)
            }
        }
        for index in planned.indices where planned[index].fate == .indeterminate {
            planned[index].operation.outcome = .indeterminate
        }
        return planned.map(\.operation)
    }
}

/// A small seeded generator, so a failing history can be regenerated from its seed.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
