import QuorumCore

/// (c) In `vclock` buckets: two acknowledged writes neither of which saw the other both
/// survive as siblings unless some write's context covers them; and once an acknowledged
/// write covered a version, that version is gone from the final state.
enum SiblingCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.keys where input.props(name).conflict == .vclock {
            guard let final = input.finalStates[name] else { continue }
            let requests = input.requests(on: name)
            let acknowledged = requests.filter { $0.isAcknowledged }
            let puts = acknowledged.filter { $0.kind == .put }
            let dots = Set(final?.siblings.map(\.dot) ?? [])
            func covered(_ dot: Dot, except id: Int) -> Bool {
                requests.contains { $0.id != id && $0.isWrite && $0.context.covers(dot) }
            }
            for (offset, first) in puts.enumerated() {
                for second in puts.dropFirst(offset + 1) {
                    let one = first.writtenVersion!.dot
                    let other = second.writtenVersion!.dot
                    guard !first.context.covers(other), !second.context.covers(one) else { continue }
                    for (write, dot) in [(first, one), (second, other)] where !dots.contains(dot) && !covered(dot, except: write.id) {
                        violations.append(CheckViolation(
                            check: .siblings,
                            message: "\(name.text): \(CheckInput.describe(write)) was concurrent with "
                                + "\(CheckInput.describe(write.id == first.id ? second : first)) but is not a sibling of the final "
                                + "state \(ConvergenceCheck.render(final))"))
                    }
                }
            }
            for sibling in final?.siblings ?? [] {
                if let cover = acknowledged.first(where: { $0.context.covers(sibling.dot) && $0.writtenVersion?.dot != sibling.dot }) {
                    violations.append(CheckViolation(
                        check: .siblings,
                        message: "\(name.text): version \(History.render(sibling)) survived the acknowledged write "
                            + "\(CheckInput.describe(cover)) whose context covers it"))
                }
            }
        }
        return violations
    }
}
