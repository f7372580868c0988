import Foundation
import QuorumCore

/// What a typed command printed: `text` for people (one value, count or element per
/// line), `json` for `--json`, `found` false when a read found nothing to print (`HGET`
/// of an absent field, `READ` of an absent key: exit code "not found").
public struct TypedClientOutput: Sendable, Equatable {
    public var text: String
    public var json: HTTPTypedJSON
    public var found: Bool

    public init(text: String, json: HTTPTypedJSON, found: Bool = true) {
        self.text = text
        self.json = json
        self.found = found
    }
}

/// Runs a `TypedClientCommand` over the HTTP API (`/types` and bucket props), for
/// `quorumkv type` and `quorumkv shell`. Reads of absent keys answer as Redis does: an
/// empty set or map, a count of 0.
public enum TypedClientRunner {
    public static func run(
        _ command: TypedClientCommand, client: KVHTTPClient, bucket: String, options: RequestOptions
    ) async throws(KVClientError) -> TypedClientOutput {
        func update(_ key: String, _ operation: HTTPTypedJSON) async throws(KVClientError) -> TypedClientOutput {
            let document = try await client.updateType(bucket: bucket, key: Array(key.utf8), operation: operation, options: options)
            let reply = document.value.map { String($0) } ?? document.count.map { String($0) } ?? ""
            return TypedClientOutput(text: reply + "\n", json: json(document))
        }
        func read(_ key: String, _ members: [String]? = nil) async throws(KVClientError) -> HTTPTypedReadDocument? {
            try await client.readType(bucket: bucket, key: Array(key.utf8), members: members.map { $0.map { Array($0.utf8) } }, options: options)
        }
        switch command {
        case .increment(let key, let by):
            return try await update(key, .object([("increment", .integer(by))]))
        case .setAdd(let key, let elements):
            return try await update(key, .object([("add_all", strings(elements))]))
        case .setRemove(let key, let elements):
            return try await update(key, .object([("remove_all", strings(elements))]))
        case .mapSet(let key, let pairs):
            return try await update(key, .object([("update", .object(pairs.map { ($0.field, .object([("register", text($0.value))])) }))]))
        case .mapDelete(let key, let fields):
            return try await update(key, .object([("remove", strings(fields))]))
        case .mapIncrement(let key, let field, let by):
            return try await update(key, .object([("update", .object([(field, .object([("counter", .integer(by))]))]))]))
        case .reset(let key):
            let document = try await client.resetType(bucket: bucket, key: Array(key.utf8), options: options)
            return TypedClientOutput(text: "\(document.count ?? 0)\n", json: json(document))
        case .setMembers(let key):
            let document = try await read(key)
            let elements = try elementTexts(document?.value)
            return TypedClientOutput(text: elements.map { $0 + "\n" }.joined(), json: .array(elements.map { .string($0) }))
        case .setCardinality(let key):
            let document = try await read(key)
            let count = try elementTexts(document?.value).count
            return TypedClientOutput(text: "\(count)\n", json: .integer(Int64(count)))
        case .setIsMember(let key, let element):
            let document = try await read(key, [element])
            let present = try elementTexts(document?.value).contains(element)
            return TypedClientOutput(text: present ? "1\n" : "0\n", json: .bool(present))
        case .mapGet(let key, let field):
            let document = try await read(key, [field])
            let fields = try fieldTexts(document?.value)
            guard let value = fields.first(where: { $0.field == field })?.value else {
                return TypedClientOutput(text: "", json: .null, found: false)
            }
            return TypedClientOutput(text: value + "\n", json: .string(value))
        case .mapGetAll(let key):
            let document = try await read(key)
            let fields = try fieldTexts(document?.value)
            return TypedClientOutput(
                text: fields.map { "\($0.field)\t\($0.value)\n" }.joined(), json: .object(fields.map { ($0.field, .string($0.value)) }))
        case .read(let key, let members):
            guard let document = try await read(key, members.isEmpty ? nil : members) else {
                return TypedClientOutput(text: "", json: .null, found: false)
            }
            let encoded = json(document)
            return TypedClientOutput(text: String(decoding: HTTPJSON.encode(encoded), as: UTF8.self) + "\n", json: encoded)
        case .create(let datatype):
            let props = try await client.setBucketProps(bucket: bucket, update: BucketPropsUpdate(n: options.n, datatype: datatype))
            return TypedClientOutput(
                text: "bucket \(bucket): datatype \(props.datatype?.rawValue ?? "none")\n",
                json: .object([("bucket", .string(bucket)), ("datatype", .string(props.datatype?.rawValue ?? ""))]))
        }
    }

    /// A user's text as the API's element form (text starting with `base64:` is escaped).
    static func text(_ value: String) -> HTTPTypedJSON { .string(TypedJSONValue.text(Array(value.utf8))) }

    static func strings(_ values: [String]) -> HTTPTypedJSON { .array(values.map(text)) }

    /// An API string back to text for printing (bytes that are not UTF-8 print replaced).
    static func display(_ value: String) -> String {
        String(decoding: TypedJSONValue.bytes(value) ?? Array(value.utf8), as: UTF8.self)
    }

    static func elementTexts(_ value: HTTPTypedJSON?) throws(KVClientError) -> [String] {
        guard let value else { return [] }
        guard case .array(let items) = value else { throw .badResponse("expected a set (an array of elements), got \(value)") }
        var texts: [String] = []
        for item in items {
            guard case .string(let element) = item else { throw .badResponse("a set element is not a string: \(item)") }
            texts.append(display(element))
        }
        return texts
    }

    static func fieldTexts(_ value: HTTPTypedJSON?) throws(KVClientError) -> [(field: String, value: String)] {
        guard let value else { return [] }
        guard case .object(let fields) = value else { throw .badResponse("expected a map (an object of fields), got \(value)") }
        return fields.map { field in
            let text: String
            switch field.1 {
            case .string(let register): text = display(register)
            case .integer(let number): text = String(number)
            case .bool(let flag): text = flag ? "1" : "0"
            default: text = field.1.description
            }
            return (display(field.0), text)
        }
    }

    static func json<T: Encodable>(_ document: T) -> HTTPTypedJSON {
        (try? JSONDecoder().decode(HTTPTypedJSON.self, from: Data(HTTPJSON.encode(document)))) ?? .null
    }
}
