import QuorumCore

/// A counter, set or map command as `quorumkv type …` and `quorumkv shell` take it, in
/// Redis's words (`INCR`, `SADD`, `HSET`, …) plus `READ` (the whole value with its
/// context), `RESET` (the observed-remove `DEL`) and `CREATE` (make the bucket typed).
/// Pure data: `TypedClientRunner` sends it over the HTTP API. One parser for both front
/// ends, so they accept the same lines.
public enum TypedClientCommand: Sendable, Equatable {
    /// INCR, INCRBY, DECR, DECRBY: `by` is already signed.
    case increment(key: String, by: Int64)
    case setAdd(key: String, elements: [String])
    case setRemove(key: String, elements: [String])
    case setMembers(key: String)
    case setIsMember(key: String, element: String)
    case setCardinality(key: String)
    /// HSET key field value [field value ...]
    case mapSet(key: String, pairs: [MapPair])
    case mapGet(key: String, field: String)
    case mapGetAll(key: String)
    case mapDelete(key: String, fields: [String])
    case mapIncrement(key: String, field: String, by: Int64)
    /// READ key [member ...]: the value as JSON with its context token.
    case read(key: String, members: [String])
    case reset(key: String)
    /// CREATE counter|set|map: sets the bucket's datatype (only before it holds data), and
    /// its n when the request options name one (`--n 1` on a one-node cluster).
    case create(DataType)

    public struct MapPair: Sendable, Equatable {
        public var field: String
        public var value: String

        public init(field: String, value: String) {
            self.field = field
            self.value = value
        }
    }

    /// The command words, for help and completion.
    public static let words = [
        "INCR", "INCRBY", "DECR", "DECRBY", "SADD", "SREM", "SMEMBERS", "SISMEMBER", "SCARD", "HSET", "HGET", "HGETALL", "HDEL",
        "HINCRBY", "READ", "RESET", "CREATE",
    ]

    /// One line per command: usage and what it does (for `--help` and the shell's `HELP`).
    public static let usage: [(usage: String, summary: String)] = [
        ("INCR <key>   DECR <key>", "Add 1 to (subtract 1 from) a counter; prints the new value"),
        ("INCRBY <key> <n>   DECRBY <key> <n>", "Add (subtract) n"),
        ("SADD <key> <element>...", "Add elements to a set; prints how many were new"),
        ("SREM <key> <element>...", "Remove elements (those the node has seen); prints how many were there"),
        ("SMEMBERS <key>", "Every element, one per line"),
        ("SISMEMBER <key> <element>", "1 when the element is in the set, else 0"),
        ("SCARD <key>", "How many elements"),
        ("HSET <key> <field> <value>...", "Set map fields (registers); prints how many fields were new"),
        ("HGET <key> <field>", "One field's value"),
        ("HGETALL <key>", "Every field as field<TAB>value"),
        ("HDEL <key> <field>...", "Remove fields; prints how many were there"),
        ("HINCRBY <key> <field> <n>", "Add n to a map field's counter; prints the new value"),
        ("READ <key> [<member>...]", "The value as JSON with its context (only the members named)"),
        ("RESET <key>", "Remove everything the node has seen in the key (DEL)"),
        ("CREATE counter|set|map", "Make the bucket a typed bucket (only before it holds data; with n when given)"),
    ]

    /// Parses the words of a command (the first is the command word, any case).
    public static func parse(_ words: [String]) throws(ShellParseError) -> TypedClientCommand {
        guard let first = words.first else { throw .syntax("name a command: \(Self.words.joined(separator: ", "))") }
        let command = first.uppercased()
        let arguments = Array(words.dropFirst())
        func usage() -> ShellParseError {
            .syntax("usage: " + (Self.usage.first { $0.usage.hasPrefix(command + " ") || $0.usage.contains("   \(command) ") }?.usage
                ?? command))
        }
        func key() throws(ShellParseError) -> String {
            guard let key = arguments.first else { throw usage() }
            guard !key.isEmpty, key.utf8.count <= Limits.defaults.keyBytesMax else {
                throw .parameter("a key is 1...\(Limits.defaults.keyBytesMax) bytes")
            }
            return key
        }
        func integer(_ text: String) throws(ShellParseError) -> Int64 {
            guard let value = Int64(text) else { throw .parameter("\(command) takes a 64-bit integer, got \"\(text)\"") }
            return value
        }
        switch command {
        case "INCR", "DECR":
            guard arguments.count == 1 else { throw usage() }
            return .increment(key: try key(), by: command == "INCR" ? 1 : -1)
        case "INCRBY", "DECRBY":
            guard arguments.count == 2 else { throw usage() }
            let amount = try integer(arguments[1])
            if command == "DECRBY" {
                guard amount != Int64.min else { throw .parameter("DECRBY \(amount) is out of range") }
                return .increment(key: try key(), by: -amount)
            }
            return .increment(key: try key(), by: amount)
        case "SADD", "SREM":
            guard arguments.count >= 2 else { throw usage() }
            let elements = Array(arguments.dropFirst())
            return command == "SADD" ? .setAdd(key: try key(), elements: elements) : .setRemove(key: try key(), elements: elements)
        case "SMEMBERS", "SCARD", "HGETALL", "RESET":
            guard arguments.count == 1 else { throw usage() }
            switch command {
            case "SMEMBERS": return .setMembers(key: try key())
            case "SCARD": return .setCardinality(key: try key())
            case "HGETALL": return .mapGetAll(key: try key())
            default: return .reset(key: try key())
            }
        case "SISMEMBER", "HGET":
            guard arguments.count == 2 else { throw usage() }
            return command == "HGET"
                ? .mapGet(key: try key(), field: arguments[1]) : .setIsMember(key: try key(), element: arguments[1])
        case "HSET":
            guard arguments.count >= 3, arguments.count % 2 == 1 else { throw usage() }
            var pairs: [MapPair] = []
            var index = 1
            while index < arguments.count {
                pairs.append(MapPair(field: arguments[index], value: arguments[index + 1]))
                index += 2
            }
            return .mapSet(key: try key(), pairs: pairs)
        case "HDEL":
            guard arguments.count >= 2 else { throw usage() }
            return .mapDelete(key: try key(), fields: Array(arguments.dropFirst()))
        case "HINCRBY":
            guard arguments.count == 3 else { throw usage() }
            return .mapIncrement(key: try key(), field: arguments[1], by: try integer(arguments[2]))
        case "READ":
            guard !arguments.isEmpty else { throw usage() }
            return .read(key: try key(), members: Array(arguments.dropFirst()))
        case "CREATE":
            guard arguments.count == 1 else { throw usage() }
            guard let datatype = DataType(rawValue: arguments[0].lowercased()) else {
                throw .parameter("CREATE takes counter, set or map, got \"\(arguments[0])\"")
            }
            return .create(datatype)
        default:
            throw .syntax("unknown command \"\(first)\"; the typed commands are \(Self.words.joined(separator: ", "))")
        }
    }
}
