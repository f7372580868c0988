/// A client's typed update, before any replica has seen it. The coordinator sends it to
/// the lead replica, which turns it into a delta (`TypedState.delta(applying:...)`).
public enum TypedOperation: Sendable, Equatable {
    /// Counter: add `by` (negative: subtract). With an id, a retry at the same lead
    /// inside the dedupe window is answered without counting again (`RecentOperations`).
    case increment(by: Int64, operationID: [UInt8]?)
    /// Set: add the elements (add wins over a concurrent remove).
    case setAdd([[UInt8]])
    /// Set: remove the elements as the lead replica has seen them (RESP SREM, HTTP remove
    /// without a context).
    case setRemove([[UInt8]])
    /// Set: remove only the elements' dots `context` (from a client's earlier read) covers.
    case setRemoveObserved([[UInt8]], context: CausalContext)
    /// Map: field updates, applied in order.
    case mapUpdate([MapFieldUpdate])
    /// Any type (DEL): an observed-remove reset. Every dot the lead has seen is removed;
    /// concurrent updates the lead had not seen survive.
    case reset

    public var datatype: DataType? {
        switch self {
        case .increment: return .counter
        case .setAdd, .setRemove, .setRemoveObserved: return .set
        case .mapUpdate: return .map
        case .reset: return nil
        }
    }

    /// The members the lead must read to apply this operation (storage reads only these
    /// rows plus the header). A reset needs every member.
    public var touchedMembers: MemberSelection {
        switch self {
        case .increment: return .listed([TypedState.counterMember])
        case .setAdd(let elements), .setRemove(let elements), .setRemoveObserved(let elements, _):
            return .listed(Self.uniqueSorted(elements))
        case .mapUpdate(let updates): return .listed(Self.uniqueSorted(updates.map(\.field)))
        case .reset: return .all
        }
    }

    static func uniqueSorted(_ keys: [[UInt8]]) -> [[UInt8]] {
        Array(Set(keys)).sorted { $0.lexicographicallyPrecedes($1) }
    }
}

/// One field update inside a map operation.
public enum MapFieldUpdate: Sendable, Equatable {
    /// HSET: the field becomes a register holding `value` (replaces every observed dot).
    case setRegister(field: [UInt8], value: [UInt8])
    /// HINCRBY: adds to the field's counter (the register, if any, stays and is the base).
    case incrementCounter(field: [UInt8], by: Int64)
    case enableFlag(field: [UInt8])
    case disableFlag(field: [UInt8])
    /// HDEL: removes the observed dots of the field.
    case removeField(field: [UInt8])

    public var field: [UInt8] {
        switch self {
        case .setRegister(let field, _), .incrementCounter(let field, _), .enableFlag(let field),
            .disableFlag(let field), .removeField(let field):
            return field
        }
    }
}

/// What the client is answered for a typed update, in a shape both RESP and HTTP render.
public enum TypedReply: Sendable, Equatable {
    /// A value: INCR's new counter value, HINCRBY's new field value.
    case integer(Int64)
    /// A count: SADD's newly added elements, SREM's removed ones, HSET's created fields,
    /// HDEL's removed fields, DEL's 1 or 0 (whether the key had members at the lead).
    case count(Int)
}
