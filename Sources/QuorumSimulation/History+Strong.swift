import QuorumCore

/// How strong operations (issue #17) and their answers print in a history: values as
/// text, etags as the ballot they name, byte for byte the same for a seed.
extension History {
    static func render(_ operation: StrongOperation, etagValue: [UInt8]?) -> String {
        switch operation {
        case .read: return "read"
        case .write(let value): return "write " + render(value)
        case .delete: return "delete"
        case .compareAndSet(let condition, let value):
            return "cas(" + render(condition, etagValue: etagValue) + ") " + render(value)
        }
    }

    static func render(_ condition: StrongCondition, etagValue: [UInt8]?) -> String {
        switch condition {
        case .ifMatch(let etag): return "ifMatch \(etag.ballot)" + (etagValue.map { " of \(text($0))" } ?? "")
        case .ifAbsent: return "ifAbsent"
        case .ifPresent: return "ifPresent"
        case .ifEquals(let bytes): return "ifEquals \(text(bytes))"
        }
    }

    static func render(_ value: StrongValue?) -> String {
        switch value {
        case nil: return "nothing"
        case .tombstone?: return "tombstone"
        case .value(let bytes, _)?: return text(bytes)
        }
    }

    static func render(_ answer: StrongAnswer) -> String {
        switch answer {
        case .done(let value, let etag): return "done \(render(value))" + (etag.map { " etag \($0.ballot)" } ?? "")
        case .conditionFailed(let current, let etag):
            return "condition failed, current \(render(current))" + (etag.map { " etag \($0.ballot)" } ?? "")
        }
    }
}
