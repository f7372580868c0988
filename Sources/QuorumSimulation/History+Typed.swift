import QuorumCore

/// How typed requests and states print in a history: short, and byte for byte the same
/// for a seed (members and dots in their canonical order).
extension History {
    static func render(_ operation: TypedOperation) -> String {
        switch operation {
        case .increment(let by, let id): return "incr \(by)" + (id.map { " id=\(text($0))" } ?? "")
        case .setAdd(let elements): return "sadd " + list(elements)
        case .setRemove(let elements): return "srem " + list(elements)
        case .setRemoveObserved(let elements, let context): return "srem " + list(elements) + " ctx=" + render(context)
        case .mapUpdate(let updates): return "hupdate " + updates.map(render).joined(separator: " ")
        case .reset: return "reset"
        }
    }

    static func render(_ update: MapFieldUpdate) -> String {
        switch update {
        case .setRegister(let field, let value): return "set(\(text(field))=\(text(value)))"
        case .incrementCounter(let field, let by): return "incr(\(text(field)),\(by))"
        case .enableFlag(let field): return "enable(\(text(field)))"
        case .disableFlag(let field): return "disable(\(text(field)))"
        case .removeField(let field): return "remove(\(text(field)))"
        }
    }

    static func render(_ members: MemberSelection) -> String {
        switch members {
        case .all: return "members=all"
        case .listed(let keys): return "members=" + list(keys)
        }
    }

    static func render(_ reply: TypedReply) -> String {
        switch reply {
        case .integer(let value): return "value \(value)"
        case .count(let count): return "count \(count)"
        }
    }

    static func render(_ context: CausalContext) -> String {
        let vv = context.vv.map { "\($0.key):\($0.value)" }.sorted()
        let cloud = context.cloud.map { "\($0.actor):\($0.counter)" }.sorted()
        return "{" + (vv + cloud.map { "+" + $0 }).joined(separator: ",") + "}"
    }

    /// Each member with its dots and payloads, then the context.
    static func render(_ state: TypedState) -> String {
        let members = state.sortedMemberKeys.map { key in
            let dots = state.members[key]!.entries.map { "\($0.dot.actor):\($0.dot.counter)" + render($0.payload) }
            return (key.isEmpty ? "" : text(key)) + "<" + dots.joined(separator: " ") + ">"
        }
        return "\(state.datatype.rawValue) [" + members.joined(separator: " ") + "] " + render(state.context)
    }

    static func render(_ payload: DotPayload) -> String {
        switch payload {
        case .present: return ""
        case .counter(let p, let n): return "=+\(p)-\(n)"
        case .register(let stamp, let value): return "=\(text(value))@\(stamp.physicalMilliseconds).\(stamp.logical)"
        }
    }

    private static func list(_ keys: [[UInt8]]) -> String {
        "{" + keys.map(text).joined(separator: ",") + "}"
    }
}
