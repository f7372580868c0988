/// What clients see of a typed state: the counter's value, the set's elements, the map's
/// fields (issue #16 design, "Map" rule).
extension TypedState {
    /// The counter's value: increments minus decrements over every actor's entry.
    /// Throws when the total is outside Int64 (leads refuse increments that would get there).
    public func counterValue() throws(KVError) -> Int64 {
        try Self.counterSum(members[Self.counterMember]?.entries ?? [])
    }

    /// Sums each actor's newest counter entry only. An actor's entries are cumulative and
    /// its newest supersedes the older ones, but an increment's delta covers only the
    /// entry its lead held: a replica that missed the delta in between still holds the
    /// entry before that one beside the newest (until a full-state join drops it), and
    /// counting both would count the older increments twice (found by the simulator's
    /// check (k)).
    static func counterSum(_ entries: [Member.Entry]) throws(KVError) -> Int64 {
        var newest: [String: Member.Entry] = [:]
        for entry in entries {
            guard case .counter = entry.payload else { continue }
            if let held = newest[entry.dot.actor], held.dot.counter >= entry.dot.counter { continue }
            newest[entry.dot.actor] = entry
        }
        var total: Int128 = 0
        for entry in newest.values {
            if case .counter(let p, let n) = entry.payload { total += Int128(p) - Int128(n) }
        }
        guard let value = Int64(exactly: total) else {
            throw .badParameter(name: "increment", message: "the counter's value is outside the 64-bit signed range")
        }
        return value
    }

    /// The set's elements in byte order.
    public var setElements: [[UInt8]] {
        sortedMemberKeys.filter { !(members[$0]?.isEmpty ?? true) }
    }

    /// Whether `element` is in the set.
    public func contains(_ element: [UInt8]) -> Bool { !(members[element]?.isEmpty ?? true) }

    /// One field's value as clients see it, nil when absent.
    public func mapFieldValue(_ field: [UInt8]) throws(KVError) -> MapFieldValue? {
        guard let member = members[field], !member.isEmpty else { return nil }
        return try MapFieldValue(member)
    }

    /// Every field in byte order with its value.
    public func mapFields() throws(KVError) -> [(field: [UInt8], value: MapFieldValue)] {
        var fields: [(field: [UInt8], value: MapFieldValue)] = []
        for key in sortedMemberKeys {
            if let value = try mapFieldValue(key) { fields.append((key, value)) }
        }
        return fields
    }
}

extension Member {
    /// The newest register dot by (stamp, dot), if any.
    public var newestRegister: Entry? {
        var best: (HLCTimestamp, Dot, Entry)?
        for entry in entries {
            guard case .register(let stamp, _) = entry.payload else { continue }
            if let current = best, (current.0, current.1) >= (stamp, entry.dot) { continue }
            best = (stamp, entry.dot, entry)
        }
        return best?.2
    }
}

/// A map field's value. The rule: the newest register by (stamp, dot) if any register;
/// with counter dots too, that register parsed as a signed integer plus the counters' sum
/// (a non-integer register wins as it is); only counter dots: their sum; only flag dots:
/// a flag (HTTP `true`, RESP `"1"`).
public enum MapFieldValue: Sendable, Equatable {
    case register([UInt8])
    case integer(Int64)
    case flag

    init(_ member: Member) throws(KVError) {
        let counters = member.entries.filter { if case .counter = $0.payload { return true } else { return false } }
        let register = member.newestRegister
        if case .register(_, let value)? = register?.payload {
            guard !counters.isEmpty, let base = Int64(textBytes: value) else { self = .register(value); return }
            let sum = Int128(try TypedState.counterSum(counters)) + Int128(base)
            guard let total = Int64(exactly: sum) else {
                throw .badParameter(name: "increment", message: "the field's value is outside the 64-bit signed range")
            }
            self = .integer(total)
        } else if !counters.isEmpty {
            self = .integer(try TypedState.counterSum(counters))
        } else {
            self = .flag
        }
    }

    /// The integer a counter field holds (nil for a register or flag).
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The bytes Redis commands answer (HGET): the register, the decimal integer, "1".
    public var redisBytes: [UInt8] {
        switch self {
        case .register(let value): return value
        case .integer(let value): return Array(String(value).utf8)
        case .flag: return Array("1".utf8)
        }
    }
}

extension Int64 {
    /// Parses Redis-style integer text: optional '-', decimal digits, no spaces or '+',
    /// no leading zeros (except "0"), within range. Nil otherwise.
    public init?(textBytes bytes: [UInt8]) {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        let negative = bytes[0] == UInt8(ascii: "-")
        let digits = negative ? bytes.dropFirst() : bytes[...]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if digits.count > 1 && digits.first == 0x30 { return nil }
        if negative && digits == [0x30] { return nil }
        guard let value = Int64(String(decoding: bytes, as: UTF8.self)) else { return nil }
        self = value
    }
}

/// A JSON-shaped value for HTTP (the shell renders it; the core has no JSON encoder):
/// counter → number, set → array of strings, map → object of field → string, number or
/// `true`. Bytes that are not UTF-8 (elements, field names, register values) are written
/// as `"base64:" + URL-safe base64` text: JSON strings must be text, and a prefix keeps
/// every UTF-8 element that does not itself start with "base64:" readable as is. (A
/// UTF-8 element starting with "base64:" is escaped the same way, so the view is
/// unambiguous.)
public indirect enum TypedJSONValue: Sendable, Equatable {
    case number(Int64)
    case string(String)
    case bool(Bool)
    case array([TypedJSONValue])
    /// Fields in byte order of their names.
    case object([(String, TypedJSONValue)])

    public static func == (lhs: TypedJSONValue, rhs: TypedJSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public static let base64Prefix = "base64:"

    /// Text for bytes: UTF-8 as is, else (or when it starts with the prefix) prefixed base64.
    public static func text(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self), !text.hasPrefix(base64Prefix) { return text }
        return base64Prefix + Base64URL.encode(bytes)
    }

    /// The bytes `text` stands for (the inverse of `text(_:)`); nil for bad base64.
    public static func bytes(_ text: String) -> [UInt8]? {
        if text.hasPrefix(base64Prefix) { return Base64URL.decode(String(text.dropFirst(base64Prefix.count))) }
        return Array(text.utf8)
    }
}

extension TypedState {
    /// The state's value for HTTP. A counter whose value is out of range throws.
    public func jsonValue() throws(KVError) -> TypedJSONValue {
        switch datatype {
        case .counter: return .number(try counterValue())
        case .set: return .array(setElements.map { .string(TypedJSONValue.text($0)) })
        case .map:
            return .object(
                try mapFields().map { field in
                    let value: TypedJSONValue
                    switch field.value {
                    case .register(let bytes): value = .string(TypedJSONValue.text(bytes))
                    case .integer(let number): value = .number(number)
                    case .flag: value = .bool(true)
                    }
                    return (TypedJSONValue.text(field.field), value)
                })
        }
    }
}

extension TypedReply {
    /// Wire form inside a `.typedApplied` answer: tag 1 integer (8 bytes), tag 2 count (varint).
    public func encode(into writer: inout ByteWriter) {
        switch self {
        case .integer(let value):
            writer.write(UInt8(1))
            writer.write(UInt64(bitPattern: value))
        case .count(let count):
            writer.write(UInt8(2))
            writer.writeVarInt(UInt64(count))
        }
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> TypedReply {
        switch try reader.readUInt8() {
        case 1: return .integer(Int64(bitPattern: try reader.readUInt64()))
        case 2:
            let count = try reader.readVarInt()
            guard count <= UInt64(Int32.max) else { throw .malformed("reply count out of range") }
            return .count(Int(count))
        case let tag: throw .malformed("unknown typed reply tag \(tag)")
        }
    }
}
