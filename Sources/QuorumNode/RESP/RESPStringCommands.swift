import QuorumCore

/// Which value `SET` expects to find.
public enum RESPSetCondition: Sendable, Equatable {
    case always
    /// `NX`: create only; checked on the key's lead replica in the write's own transaction.
    case ifAbsent
    /// `XX`: only when the key holds a value; a read, then a write (not atomic).
    case ifPresent
}

/// The string commands that read before they write, or read only a value's size.
///
/// Only `SET … NX` has a check the replicas make atomically (on the lead). `XX`, `GET`,
/// `GETSET` and `GETDEL` read the key at the connection's `r`, then write with the
/// read's context: a write from another client between the two can be overwritten (in a
/// `vclock` bucket it survives as a sibling instead), and `XX` may act on a value a
/// weak read missed. docs/resp.md says so.
public enum RESPStringCommand: Sendable, Equatable {
    /// `SET key value [NX|XX] [GET] [EX…|KEEPTTL]` with `XX` or `GET`, and `GETSET key value`
    /// (`.always`, returning the old value, no expiry: it clears the key's, as in Redis).
    case setReading(
        key: [UInt8], value: [UInt8], options: RequestOptions, condition: RESPSetCondition, returnsOld: Bool,
        expiry: RESPExpiryCommand.SetExpiry? = nil)
    /// `GETDEL key`: the value, then a delete carrying the read's context.
    case getDel(key: [UInt8], options: RequestOptions)
    /// `STRLEN key`: the value's length in bytes, 0 when absent.
    case strlen(key: [UInt8], options: RequestOptions)
    /// `SET key value IFEQ old [GET]` (Valkey 8.1): set only when the key holds exactly
    /// `expected`; one compare-and-set in a strong bucket, refused in an eventual one.
    /// `expiry` is kept so a strong bucket can refuse it by name.
    case setIfEquals(
        key: [UInt8], value: [UInt8], expected: [UInt8], options: RequestOptions, returnsOld: Bool,
        expiry: RESPExpiryCommand.SetExpiry? = nil)
    /// `DELIFEQ key old` (Valkey's): delete only when the key holds exactly `expected`;
    /// answers 1 or 0. Strong buckets only.
    case delIfEquals(key: [UInt8], expected: [UInt8], options: RequestOptions)

    var keyAccess: (keys: [[UInt8]], writes: Bool) {
        switch self {
        case .setReading(let key, _, _, _, _, _), .getDel(let key, _), .setIfEquals(let key, _, _, _, _, _),
            .delIfEquals(let key, _, _):
            return ([key], true)
        case .strlen(let key, _): return ([key], false)
        }
    }

    static func parse(_ name: String, _ arguments: [[UInt8]], limits: Limits) throws(RESPCommandError) -> RESPStringCommand? {
        let readWrite = RESPCommand.readOptions + ["W", "PW"]
        switch name {
        case "GETSET":
            guard arguments.count >= 2 else { throw .wrongArity(name) }
            return .setReading(
                key: try RESPCommand.checkedKey(arguments[0], limits: limits),
                value: try RESPCommand.checkedValue(arguments[1], limits: limits),
                options: try RESPCommand.options(arguments.dropFirst(2), allowed: readWrite, command: name).options,
                condition: .always, returnsOld: true)
        case "GETDEL":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            return .getDel(
                key: try RESPCommand.checkedKey(arguments[0], limits: limits),
                options: try RESPCommand.options(arguments.dropFirst(), allowed: readWrite, command: name).options)
        case "DELIFEQ":
            guard arguments.count >= 2 else { throw .wrongArity(name) }
            return .delIfEquals(
                key: try RESPCommand.checkedKey(arguments[0], limits: limits), expected: arguments[1],
                options: try RESPCommand.options(arguments.dropFirst(2), allowed: ["TIMEOUT"], command: name).options)
        case "STRLEN":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            return .strlen(
                key: try RESPCommand.checkedKey(arguments[0], limits: limits),
                options: try RESPCommand.options(arguments.dropFirst(), allowed: RESPCommand.readOptions, command: name).options)
        default:
            return nil
        }
    }
}

extension RESPCommandHandler {
    func executeString(_ command: RESPStringCommand, request: RESPRequest) async throws(KVError) -> RESPValue {
        let bucket = request.bucket
        switch command {
        case .setReading(let key, let value, let own, let condition, let returnsOld, let expiry):
            let options = request.options(own)
            let requested = expiry.map { RESPExpiryExecution(service: service).expiryRequest(for: $0) } ?? .none
            if condition == .ifAbsent {
                // NX keeps its atomic check on the lead; with GET, the value that stopped it is read after.
                do throws(KVError) {
                    _ = try await service.put(
                        bucket: bucket, key: key, value: value, contentType: Self.defaultContentType, context: nil,
                        options: options, conditions: WriteConditions(ifNoneMatch: true, expiry: requested))
                    return returnsOld ? .null : .ok
                } catch {
                    guard case .preconditionFailed = error else { throw error }
                    guard returnsOld else { return .null }
                    return Self.plainValue(try await service.get(bucket: bucket, key: key, options: options), key: key)
                }
            }
            let read = try await service.get(bucket: bucket, key: key, options: options)
            let old = Self.plainValue(read, key: key)
            // Several siblings can't be returned as one old value: fail before writing.
            if returnsOld, old.isError { return old }
            if condition == .ifPresent, read.siblings.isEmpty { return .null }
            _ = try await service.put(
                bucket: bucket, key: key, value: value, contentType: Self.defaultContentType,
                context: read.context.isEmpty ? nil : read.context, options: options,
                conditions: WriteConditions(expiry: requested))
            return returnsOld ? old : .ok
        case .getDel(let key, let own):
            let options = request.options(own)
            let read = try await service.get(bucket: bucket, key: key, options: options)
            let old = Self.plainValue(read, key: key)
            guard read.siblings.count == 1 else { return old }  // nil when absent, -SIBLINGS when several
            _ = try await service.delete(
                bucket: bucket, key: key, context: read.context.isEmpty ? nil : read.context, options: options)
            return old
        case .setIfEquals:
            return RESPErrorReply.needsStrongBucket(command: "SET … IFEQ", bucket: bucket)
        case .delIfEquals:
            return RESPErrorReply.needsStrongBucket(command: "DELIFEQ", bucket: bucket)
        case .strlen(let key, let own):
            let read = try await service.get(bucket: bucket, key: key, options: request.options(own))
            switch read.siblings.count {
            case 0: return .integer(0)
            case 1: return .integer(read.siblings[0].value.count)
            case let count: return RESPErrorReply.siblings(key: key, count: count)
            }
        }
    }
}
