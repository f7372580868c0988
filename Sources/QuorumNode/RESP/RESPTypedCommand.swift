import QuorumCore

/// What a typed read answers (issue #16): which members it reads and how its reply is
/// shaped. Kept apart from the update commands because a read's reply is computed here,
/// from the joined state, while an update's comes from the lead replica.
public enum RESPTypedQuery: Sendable, Equatable {
    /// `GET` of a counter key: its value as a bulk string, as Redis answers `GET` after `INCR`.
    case counterValue
    /// `SMEMBERS`: every element, in byte order.
    case setMembers
    /// `SISMEMBER`: 1 or 0.
    case setIsMember([UInt8])
    /// `SMISMEMBER`: 1 or 0 per element, in the order asked.
    case setAreMembers([[UInt8]])
    /// `SCARD`: how many elements.
    case setCount
    /// `HGET`: the field's value or nil.
    case hashGet([UInt8])
    /// `HMGET`: each field's value or nil, in the order asked.
    case hashGetMany([[UInt8]])
    /// `HEXISTS`: 1 or 0.
    case hashExists([UInt8])
    /// `HGETALL`: field, value, field, value, … in field byte order.
    case hashGetAll
    /// `HLEN`: how many fields.
    case hashLength

    /// The type a key must hold for this query; another type answers `WRONGTYPE`.
    public var datatype: DataType {
        switch self {
        case .counterValue: return .counter
        case .setMembers, .setIsMember, .setAreMembers, .setCount: return .set
        case .hashGet, .hashGetMany, .hashExists, .hashGetAll, .hashLength: return .map
        }
    }

    /// The members the replicas read: only the named ones for a membership or field
    /// question, every one for a whole-value question. A counter has one member, and reading
    /// it `.all` lets the read repair replicas that answered less.
    public var members: MemberSelection {
        switch self {
        case .setIsMember(let element): return .listed([element])
        case .setAreMembers(let elements): return .listed(Self.distinctSorted(elements))
        case .hashGet(let field), .hashExists(let field): return .listed([field])
        case .hashGetMany(let fields): return .listed(Self.distinctSorted(fields))
        case .counterValue, .setMembers, .setCount, .hashGetAll, .hashLength: return .all
        }
    }

    /// Each member once, in byte order: a client may name a field twice (`HMGET h a a`),
    /// and the replicas need to read it once.
    static func distinctSorted(_ keys: [[UInt8]]) -> [[UInt8]] {
        Array(Set(keys)).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The reply for the joined state (nil: the key is absent). `resp3`: `HGETALL` answers
    /// a RESP3 map, as Redis does (redis-py reads only a map as a dict on RESP3).
    func reply(_ state: TypedState?, resp3: Bool = false) throws(KVError) -> RESPValue {
        let state = state ?? TypedState(datatype: datatype)
        switch self {
        case .counterValue:
            // A counter never incremented, or reset by DEL, reads as absent, as in Redis.
            guard !(state.members[TypedState.counterMember]?.isEmpty ?? true) else { return .null }
            return .bulk(String(try state.counterValue()))
        case .setMembers:
            return .array(state.setElements.map { .bulkString($0) })
        case .setIsMember(let element):
            return .integer(state.contains(element) ? 1 : 0)
        case .setAreMembers(let elements):
            return .array(elements.map { .integer(state.contains($0) ? 1 : 0) })
        case .setCount:
            return .integer(state.setElements.count)
        case .hashGet(let field):
            return .bulkString(try state.mapFieldValue(field)?.redisBytes)
        case .hashGetMany(let fields):
            var values: [RESPValue] = []
            for field in fields { values.append(.bulkString(try state.mapFieldValue(field)?.redisBytes)) }
            return .array(values)
        case .hashExists(let field):
            return .integer(try state.mapFieldValue(field) == nil ? 0 : 1)
        case .hashGetAll:
            let pairs = try state.mapFields().flatMap { [RESPValue.bulkString($0.field), .bulkString($0.value.redisBytes)] }
            return resp3 ? .map(pairs) : .array(pairs)
        case .hashLength:
            return .integer(try state.mapFields().count)
        }
    }
}

/// The commands of typed buckets (issue #16, docs/resp.md "Counters, sets and maps").
///
/// Every update is one `TypedOperation` sent to the key's lead replica, whose reply is an
/// integer (`INCR`'s new value, `SADD`'s count of new elements, …); every read is a
/// `RESPTypedQuery`. Commands of a fixed number of arguments take the per-command options
/// (`R`, `W`, `N`, `PR`, `PW`, `TIMEOUT`) after them; variadic ones (`SADD`, `SREM`,
/// `SMISMEMBER`, `HSET`, `HMGET`, `HDEL`) take none, as `MGET` and `DEL` take none: an
/// element or field named `W` is legal, so `SADD s a W 1` could not be told apart from
/// adding three elements. They use the connection's `CONSISTENCY` defaults.
public enum RESPTypedCommand: Sendable, Equatable {
    case update(key: [UInt8], operation: TypedOperation, options: RequestOptions)
    case read(key: [UInt8], query: RESPTypedQuery, options: RequestOptions)

    public var key: [UInt8] {
        switch self {
        case .update(let key, _, _), .read(let key, _, _): return key
        }
    }

    var writes: Bool {
        if case .update = self { return true }
        return false
    }

    /// The word introducing an increment's operation id (a QuorumKV extension): a retry
    /// with the same id is not counted twice by the same lead replica.
    static let operationIDOption = "ID"

    static let notAnInteger = RESPCommandError("ERR", "value is not an integer or out of range")

    /// The typed command `name`, or nil when `name` is not one.
    static func parse(_ name: String, _ arguments: [[UInt8]], limits: Limits) throws(RESPCommandError) -> RESPTypedCommand? {
        func key() throws(RESPCommandError) -> [UInt8] { try RESPCommand.checkedKey(arguments[0], limits: limits) }
        func readOptions(after count: Int) throws(RESPCommandError) -> RequestOptions {
            try RESPCommand.options(arguments.dropFirst(count), allowed: RESPCommand.readOptions, command: name).options
        }
        func at(least count: Int) throws(RESPCommandError) {
            guard arguments.count >= count else { throw .wrongArity(name) }
        }
        switch name {
        case "INCR", "DECR":
            try at(least: 1)
            return try increment(key: key(), by: name == "INCR" ? 1 : -1, rest: arguments.dropFirst(), command: name)
        case "INCRBY", "DECRBY":
            try at(least: 2)
            guard let amount = Int64(textBytes: arguments[1]) else { throw notAnInteger }
            if name == "DECRBY" && amount == .min {
                throw RESPCommandError("ERR", "decrement would overflow")
            }
            return try increment(key: key(), by: name == "INCRBY" ? amount : -amount, rest: arguments.dropFirst(2), command: name)
        case "SADD", "SREM":
            try at(least: 2)
            let elements = Array(arguments.dropFirst())
            return .update(key: try key(), operation: name == "SADD" ? .setAdd(elements) : .setRemove(elements), options: RequestOptions())
        case "SMEMBERS", "SCARD":
            try at(least: 1)
            return .read(key: try key(), query: name == "SMEMBERS" ? .setMembers : .setCount, options: try readOptions(after: 1))
        case "SISMEMBER":
            try at(least: 2)
            return .read(key: try key(), query: .setIsMember(arguments[1]), options: try readOptions(after: 2))
        case "SMISMEMBER":
            try at(least: 2)
            return .read(key: try key(), query: .setAreMembers(Array(arguments.dropFirst())), options: RequestOptions())
        case "HSET":
            guard arguments.count >= 3, arguments.count % 2 == 1 else { throw .wrongArity(name) }
            var updates: [MapFieldUpdate] = []
            for index in stride(from: 1, to: arguments.count, by: 2) {
                updates.append(.setRegister(field: arguments[index], value: try RESPCommand.checkedValue(arguments[index + 1], limits: limits)))
            }
            return .update(key: try key(), operation: .mapUpdate(updates), options: RequestOptions())
        case "HDEL":
            try at(least: 2)
            return .update(
                key: try key(), operation: .mapUpdate(arguments.dropFirst().map { .removeField(field: $0) }), options: RequestOptions())
        case "HGET", "HEXISTS":
            try at(least: 2)
            let query: RESPTypedQuery = name == "HGET" ? .hashGet(arguments[1]) : .hashExists(arguments[1])
            return .read(key: try key(), query: query, options: try readOptions(after: 2))
        case "HMGET":
            try at(least: 2)
            return .read(key: try key(), query: .hashGetMany(Array(arguments.dropFirst())), options: RequestOptions())
        case "HGETALL", "HLEN":
            try at(least: 1)
            return .read(key: try key(), query: name == "HGETALL" ? .hashGetAll : .hashLength, options: try readOptions(after: 1))
        case "HINCRBY":
            try at(least: 3)
            guard let amount = Int64(textBytes: arguments[2]) else { throw notAnInteger }
            let options = try RESPCommand.options(arguments.dropFirst(3), allowed: RESPCommand.writeOptions, command: name).options
            return .update(key: try key(), operation: .mapUpdate([.incrementCounter(field: arguments[1], by: amount)]), options: options)
        default:
            return nil
        }
    }

    /// `INCR`-like commands: the amount, then `[ID opid]` and the write options in any order.
    private static func increment(
        key: [UInt8], by amount: Int64, rest: ArraySlice<[UInt8]>, command: String
    ) throws(RESPCommandError) -> RESPTypedCommand {
        var operationID: [UInt8]?
        var optionWords: [[UInt8]] = []
        var index = rest.startIndex
        while index < rest.endIndex {
            let word = rest[index]
            if String(decoding: word, as: UTF8.self).uppercased() == operationIDOption {
                guard index + 1 < rest.endIndex, !rest[index + 1].isEmpty else {
                    throw .syntax("option ID of \(command) needs an operation id")
                }
                operationID = rest[index + 1]
            } else {
                optionWords.append(word)
                if index + 1 < rest.endIndex { optionWords.append(rest[index + 1]) }
            }
            index += 2
        }
        let options = try RESPCommand.options(
            optionWords[...], allowed: RESPCommand.writeOptions + [operationIDOption], command: command
        ).options
        return .update(key: key, operation: .increment(by: amount, operationID: operationID), options: options)
    }
}
