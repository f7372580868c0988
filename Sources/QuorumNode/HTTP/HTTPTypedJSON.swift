import Foundation
import QuorumCore

/// Any JSON value with integers kept exact: counters and increments are 64-bit, and
/// `JSONValue` (numbers as `Double`) would round them past 2^53. Used for the bodies of
/// `/types` in both directions (the server encodes, `quorumkv` decodes).
public indirect enum HTTPTypedJSON: Codable, Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([HTTPTypedJSON])
    /// Fields in the order given (the encoder sorts keys anyway).
    case object([(String, HTTPTypedJSON)])

    public static func == (lhs: HTTPTypedJSON, rhs: HTTPTypedJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The core's view of a typed value (`TypedState.jsonValue()`).
    public init(_ value: TypedJSONValue) {
        switch value {
        case .number(let number): self = .integer(number)
        case .string(let text): self = .string(text)
        case .bool(let flag): self = .bool(flag)
        case .array(let items): self = .array(items.map(HTTPTypedJSON.init))
        case .object(let fields): self = .object(fields.map { ($0.0, HTTPTypedJSON($0.1)) })
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: Key.self) {
            var fields: [(String, HTTPTypedJSON)] = []
            for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                fields.append((key.stringValue, try container.decode(HTTPTypedJSON.self, forKey: key)))
            }
            self = .object(fields)
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var items: [HTTPTypedJSON] = []
            while !container.isAtEnd { items.append(try container.decode(HTTPTypedJSON.self)) }
            self = .array(items)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let fields):
            var container = encoder.container(keyedBy: Key.self)
            for (name, value) in fields { try container.encode(value, forKey: Key(stringValue: name)) }
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .integer(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .number(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The field's value when this is an object that has it.
    public subscript(field: String) -> HTTPTypedJSON? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == field }?.1
    }
}
