import QuorumCore

/// A key and its value, as `MSET` takes them.
public struct RESPKeyValue: Sendable, Equatable {
    public var key: [UInt8]
    public var value: [UInt8]

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// What `CONSISTENCY` asks for.
public enum RESPConsistencyChange: Sendable, Equatable {
    /// No arguments: show the connection's defaults.
    case show
    /// Set the named fields; fields not named keep their value.
    case set(RequestOptions)
    /// `CONSISTENCY DEFAULT`: back to the bucket's defaults.
    case reset
}

/// The `COMMAND` subcommands `redis-cli` and client libraries send.
public enum RESPCommandIntrospection: Sendable, Equatable {
    case all
    case count
    /// `COMMAND DOCS`: every command.
    case docs
    /// `COMMAND DOCS name …`: the ones named (lower case).
    case docsNamed([String])
    case list
    case info([String])
}

/// The `CLIENT` subcommands client libraries send on connect.
public enum RESPClientSubcommand: Sendable, Equatable {
    case setName([UInt8])
    case getName
    /// `SETINFO LIB-NAME …`, `NO-EVICT on`, …: accepted and ignored.
    case accepted
    case id
    case info
    case list
}

/// One command, parsed and checked: right arity, known options, values in range. What is
/// left to check needs the bucket's properties and is the service's job.
///
/// Multi-key commands (`MGET`, `MSET`, `DEL`, `EXISTS`) take no per-command options: a
/// trailing `R 2` would be indistinguishable from two more keys. They use the
/// connection's `CONSISTENCY` defaults.
public enum RESPCommand: Sendable, Equatable {
    case ping([UInt8]?)
    case echo([UInt8])
    case quit
    case select(bucket: String)
    case info(section: String?)
    case command(RESPCommandIntrospection)
    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`.
    case hello(protocolVersion: Int?, clientName: [UInt8]?, credentials: RESPCredentials? = nil)
    /// `AUTH [user] password`.
    case auth(RESPCredentials)
    case client(RESPClientSubcommand)
    case configGet([String])
    case consistency(RESPConsistencyChange)
    case get(key: [UInt8], options: RequestOptions)
    /// `ifAbsent` is `SET … NX` (and `SETNX`): create only.
    case set(key: [UInt8], value: [UInt8], options: RequestOptions, ifAbsent: Bool, replyAsInteger: Bool)
    case del(keys: [[UInt8]])
    case exists(keys: [[UInt8]])
    case mget(keys: [[UInt8]])
    case mset(pairs: [RESPKeyValue])
    case qget(key: [UInt8], options: RequestOptions)
    case qset(key: [UInt8], value: [UInt8], context: String?, contentType: String?, options: RequestOptions)
    case qdel(key: [UInt8], context: String?, options: RequestOptions)
    /// `FLUSHDB` (the connection's bucket) or `FLUSHALL` (every bucket): a truncation.
    case flush(everyBucket: Bool)
    /// `SET … XX|GET|IFEQ`, `GETSET`, `GETDEL`, `DELIFEQ`, `STRLEN` (RESPStringCommands.swift).
    case string(RESPStringCommand)
    /// `TYPE`, `SCAN`, `KEYS`, `DBSIZE` (RESPKeyspaceCommands.swift).
    case keyspace(RESPKeyspaceCommand)
    /// `MULTI`, `EXEC`, `DISCARD`, `UNWATCH` (RESPTransaction.swift).
    case transaction(RESPTransactionCommand)
    /// `TIME`, `WAIT` (RESPServerCommands.swift).
    case server(RESPServerCommand)
    /// `SET` with an expiry option, `SETEX`, `GETEX`, `EXPIRE`, `TTL`, … (`RESPExpiryCommand`).
    case expiry(RESPExpiryCommand)
    /// `INCR`, `SADD`, `HSET`, … on typed buckets (RESPTypedCommand.swift).
    case typed(RESPTypedCommand)

    /// Whether the command needs the key-value service (and so runs on a task) rather than
    /// being answered on the connection's event loop.
    public var usesService: Bool {
        switch self {
        case .get, .set, .del, .exists, .mget, .mset, .qget, .qset, .qdel, .string, .keyspace, .flush, .expiry, .typed: return true
        case .server(let command): return command.usesService
        case .info(let section): return RESPIntrospection.wantsKeyspace(section)
        default: return false
        }
    }

    /// The keys the command touches and whether it writes them: two commands of one
    /// connection on a common key, one of them a write, run one after the other.
    public var keyAccess: (keys: [[UInt8]], writes: Bool) {
        switch self {
        case .get(let key, _), .qget(let key, _): return ([key], false)
        case .exists(let keys), .mget(let keys): return (keys, false)
        case .set(let key, _, _, _, _), .qset(let key, _, _, _, _), .qdel(let key, _, _): return ([key], true)
        case .del(let keys): return (keys, true)
        case .mset(let pairs): return (pairs.map(\.key), true)
        case .flush: return ([], true)  // every key (`touchesEveryKey`): it runs alone in its connection's pipeline
        case .string(let command): return command.keyAccess
        case .keyspace(.type(let key, _)): return ([key], false)
        case .expiry(let command): return ([command.key], command.writes)
        case .typed(let command): return ([command.key], command.writes)
        default: return ([], false)
        }
    }
}

/// An error found while parsing a command; `reply` is what the client gets.
public struct RESPCommandError: Error, Sendable, Equatable {
    public var reply: RESPValue

    public init(_ prefix: String, _ message: String) {
        reply = .error(prefix: prefix, message)
    }

    static func wrongArity(_ name: String) -> RESPCommandError {
        RESPCommandError("ERR", "wrong number of arguments for '\(name.lowercased())' command")
    }

    static func syntax(_ detail: String) -> RESPCommandError {
        RESPCommandError("ERR", "syntax error, \(detail)")
    }
}

extension RESPCommand {
    /// Parses one command's words. `limits` bounds keys and values, so a multi-key command
    /// with one oversized key fails before any of it runs.
    public static func parse(_ words: [[UInt8]], limits: Limits) throws(RESPCommandError) -> RESPCommand {
        guard let first = words.first else { throw RESPCommandError("ERR", "empty command") }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        let arguments = Array(words.dropFirst())
        switch name {
        case "PING":
            guard arguments.count <= 1 else { throw .wrongArity(name) }
            return .ping(arguments.first)
        case "ECHO":
            guard arguments.count == 1 else { throw .wrongArity(name) }
            return .echo(arguments[0])
        case "QUIT":
            return .quit
        case "SELECT":
            guard arguments.count == 1 else { throw .wrongArity(name) }
            return .select(bucket: try selectBucket(arguments[0], limits: limits))
        case "INFO":
            return .info(section: arguments.first.map { String(decoding: $0, as: UTF8.self).lowercased() })
        case "COMMAND":
            return .command(try introspection(arguments))
        case "HELLO":
            return try hello(arguments)
        case "AUTH":
            switch arguments.count {
            case 1: return .auth(RESPCredentials(user: nil, password: arguments[0]))
            case 2: return .auth(RESPCredentials(user: String(decoding: arguments[0], as: UTF8.self), password: arguments[1]))
            default: throw .wrongArity(name)
            }
        case "CLIENT":
            return .client(try client(arguments))
        case "CONFIG":
            guard let sub = arguments.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else {
                throw .wrongArity(name)
            }
            guard sub == "GET" else {
                throw RESPCommandError(
                    "ERR", "CONFIG \(sub) is not supported by QuorumKV; configure a node with `quorumkv serve` flags")
            }
            guard arguments.count >= 2 else { throw .wrongArity("config|get") }
            return .configGet(arguments.dropFirst().map { String(decoding: $0, as: UTF8.self).lowercased() })
        case "CONSISTENCY":
            return .consistency(try consistency(arguments))
        case "GET":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            let key = try checkedKey(arguments[0], limits: limits)
            return .get(key: key, options: try options(arguments.dropFirst(), allowed: readOptions, command: name).options)
        case "SET":
            return try set(arguments, limits: limits)
        case "SETNX":
            guard arguments.count == 2 else { throw .wrongArity(name) }
            return .set(
                key: try checkedKey(arguments[0], limits: limits), value: try checkedValue(arguments[1], limits: limits),
                options: RequestOptions(), ifAbsent: true, replyAsInteger: true)
        case "DEL", "UNLINK":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            return .del(keys: try arguments.map { (key) throws(RESPCommandError) in try checkedKey(key, limits: limits) })
        case "EXISTS":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            return .exists(keys: try arguments.map { (key) throws(RESPCommandError) in try checkedKey(key, limits: limits) })
        case "MGET":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            return .mget(keys: try arguments.map { (key) throws(RESPCommandError) in try checkedKey(key, limits: limits) })
        case "MSET":
            guard arguments.count >= 2, arguments.count % 2 == 0 else { throw .wrongArity(name) }
            var pairs: [RESPKeyValue] = []
            pairs.reserveCapacity(arguments.count / 2)
            for index in stride(from: 0, to: arguments.count, by: 2) {
                pairs.append(
                    RESPKeyValue(
                        key: try checkedKey(arguments[index], limits: limits),
                        value: try checkedValue(arguments[index + 1], limits: limits)))
            }
            return .mset(pairs: pairs)
        case "QGET":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            let key = try checkedKey(arguments[0], limits: limits)
            return .qget(key: key, options: try options(arguments.dropFirst(), allowed: readOptions, command: name).options)
        case "QSET":
            guard arguments.count >= 2 else { throw .wrongArity(name) }
            let key = try checkedKey(arguments[0], limits: limits)
            let value = try checkedValue(arguments[1], limits: limits)
            let parsed = try options(
                arguments.dropFirst(2), allowed: writeOptions + ["CONTEXT", "CONTENT-TYPE"], command: name)
            return .qset(
                key: key, value: value, context: parsed.context, contentType: parsed.contentType, options: parsed.options)
        case "QDEL":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            let key = try checkedKey(arguments[0], limits: limits)
            let parsed = try options(arguments.dropFirst(), allowed: writeOptions + ["CONTEXT"], command: name)
            return .qdel(key: key, context: parsed.context, options: parsed.options)
        case "FLUSHDB", "FLUSHALL":
            // ASYNC and SYNC mean the same here: the answer comes once every member hides the
            // bucket's old versions, and their space is freed later by the tombstone purge.
            guard arguments.count <= 1 else { throw .wrongArity(name) }
            if let mode = arguments.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }), mode != "ASYNC", mode != "SYNC" {
                throw .syntax("\(name) takes ASYNC or SYNC, got '\(printable(arguments[0], max: 32))'")
            }
            return .flush(everyBucket: name == "FLUSHALL")
        default:
            if let command = try parseSurface(name: name, arguments: arguments, limits: limits) { return command }
            if let refusal = refusal(name) { throw refusal }
            if let command = try RESPExpiryCommand.parse(
                name, arguments, limits: limits, checkedKey: { (key) throws(RESPCommandError) in try checkedKey(key, limits: limits) },
                checkedValue: { (value) throws(RESPCommandError) in try checkedValue(value, limits: limits) })
            {
                return .expiry(command)
            }
            let preview = arguments.prefix(3).map { "'\(printable($0, max: 32))' " }.joined()
            throw RESPCommandError(
                "ERR", "unknown command '\(printable(first, max: 64))', with args beginning with: \(preview)")
        }
    }

    // MARK: - Commands with structure

    /// `SELECT 0` is bucket `default`, `SELECT <n>` is bucket `db<n>`, any other word is
    /// the bucket of that name.
    static func selectBucket(_ word: [UInt8], limits: Limits) throws(RESPCommandError) -> String {
        let text = String(decoding: word, as: UTF8.self)
        if let number = RESPParser.integer(word[...]) {
            guard number >= 0 else { throw RESPCommandError("ERR", "DB index is out of range") }
            return number == 0 ? "default" : "db\(number)"
        }
        do {
            try validateBucketName(text, limits: limits)
        } catch {
            throw RESPCommandError("BADPARAM", error.message)
        }
        return text
    }

    private static func introspection(_ arguments: [[UInt8]]) throws(RESPCommandError) -> RESPCommandIntrospection {
        guard let first = arguments.first else { return .all }
        switch String(decoding: first, as: UTF8.self).uppercased() {
        case "COUNT": return .count
        case "DOCS":
            let names = arguments.dropFirst().map { String(decoding: $0, as: UTF8.self).lowercased() }
            return names.isEmpty ? .docs : .docsNamed(names)
        case "LIST": return .list
        case "INFO": return .info(arguments.dropFirst().map { String(decoding: $0, as: UTF8.self).lowercased() })
        case let other:
            throw RESPCommandError("ERR", "unknown subcommand '\(printable(Array(other.utf8), max: 32))'. Try COMMAND HELP.")
        }
    }

    private static func hello(_ arguments: [[UInt8]]) throws(RESPCommandError) -> RESPCommand {
        guard let first = arguments.first else { return .hello(protocolVersion: nil, clientName: nil, credentials: nil) }
        guard let version = RESPParser.integer(first[...]) else {
            throw RESPCommandError("ERR", "Protocol version is not an integer or out of range")
        }
        var name: [UInt8]?
        var credentials: RESPCredentials?
        var index = 1
        while index < arguments.count {
            switch String(decoding: arguments[index], as: UTF8.self).uppercased() {
            case "AUTH":
                guard index + 2 < arguments.count else { throw .syntax("HELLO AUTH needs a user name and a password") }
                credentials = RESPCredentials(
                    user: String(decoding: arguments[index + 1], as: UTF8.self), password: arguments[index + 2])
                index += 3
            case "SETNAME":
                guard index + 1 < arguments.count else { throw .syntax("HELLO SETNAME needs a name") }
                name = arguments[index + 1]
                index += 2
            default:
                throw .syntax("in option '\(printable(arguments[index], max: 32))'")
            }
        }
        return .hello(protocolVersion: version, clientName: name, credentials: credentials)
    }

    private static func client(_ arguments: [[UInt8]]) throws(RESPCommandError) -> RESPClientSubcommand {
        guard let first = arguments.first else { throw .wrongArity("client") }
        let sub = String(decoding: first, as: UTF8.self).uppercased()
        switch sub {
        case "SETNAME":
            guard arguments.count == 2 else { throw .wrongArity("client|setname") }
            guard !arguments[1].contains(where: { $0 <= 0x20 || $0 > 0x7E }) else {
                throw RESPCommandError("ERR", "Client names cannot contain spaces, newlines or special characters.")
            }
            return .setName(arguments[1])
        case "GETNAME": return .getName
        case "ID": return .id
        case "INFO": return .info
        case "LIST": return .list
        case "SETINFO", "NO-EVICT", "NO-TOUCH": return .accepted
        default:
            throw RESPCommandError(
                "ERR", "CLIENT \(printable(first, max: 32)) is not supported by QuorumKV (try SETNAME, GETNAME, SETINFO, ID, INFO, LIST)")
        }
    }

    private static func consistency(_ arguments: [[UInt8]]) throws(RESPCommandError) -> RESPConsistencyChange {
        guard let first = arguments.first else { return .show }
        if arguments.count == 1 {
            let word = String(decoding: first, as: UTF8.self)
            if ["DEFAULT", "RESET"].contains(word.uppercased()) { return .reset }
            // `CONSISTENCY QUORUM`: one level for both reads and writes, as in cqlsh.
            let level = try level(first, option: "consistency")
            return .set(RequestOptions(r: level, w: level))
        }
        let parsed = try options(arguments[...], allowed: readOptions + writeOptions, command: "CONSISTENCY")
        return .set(parsed.options)
    }

    private static func set(_ arguments: [[UInt8]], limits: Limits) throws(RESPCommandError) -> RESPCommand {
        guard arguments.count >= 2 else { throw .wrongArity("SET") }
        let key = try checkedKey(arguments[0], limits: limits)
        let value = try checkedValue(arguments[1], limits: limits)
        var rest = arguments.dropFirst(2)
        var ifAbsent = false
        var ifPresent = false
        var returnsOld = false
        var expected: [UInt8]?
        var expiry: RESPExpiryCommand.SetExpiry?
        var optionWords: [[UInt8]] = []
        while let word = rest.first {
            rest = rest.dropFirst()
            let upper = String(decoding: word, as: UTF8.self).uppercased()
            switch upper {
            case "NX":
                ifAbsent = true
            case "XX":
                ifPresent = true
            case "GET":
                returnsOld = true
            case "IFEQ":
                // Valkey 8.1: set only when the key holds exactly this value (strong buckets only).
                guard expected == nil, let comparison = rest.first else { throw .syntax("IFEQ needs the value to compare with") }
                rest = rest.dropFirst()
                expected = comparison
            case "KEEPTTL":
                guard expiry == nil else { throw RESPCommandError("ERR", "syntax error") }
                expiry = .keep
            case "EX", "PX", "EXAT", "PXAT":
                guard expiry == nil, let amount = rest.first else { throw RESPCommandError("ERR", "syntax error") }
                rest = rest.dropFirst()
                expiry = .deadline(try RESPExpiryCommand.deadline(upper, amount, command: "SET", limits: limits)!)
            default:
                optionWords.append(word)
                if let value = rest.first {
                    optionWords.append(value)
                    rest = rest.dropFirst()
                }
            }
        }
        let options = try options(optionWords[...], allowed: writeOptions, command: "SET").options
        guard !(ifAbsent && ifPresent) else { throw .syntax("NX and XX can't both be given") }
        if let expected {
            guard !ifAbsent && !ifPresent else { throw .syntax("IFEQ can't be given with NX or XX") }
            return .string(
                .setIfEquals(key: key, value: value, expected: expected, options: options, returnsOld: returnsOld, expiry: expiry))
        }
        if ifPresent || returnsOld {
            let condition: RESPSetCondition = ifPresent ? .ifPresent : ifAbsent ? .ifAbsent : .always
            return .string(
                .setReading(key: key, value: value, options: options, condition: condition, returnsOld: returnsOld, expiry: expiry))
        }
        if let expiry {
            return .expiry(.set(key: key, value: value, options: options, ifAbsent: ifAbsent, expiry: expiry))
        }
        return .set(key: key, value: value, options: options, ifAbsent: ifAbsent, replyAsInteger: false)
    }

    // MARK: - Options

    static let readOptions = ["R", "N", "PR", "TIMEOUT"]
    static let writeOptions = ["W", "N", "PW", "TIMEOUT"]

    /// Parses `NAME value` pairs; names are case-insensitive.
    static func options(
        _ words: ArraySlice<[UInt8]>, allowed: [String], command: String
    ) throws(RESPCommandError) -> (options: RequestOptions, context: String?, contentType: String?) {
        var options = RequestOptions()
        var context: String?
        var contentType: String?
        var index = words.startIndex
        while index < words.endIndex {
            let name = String(decoding: words[index], as: UTF8.self).uppercased()
            guard allowed.contains(name) else {
                throw .syntax(
                    "'\(printable(words[index], max: 32))' is not an option of \(command); options are \(allowed.joined(separator: ", "))")
            }
            guard index + 1 < words.endIndex else { throw .syntax("option \(name) of \(command) needs a value") }
            let value = words[index + 1]
            switch name {
            case "R": options.r = try level(value, option: "r")
            case "W": options.w = try level(value, option: "w")
            case "PR": options.pr = try level(value, option: "pr")
            case "PW": options.pw = try level(value, option: "pw")
            case "N":
                guard let n = RESPParser.integer(value[...]), n >= 1 else {
                    throw RESPCommandError("BADPARAM", "n must be a whole number of replicas, 1 or more; got '\(printable(value, max: 32))'")
                }
                options.n = n
            case "TIMEOUT":
                guard let milliseconds = RESPParser.integer(value[...]), milliseconds >= 1 else {
                    throw RESPCommandError("BADPARAM", "timeout must be a whole number of milliseconds, 1 or more; got '\(printable(value, max: 32))'")
                }
                options.timeoutMilliseconds = milliseconds
            case "CONTEXT":
                context = value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
            case "CONTENT-TYPE":
                contentType = value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
            default:
                break
            }
            index += 2
        }
        return (options, context, contentType)
    }

    private static func level(_ word: [UInt8], option: String) throws(RESPCommandError) -> ConsistencyLevel {
        guard let level = ConsistencyLevel(parsing: String(decoding: word, as: UTF8.self)) else {
            throw RESPCommandError(
                "BADPARAM", "\(option) must be a number or ONE, TWO, THREE, QUORUM, ALL; got '\(printable(word, max: 32))'")
        }
        return level
    }

    // MARK: - Keys and values

    static func checkedKey(_ key: [UInt8], limits: Limits) throws(RESPCommandError) -> [UInt8] {
        guard !key.isEmpty else {
            throw RESPCommandError("BADPARAM", "the key is empty; keys are 1 to \(limits.keyBytesMax) bytes")
        }
        guard key.count <= limits.keyBytesMax else {
            throw RESPCommandError("TOOLARGE", KVError.tooLarge(what: "key", bytes: key.count, limit: limits.keyBytesMax).message)
        }
        return key
    }

    static func checkedValue(_ value: [UInt8], limits: Limits) throws(RESPCommandError) -> [UInt8] {
        guard value.count <= limits.valueBytesMax else {
            throw RESPCommandError(
                "TOOLARGE", KVError.tooLarge(what: "value", bytes: value.count, limit: limits.valueBytesMax).message)
        }
        return value
    }

    /// Bytes as readable text for messages: printable ASCII kept, the rest `\xHH`, cut at `max`.
    static func printable(_ bytes: [UInt8], max: Int) -> String {
        var text = ""
        for byte in bytes.prefix(max) {
            if (0x20...0x7E).contains(byte), byte != UInt8(ascii: "'") {
                text.append(Character(UnicodeScalar(byte)))
            } else {
                text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        if bytes.count > max { text += "…" }
        return text
    }
}
