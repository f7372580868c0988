/// Every error a client can see, each with a stable code (SPEC.md) and a message that
/// says what went wrong and what to do.
public enum KVError: Error, Sendable, Equatable {
    /// A parameter had a value QuorumKV can't use.
    case badParameter(name: String, message: String)
    /// A key, value or body over its limit.
    case tooLarge(what: String, bytes: Int, limit: Int)
    /// The key is absent or deleted.
    case notFound
    /// A conditional write whose condition did not hold.
    case preconditionFailed(message: String)
    /// A `vclock` key already holds the most siblings allowed.
    case siblingLimit(limit: Int)
    /// Fewer replicas answered than the request needed.
    case quorumNotMet(operation: QuorumOperation, needed: Int, answered: Int, primariesNeeded: Int, primariesAnswered: Int)
    /// A bound on queued work was reached; retry later.
    case overloaded(message: String)
    /// An operation that needs every member (a truncation) could not reach them all.
    case unavailable(message: String)
    /// A fault inside QuorumKV (disk, corruption). The node keeps serving.
    case internalError(message: String)
    /// The authenticated user may not do this (HTTP 403, RESP `-NOPERM`); see `AccessDecision`.
    case forbidden(AccessDenial)
    /// An operation of one kind on a key or bucket of another: a typed operation on a plain
    /// bucket, GET/PUT on a typed one, SADD on a counter (HTTP 400, RESP `-WRONGTYPE`).
    case wrongType(message: String)

    /// The stable, machine-readable code clients match on.
    public var code: String {
        switch self {
        case .badParameter: return "bad_parameter"
        case .tooLarge: return "too_large"
        case .notFound: return "not_found"
        case .preconditionFailed: return "precondition_failed"
        case .siblingLimit: return "sibling_limit"
        case .quorumNotMet: return "quorum_not_met"
        case .overloaded: return "overloaded"
        case .unavailable: return "unavailable"
        case .internalError: return "internal"
        case .forbidden: return "forbidden"
        case .wrongType: return "wrong_type"
        }
    }

    public var message: String {
        switch self {
        case .badParameter(_, let message): return message
        case .tooLarge(let what, let bytes, let limit):
            return "\(what) is \(bytes) bytes; the limit is \(limit) bytes"
        case .notFound: return "no value for this key (absent or deleted)"
        case .preconditionFailed(let message): return message
        case .siblingLimit(let limit):
            return "the key already has \(limit) siblings, the most allowed; read it and write with its context to resolve them"
        case .quorumNotMet(let operation, let needed, let answered, let primariesNeeded, let primariesAnswered):
            var text: String
            switch operation {
            case .read:
                text = "read needed \(needed) replica replies but \(answered) replied"
            case .write:
                text = "write needed \(needed) replica acks but \(answered) acked; the value may still be stored on the replicas that acked"
            }
            if primariesNeeded > 0 {
                text += " (primaries: needed \(primariesNeeded), \(primariesAnswered) answered)"
            }
            return text + "; check that the nodes are up, or lower r/w"
        case .overloaded(let message): return message
        case .unavailable(let message): return message
        case .internalError(let message): return message
        case .forbidden(let denial): return denial.message
        case .wrongType(let message): return message
        }
    }
}

public enum QuorumOperation: String, Sendable, Equatable {
    case read, write
}
