import QuorumCore

/// A deadline as a Redis command gives it: relative to the coordinator's clock (`EX`,
/// `PX`, `EXPIRE`, `PEXPIRE`) or absolute (`EXAT`, `PXAT`, `EXPIREAT`, `PEXPIREAT`), in
/// milliseconds. The handler turns a relative one into an absolute deadline with the
/// node's wall clock before anything else sees it.
public enum RESPDeadline: Sendable, Equatable {
    case relative(milliseconds: Int)
    case absolute(milliseconds: Int)
}

/// The expiry commands: `SET` with an expiry option, `SETEX`, `PSETEX`, `GETEX`, the
/// `EXPIRE` family, `PERSIST`, `TTL`, `PTTL`, `EXPIRETIME`, `PEXPIRETIME`. Kept apart
/// from `RESPCommand`, which holds one case for all of them, so the shared command table
/// changes little.
public enum RESPExpiryCommand: Sendable, Equatable {
    /// What a `SET`-like command does with the key's expiry.
    public enum SetExpiry: Sendable, Equatable {
        case deadline(RESPDeadline)
        /// `KEEPTTL`.
        case keep
    }

    /// What `GETEX` does besides reading.
    public enum GetExpiry: Sendable, Equatable {
        case deadline(RESPDeadline)
        /// `PERSIST`.
        case persist
    }

    /// Which form of the remaining time a `TTL`-like command answers.
    public enum TimeQuery: String, Sendable, Equatable {
        case ttl, pttl, expiretime, pexpiretime
    }

    /// `SET … EX|PX|EXAT|PXAT|KEEPTTL`, `SETEX`, `PSETEX`.
    case set(key: [UInt8], value: [UInt8], options: RequestOptions, ifAbsent: Bool, expiry: SetExpiry)
    /// `GETEX key [EX|PX|EXAT|PXAT|PERSIST]`; nil: a plain read.
    case getex(key: [UInt8], expiry: GetExpiry?)
    /// `EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT` with `NX XX GT LT`.
    case expire(key: [UInt8], deadline: RESPDeadline, conditions: [ExpiryCondition])
    case persist(key: [UInt8])
    case time(key: [UInt8], query: TimeQuery)

    public var key: [UInt8] {
        switch self {
        case .set(let key, _, _, _, _), .getex(let key, _), .expire(let key, _, _), .persist(let key), .time(let key, _): return key
        }
    }

    /// Whether it may change the key (`RESPCommand.keyAccess`).
    public var writes: Bool {
        switch self {
        case .time, .getex(_, nil): return false
        default: return true
        }
    }

    /// The commands' rows of `RESPCommand.table`.

    static let notAnInteger = RESPCommandError("ERR", "value is not an integer or out of range")

    static func invalidExpireTime(_ command: String) -> RESPCommandError {
        RESPCommandError("ERR", "invalid expire time in '\(command.lowercased())' command")
    }

    /// The expiry command `name`, or nil when `name` is not one.
    static func parse(
        _ name: String, _ arguments: [[UInt8]], limits: Limits, checkedKey: ([UInt8]) throws(RESPCommandError) -> [UInt8],
        checkedValue: ([UInt8]) throws(RESPCommandError) -> [UInt8]
    ) throws(RESPCommandError) -> RESPExpiryCommand? {
        switch name {
        case "SETEX", "PSETEX":
            guard arguments.count == 3 else { throw .wrongArity(name) }
            let key = try checkedKey(arguments[0])
            let amount = try positive(arguments[1], command: name, unitMilliseconds: name == "SETEX" ? 1000 : 1, limits: limits)
            return .set(
                key: key, value: try checkedValue(arguments[2]), options: RequestOptions(), ifAbsent: false,
                expiry: .deadline(.relative(milliseconds: amount)))
        case "GETEX":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            let key = try checkedKey(arguments[0])
            let rest = Array(arguments.dropFirst())
            guard let first = rest.first else { return .getex(key: key, expiry: nil) }
            let option = String(decoding: first, as: UTF8.self).uppercased()
            if option == "PERSIST" {
                guard rest.count == 1 else { throw .syntax("PERSIST takes no value") }
                return .getex(key: key, expiry: .persist)
            }
            guard rest.count == 2, let deadline = try deadline(option, rest[1], command: name, limits: limits) else {
                throw RESPCommandError("ERR", "syntax error")
            }
            return .getex(key: key, expiry: .deadline(deadline))
        case "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT":
            guard arguments.count >= 2 else { throw .wrongArity(name) }
            let key = try checkedKey(arguments[0])
            guard let amount = RESPParser.integer(arguments[1][...]) else { throw notAnInteger }
            let unit = name.hasPrefix("P") ? 1 : 1000
            let (milliseconds, overflow) = amount.multipliedReportingOverflow(by: unit)
            guard !overflow, milliseconds.magnitude <= limits.ttlSecondsMax * 1000 || name.hasSuffix("AT") else {
                throw invalidExpireTime(name)
            }
            // A time in the past (negative included) expires the key at once, as in Redis.
            guard !name.hasSuffix("AT") || milliseconds < 0 || UInt64(milliseconds) <= UInt64.max / 2 else {
                throw invalidExpireTime(name)
            }
            let deadline: RESPDeadline = name.hasSuffix("AT") ? .absolute(milliseconds: milliseconds) : .relative(milliseconds: milliseconds)
            return .expire(key: key, deadline: deadline, conditions: try conditions(Array(arguments.dropFirst(2))))
        case "PERSIST":
            guard arguments.count == 1 else { throw .wrongArity(name) }
            return .persist(key: try checkedKey(arguments[0]))
        case "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME":
            guard arguments.count == 1 else { throw .wrongArity(name) }
            return .time(key: try checkedKey(arguments[0]), query: TimeQuery(rawValue: name.lowercased())!)
        default:
            return nil
        }
    }

    /// `EX|PX|EXAT|PXAT amount`: a positive number (Redis refuses 0 and negatives with
    /// "invalid expire time"); nil for another option word.
    static func deadline(
        _ option: String, _ word: [UInt8], command: String, limits: Limits
    ) throws(RESPCommandError) -> RESPDeadline? {
        switch option {
        case "EX": return .relative(milliseconds: try positive(word, command: command, unitMilliseconds: 1000, limits: limits))
        case "PX": return .relative(milliseconds: try positive(word, command: command, unitMilliseconds: 1, limits: limits))
        case "EXAT": return .absolute(milliseconds: try positive(word, command: command, unitMilliseconds: 1000, limits: nil))
        case "PXAT": return .absolute(milliseconds: try positive(word, command: command, unitMilliseconds: 1, limits: nil))
        default: return nil
        }
    }

    /// A positive amount in milliseconds; a relative one at most `limits.ttlSecondsMax`.
    private static func positive(
        _ word: [UInt8], command: String, unitMilliseconds: Int, limits: Limits?
    ) throws(RESPCommandError) -> Int {
        guard let amount = RESPParser.integer(word[...]) else { throw notAnInteger }
        let (milliseconds, overflow) = amount.multipliedReportingOverflow(by: unitMilliseconds)
        guard amount > 0, !overflow, UInt64(milliseconds) <= UInt64.max / 2 else { throw invalidExpireTime(command) }
        if let limits, UInt64(milliseconds) > limits.ttlSecondsMax * 1000 { throw invalidExpireTime(command) }
        return milliseconds
    }

    /// `NX XX GT LT`, with Redis's refusals of combinations.
    private static func conditions(_ words: [[UInt8]]) throws(RESPCommandError) -> [ExpiryCondition] {
        var found: Set<ExpiryCondition> = []
        for word in words {
            guard let condition = ExpiryCondition(rawValue: String(decoding: word, as: UTF8.self).lowercased()) else {
                throw RESPCommandError("ERR", "Unsupported option \(RESPCommand.printable(word, max: 32))")
            }
            found.insert(condition)
        }
        if found.contains(.nx), found.count > 1 {
            throw RESPCommandError("ERR", "NX and XX, GT or LT options at the same time are not compatible")
        }
        if found.contains(.gt), found.contains(.lt) {
            throw RESPCommandError("ERR", "GT and LT options at the same time are not compatible")
        }
        return ExpiryCondition.allCases.filter(found.contains)  // all must hold, e.g. XX LT
    }
}
