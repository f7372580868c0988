import Foundation
import QuorumCore

/// The JSON bodies of the HTTP API, shared by the server (encodes) and the client (decodes).

/// `{"error": "<code>", "message": "…"}` plus, for some errors, the numbers behind them.
public struct HTTPErrorDocument: Codable, Sendable, Equatable {
    public var error: String
    public var message: String
    /// `bad_parameter`: the parameter at fault.
    public var parameter: String?
    /// `quorum_not_met`: replicas the request needed.
    public var needed: Int?
    /// `quorum_not_met` on a write: replicas that acknowledged.
    public var acked: Int?
    /// `quorum_not_met` on a read: replicas that replied.
    public var replied: Int?
    /// `quorum_not_met` with `pr`/`pw`: primaries needed and answered.
    public var primariesNeeded: Int?
    public var primariesAnswered: Int?
    /// `too_large`: the limit in bytes.
    public var limit: Int?

    enum CodingKeys: String, CodingKey {
        case error, message, parameter, needed, acked, replied, limit
        case primariesNeeded = "primaries_needed"
        case primariesAnswered = "primaries_answered"
    }

    public init(
        error: String, message: String, parameter: String? = nil, needed: Int? = nil, acked: Int? = nil,
        replied: Int? = nil, primariesNeeded: Int? = nil, primariesAnswered: Int? = nil, limit: Int? = nil
    ) {
        self.error = error
        self.message = message
        self.parameter = parameter
        self.needed = needed
        self.acked = acked
        self.replied = replied
        self.primariesNeeded = primariesNeeded
        self.primariesAnswered = primariesAnswered
        self.limit = limit
    }

    /// The document for a `KVError`.
    public init(_ error: KVError) {
        self.init(error: error.code, message: error.message)
        switch error {
        case .badParameter(let name, _):
            parameter = name
        case .tooLarge(_, _, let limit):
            self.limit = limit
        case .quorumNotMet(let operation, let needed, let answered, let primariesNeeded, let primariesAnswered):
            self.needed = needed
            switch operation {
            case .read: replied = answered
            case .write: acked = answered
            }
            if primariesNeeded > 0 {
                self.primariesNeeded = primariesNeeded
                self.primariesAnswered = primariesAnswered
            }
        case .siblingLimit(let limit):
            self.limit = limit
        case .notFound, .preconditionFailed, .overloaded, .unavailable, .internalError, .forbidden, .wrongType:
            break
        }
    }
}

/// The 300 Multiple Choices body: every sibling and the one context that supersedes them all.
public struct HTTPSiblingsDocument: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// The value: UTF-8 text when it is valid UTF-8, else standard base64.
        public var value: String
        /// `utf8` or `base64`.
        public var encoding: String
        public var contentType: String
        public var timestampMilliseconds: UInt64
        public var actor: String

        enum CodingKeys: String, CodingKey {
            case value, encoding, actor
            case contentType = "content_type"
            case timestampMilliseconds = "timestamp_ms"
        }

        public init(value: String, encoding: String, contentType: String, timestampMilliseconds: UInt64, actor: String) {
            self.value = value
            self.encoding = encoding
            self.contentType = contentType
            self.timestampMilliseconds = timestampMilliseconds
            self.actor = actor
        }

        public init(_ sibling: Sibling) {
            let (text, encoding) = HTTPValueText.encode(sibling.value)
            self.init(
                value: text, encoding: encoding, contentType: sibling.contentType,
                timestampMilliseconds: sibling.timestamp.physicalMilliseconds, actor: sibling.dot.actor)
        }

        /// The value's bytes; nil when `encoding` is unknown or the base64 is bad.
        public var bytes: [UInt8]? { HTTPValueText.decode(value, encoding: encoding) }
    }

    public var siblings: [Entry]
    public var context: String

    public init(siblings: [Entry], context: String) {
        self.siblings = siblings
        self.context = context
    }
}

/// A value rendered as JSON text: UTF-8 when possible, else base64.
public enum HTTPValueText {
    public static func encode(_ bytes: [UInt8]) -> (text: String, encoding: String) {
        if let text = utf8(bytes) { return (text, "utf8") }
        return (Data(bytes).base64EncodedString(), "base64")
    }

    public static func decode(_ text: String, encoding: String) -> [UInt8]? {
        switch encoding {
        case "utf8": return Array(text.utf8)
        case "base64": return Data(base64Encoded: text).map { Array($0) }
        default: return nil
        }
    }

    /// The bytes as a String when they are valid UTF-8.
    public static func utf8(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }
}

/// `GET|PUT /buckets/{bucket}/props` body: r and w are a number or a level word.
public struct HTTPBucketPropsDocument: Codable, Sendable, Equatable {
    public var bucket: String
    public var n: Int
    public var r: ConsistencyLevel
    public var w: ConsistencyLevel
    public var conflict: ConflictMode
    /// The default ttl of writes that give none; absent when the bucket has none.
    public var ttlSeconds: UInt64?
    /// `counter`, `set` or `map` for a typed bucket; absent for plain values.
    public var datatype: DataType?
    /// `eventual` or `strong` (docs/strong.md); always sent, read as `eventual` when absent.
    public var consistency: BucketConsistency

    public init(
        bucket: String, n: Int, r: ConsistencyLevel, w: ConsistencyLevel, conflict: ConflictMode, ttlSeconds: UInt64? = nil,
        datatype: DataType? = nil, consistency: BucketConsistency = .eventual
    ) {
        self.datatype = datatype
        self.consistency = consistency
        self.bucket = bucket
        self.n = n
        self.r = r
        self.w = w
        self.conflict = conflict
        self.ttlSeconds = ttlSeconds
    }

    public init(bucket: String, props: BucketProps) {
        self.init(
            bucket: bucket, n: props.n, r: props.r, w: props.w, conflict: props.conflict, ttlSeconds: props.ttlSeconds,
            datatype: props.datatype, consistency: props.consistency)
    }

    enum CodingKeys: String, CodingKey {
        case bucket, n, r, w, conflict, datatype, consistency
        case ttlSeconds = "ttl_seconds"
    }

    /// A node from before strong buckets sends no `consistency`: its buckets are eventual.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            bucket: try container.decode(String.self, forKey: .bucket), n: try container.decode(Int.self, forKey: .n),
            r: try container.decode(ConsistencyLevel.self, forKey: .r), w: try container.decode(ConsistencyLevel.self, forKey: .w),
            conflict: try container.decode(ConflictMode.self, forKey: .conflict),
            ttlSeconds: try container.decodeIfPresent(UInt64.self, forKey: .ttlSeconds),
            datatype: try container.decodeIfPresent(DataType.self, forKey: .datatype),
            consistency: try container.decodeIfPresent(BucketConsistency.self, forKey: .consistency) ?? .eventual)
    }
}

/// Decoding of a `PUT /buckets/{bucket}/props` body with errors a person can act on.
public enum HTTPBucketPropsUpdateDecoder {
    public static let fields = ["n", "r", "w", "conflict", "ttl_seconds", "datatype", "consistency"]

    public static func decode(_ body: [UInt8], limits: Limits = .defaults) throws(KVError) -> BucketPropsUpdate {
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: Data(body))
        } catch {
            throw .badParameter(
                name: "body",
                message: "expected a JSON object with any of \(fields.joined(separator: ", ")), e.g. {\"n\":3,\"w\":\"quorum\",\"conflict\":\"vclock\"}")
        }
        var update = BucketPropsUpdate()
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "n":
                guard case .number(let number) = value, let n = Int(exactly: number) else {
                    throw .badParameter(name: "n", message: "n must be an integer, got \(value)")
                }
                guard n >= 1, n <= limits.replicasMax else {
                    throw .badParameter(name: "n", message: "n must be 1...\(limits.replicasMax), got \(n)")
                }
                update.n = n
            case "r", "w":
                let level: ConsistencyLevel?
                switch value {
                case .number(let number): level = Int(exactly: number).flatMap { $0 >= 0 ? .count($0) : nil }
                case .string(let text): level = ConsistencyLevel(parsing: text)
                default: level = nil
                }
                guard let level else {
                    throw .badParameter(
                        name: name, message: "\(name) must be an integer or one of one, two, three, quorum, all; got \(value)")
                }
                if name == "r" { update.r = level } else { update.w = level }
            case "conflict":
                guard case .string(let text) = value, let mode = ConflictMode(rawValue: text.lowercased()) else {
                    throw .badParameter(
                        name: "conflict", message: "unknown conflict mode \(value): expected lww or vclock")
                }
                update.conflict = mode
            case "ttl_seconds":
                guard case .number(let number) = value, let ttl = UInt64(exactly: number), ttl <= limits.ttlSecondsMax else {
                    throw .badParameter(
                        name: "ttl_seconds",
                        message: "ttl_seconds must be a whole number of seconds 0...\(limits.ttlSecondsMax) (0 removes the default ttl), got \(value)")
                }
                update.ttlSeconds = ttl
            case "datatype":
                guard case .string(let text) = value, let datatype = DataType(rawValue: text.lowercased()) else {
                    throw .badParameter(
                        name: "datatype",
                        message: "unknown datatype \(value): expected counter, set or map (fixed when the bucket is created)")
                }
                update.datatype = datatype
            case "consistency":
                guard case .string(let text) = value, let consistency = BucketConsistency(rawValue: text.lowercased()) else {
                    throw .badParameter(
                        name: "consistency",
                        message: "unknown consistency \(value): expected eventual or strong (fixed when the bucket is created)")
                }
                update.consistency = consistency
            default:
                throw .badParameter(
                    name: name, message: "unknown bucket property \"\(name)\"; expected any of \(fields.joined(separator: ", "))")
            }
        }
        return update
    }
}

/// Any JSON value, for bodies whose fields are checked one by one.
public enum JSONValue: Codable, Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .number(let value):
            if let integer = Int(exactly: value) { return String(integer) }
            return String(value)
        case .string(let value): return "\"\(value)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// JSON encoding with stable key order, used for every body the API sends.
enum HTTPJSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            return Array(#"{"error":"internal","message":"response could not be encoded"}"#.utf8)
        }
    }
}
