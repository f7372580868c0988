import QuorumCore

/// (l) Add wins (issue #16): a set element whose add was acknowledged and that no remove
/// named is in the final r = n read; likewise a map field (each client's own register
/// field) set by an acknowledged update and never removed, holding a value some request
/// set. The typed clients add each element once and remove only their own elements
/// (`SimulatedTypedRequests`), so "no remove named it" is exactly "no remove observed it".
enum AddWinsCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        for name in input.typedKeys where name.bucket == SimulatedBuckets.set || name.bucket == SimulatedBuckets.map {
            let requests = input.requests(on: name)
            /// Per member, the last acknowledged request that added it.
            var added: [[UInt8]: History.Entry] = [:]
            var removed: Set<[UInt8]> = []
            var values: [[UInt8]: Set<[UInt8]>] = [:]
            for entry in requests {
                switch entry.typed {
                case .setAdd(let elements)?:
                    if entry.isTypedAcknowledged { for element in elements { added[element] = entry } }
                case .setRemove(let elements)?, .setRemoveObserved(let elements, _)?:
                    removed.formUnion(elements)
                case .mapUpdate(let updates)?:
                    for update in updates {
                        switch update {
                        case .setRegister(let field, let value):
                            values[field, default: []].insert(value)
                            if entry.isTypedAcknowledged { added[field] = entry }
                        case .removeField(let field), .disableFlag(let field):
                            removed.insert(field)
                        default: continue
                        }
                    }
                default: continue
                }
            }
            let kept = added.filter { !removed.contains($0.key) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            guard !kept.isEmpty else { continue }
            guard let final = input.typedFinalStates[name] else {
                violations.append(CheckViolation(check: .addWins, message: "\(name.text): the final read at r = n failed"))
                continue
            }
            let rendered = final.map(History.render) ?? "nothing"
            for (member, entry) in kept {
                guard let state = final, state.contains(member) else {
                    violations.append(CheckViolation(
                        check: .addWins,
                        message: "\(name.text): \(History.text(member)) is missing though added by \(CheckInput.describe(entry)) "
                            + "and never removed; final read: \(rendered)"))
                    continue
                }
                guard name.bucket == SimulatedBuckets.map else { continue }
                if case .register(let value)? = try? state.mapFieldValue(member), values[member]?.contains(value) == true { continue }
                violations.append(CheckViolation(
                    check: .addWins,
                    message: "\(name.text): field \(History.text(member)) holds a value no request set; final read: \(rendered)"))
            }
        }
        return violations
    }
}
