import Foundation
import QuorumCore

/// `GET /types/{bucket}/{key}`: the value as JSON and the context a later remove sends back.
///
/// `value`: a counter's number, a set's array of elements, a map's object of field →
/// string (register), number (counter) or `true` (flag). Bytes that are not UTF-8 are
/// `"base64:" + URL-safe base64` (`TypedJSONValue.text`).
public struct HTTPTypedReadDocument: Codable, Sendable, Equatable {
    public var type: DataType
    public var value: HTTPTypedJSON
    /// `CausalContext.token` of the key's whole context.
    public var context: String

    public init(type: DataType, value: HTTPTypedJSON, context: String) {
        self.type = type
        self.value = value
        self.context = context
    }
}

/// `POST|DELETE /types/{bucket}/{key}`: the update's reply and how many replicas acknowledged.
/// `value` for increments (the new counter or field value), `count` for the rest (elements
/// added or removed, fields created or removed, 1 or 0 for a reset).
public struct HTTPTypedUpdateDocument: Codable, Sendable, Equatable {
    public var value: Int64?
    public var count: Int?
    public var acks: Int

    public init(value: Int64? = nil, count: Int? = nil, acks: Int) {
        self.value = value
        self.count = count
        self.acks = acks
    }

    public init(_ result: TypedUpdateResult) {
        switch result.reply {
        case .integer(let value): self.init(value: value, acks: result.acks)
        case .count(let count): self.init(count: count, acks: result.acks)
        }
    }
}

/// Reads a `POST /types/{bucket}/{key}` body as the operation for a bucket of `datatype`
/// (in the style of Riak's data type API), with errors a person can act on:
///
/// - any type: `{"reset": true}` (the same as `DELETE`)
/// - counter: `{"increment": 5}` (negative decrements), optional `"id": "<retry id>"`
/// - set: `{"add": "x"}`, `{"add_all": ["x", "y"]}`, `{"remove": "x"}`, `{"remove": ["x"]}`,
///   `{"remove_all": ["x", "y"]}`, removes optionally with `"context": "<token from a read>"`.
///   One body adds or removes, not both (`TypedOperation` applies one kind per request;
///   two requests make the order explicit).
/// - map: `{"update": {"f": {"register": "v"} | {"counter": 3} | {"flag": true|false}},
///   "remove": ["g"]}`; a field may not be both updated and removed. Updates apply in
///   field-name order, then removes. A `context` is accepted and not needed: map removes
///   take away what the lead replica has seen.
///
/// Elements, fields and register values are JSON strings: text as is, bytes as
/// `"base64:" + URL-safe base64` (the form reads show).
public enum HTTPTypedOperationDecoder {
    public static let fields: [DataType: [String]] = [
        .counter: ["increment", "id", "reset"],
        .set: ["add", "add_all", "remove", "remove_all", "context", "reset"],
        .map: ["update", "remove", "context", "reset"],
    ]

    /// The `wrong_type` message for a typed operation on a bucket of plain values.
    public static func untypedBucketMessage(_ bucket: String) -> String {
        "bucket \(bucket) holds plain values, not a counter, set or map: use /kv for it, or make a typed bucket (before it "
            + "holds data) with PUT /buckets/{bucket}/props and {\"datatype\": \"counter\"|\"set\"|\"map\"}"
    }

    public static func decode(_ body: [UInt8], datatype: DataType, limits: Limits = .defaults) throws(KVError) -> TypedOperation {
        let fields = try object(body, datatype: datatype)
        let allowed = Self.fields[datatype] ?? []
        if let unknown = fields.first(where: { !allowed.contains($0.0) }) {
            throw .badParameter(
                name: unknown.0,
                message: "\"\(unknown.0)\" is not an operation on a \(datatype.rawValue); a \(datatype.rawValue) bucket takes "
                    + allowed.joined(separator: ", ") + " (see docs/datatypes.md)")
        }
        if let reset = fields.first(where: { $0.0 == "reset" }) {
            guard fields.count == 1, reset.1 == .bool(true) else {
                throw .badParameter(name: "reset", message: "a reset is the body {\"reset\": true} alone (or DELETE the key)")
            }
            return .reset
        }
        let operation = HTTPTypedJSON.object(fields)
        switch datatype {
        case .counter: return try counter(operation, limits: limits)
        case .set: return try set(operation, limits: limits)
        case .map: return try map(operation, limits: limits)
        }
    }

    private static func object(_ body: [UInt8], datatype: DataType) throws(KVError) -> [(String, HTTPTypedJSON)] {
        let example: String
        switch datatype {
        case .counter: example = "{\"increment\": 5}"
        case .set: example = "{\"add\": \"x\"}"
        case .map: example = "{\"update\": {\"name\": {\"register\": \"Ada\"}}}"
        }
        guard let value = try? JSONDecoder().decode(HTTPTypedJSON.self, from: Data(body)), case .object(let fields) = value,
            !fields.isEmpty
        else {
            throw .badParameter(name: "body", message: "expected a JSON object with a \(datatype.rawValue) operation, e.g. \(example)")
        }
        return fields
    }

    private static func counter(_ body: HTTPTypedJSON, limits: Limits) throws(KVError) -> TypedOperation {
        guard case .integer(let amount)? = body["increment"] else {
            throw .badParameter(
                name: "increment",
                message: "a counter update is {\"increment\": N} with N a 64-bit integer (negative decrements), got "
                    + (body["increment"]?.description ?? "no increment"))
        }
        var operationID: [UInt8]?
        if let id = body["id"] {
            guard case .string(let text) = id, !text.isEmpty else {
                throw .badParameter(name: "id", message: "id must be a non-empty string that names this increment for retries, got \(id)")
            }
            guard text.utf8.count <= limits.typedOperationIDBytesMax else {
                throw .tooLarge(what: "operation id", bytes: text.utf8.count, limit: limits.typedOperationIDBytesMax)
            }
            operationID = Array(text.utf8)
        }
        return .increment(by: amount, operationID: operationID)
    }

    private static func set(_ body: HTTPTypedJSON, limits: Limits) throws(KVError) -> TypedOperation {
        var adds: [[UInt8]] = []
        var removes: [[UInt8]] = []
        if let one = body["add"] { adds.append(try element(one, name: "add", limits: limits)) }
        if let all = body["add_all"] { adds += try elements(all, name: "add_all", limits: limits) }
        if let one = body["remove"] {
            if case .array = one {
                removes += try elements(one, name: "remove", limits: limits)
            } else {
                removes.append(try element(one, name: "remove", limits: limits))
            }
        }
        if let all = body["remove_all"] { removes += try elements(all, name: "remove_all", limits: limits) }
        guard adds.isEmpty || removes.isEmpty else {
            throw .badParameter(
                name: "body", message: "one request either adds or removes elements; send the adds and the removes as two requests")
        }
        if !adds.isEmpty { return .setAdd(adds) }
        guard !removes.isEmpty else {
            throw .badParameter(name: "body", message: "name at least one element: {\"add\": \"x\"} or {\"remove\": \"x\"}")
        }
        guard let token = body["context"] else { return .setRemove(removes) }
        guard case .string(let text) = token else {
            throw .badParameter(name: "context", message: "context must be the string a GET /types read answered, got \(token)")
        }
        return .setRemoveObserved(removes, context: try CausalContext(token: text, limits: limits))
    }

    private static func map(_ body: HTTPTypedJSON, limits: Limits) throws(KVError) -> TypedOperation {
        var updates: [MapFieldUpdate] = []
        var updated: Set<[UInt8]> = []
        if let update = body["update"] {
            guard case .object(let fields) = update, !fields.isEmpty else {
                throw .badParameter(
                    name: "update", message: "update must be an object of field → {\"register\": \"v\"}, {\"counter\": N} or {\"flag\": true|false}")
            }
            for (name, change) in fields.sorted(by: { $0.0 < $1.0 }) {
                let field = try memberBytes(name, name: "update", limits: limits)
                updates.append(try fieldUpdate(field, name: name, change, limits: limits))
                updated.insert(field)
            }
        }
        if let remove = body["remove"] {
            let fields: [[UInt8]]
            if case .array = remove {
                fields = try elements(remove, name: "remove", limits: limits)
            } else {
                fields = [try element(remove, name: "remove", limits: limits)]
            }
            for field in fields {
                guard !updated.contains(field) else {
                    throw .badParameter(
                        name: "remove", message: "field \"\(TypedJSONValue.text(field))\" is both updated and removed; send one of them")
                }
                updates.append(.removeField(field: field))
            }
        }
        guard !updates.isEmpty else {
            throw .badParameter(name: "body", message: "a map update names fields: {\"update\": {...}} or {\"remove\": [\"f\"]}")
        }
        return .mapUpdate(updates)
    }

    private static func fieldUpdate(_ field: [UInt8], name: String, _ change: HTTPTypedJSON, limits: Limits) throws(KVError) -> MapFieldUpdate {
        let shape = "each field's update is one of {\"register\": \"v\"}, {\"counter\": N}, {\"flag\": true|false}"
        guard case .object(let parts) = change, parts.count == 1 else {
            throw .badParameter(name: "update", message: "field \"\(name)\": \(shape), got \(change)")
        }
        switch (parts[0].0, parts[0].1) {
        case ("register", .string(let text)):
            guard let value = TypedJSONValue.bytes(text) else {
                throw .badParameter(name: "register", message: "field \"\(name)\": the value starts with base64: but the rest is not URL-safe base64")
            }
            guard value.count <= limits.valueBytesMax else { throw .tooLarge(what: "register value", bytes: value.count, limit: limits.valueBytesMax) }
            return .setRegister(field: field, value: value)
        case ("counter", .integer(let amount)):
            return .incrementCounter(field: field, by: amount)
        case ("flag", .bool(let enabled)):
            return enabled ? .enableFlag(field: field) : .disableFlag(field: field)
        default:
            throw .badParameter(name: "update", message: "field \"\(name)\": \(shape), got {\"\(parts[0].0)\": \(parts[0].1)}")
        }
    }

    private static func elements(_ value: HTTPTypedJSON, name: String, limits: Limits) throws(KVError) -> [[UInt8]] {
        guard case .array(let items) = value, !items.isEmpty else {
            throw .badParameter(name: name, message: "\(name) must be a non-empty array of strings, got \(value)")
        }
        var result: [[UInt8]] = []
        for item in items { result.append(try element(item, name: name, limits: limits)) }
        return result
    }

    private static func element(_ value: HTTPTypedJSON, name: String, limits: Limits) throws(KVError) -> [UInt8] {
        guard case .string(let text) = value else {
            throw .badParameter(name: name, message: "\(name) takes strings (text, or base64: + URL-safe base64 for bytes), got \(value)")
        }
        return try memberBytes(text, name: name, limits: limits)
    }

    private static func memberBytes(_ text: String, name: String, limits: Limits) throws(KVError) -> [UInt8] {
        guard let bytes = TypedJSONValue.bytes(text) else {
            throw .badParameter(name: name, message: "\"\(text)\" starts with base64: but the rest is not URL-safe base64")
        }
        guard bytes.count <= limits.typedMemberBytesMax else {
            throw .tooLarge(what: "element or field name", bytes: bytes.count, limit: limits.typedMemberBytesMax)
        }
        return bytes
    }
}
