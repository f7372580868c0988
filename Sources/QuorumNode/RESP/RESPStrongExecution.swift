import QuorumCore

/// The string and generic commands on keys of a strongly consistent bucket (issue #17,
/// docs/resp.md "Strong buckets").
///
/// Every command becomes one or more `KVService.strong` operations: a read, a write, or a
/// compare-and-set whose condition the key's primaries check in the same consensus round
/// that writes, so `SET … NX`, `SET … XX`, `SET … IFEQ` and `DELIFEQ` are single atomic
/// steps. Commands that must answer the value they replaced (`SET … GET`, `GETSET`,
/// `GETDEL`, `DEL`'s count) read, then compare-and-set on the etag they read: the write
/// happens only if nothing changed in between, so the pair is linearizable (`swap`).
///
/// A failed condition answers as Redis does (nil, 0), never an error.
extension RESPCommandHandler {
    /// Whether `request` is a command on keys that a strong bucket runs itself (or refuses
    /// by name) and its bucket is strong. Whole-bucket commands (`SCAN`, `KEYS`, `DBSIZE`,
    /// `FLUSHDB`) are not key operations: they take the bucket's ordinary path.
    func runsStrong(_ request: RESPRequest) -> Bool {
        switch request.command {
        case .get, .set, .del, .exists, .mget, .mset, .qget, .qset, .qdel, .string, .keyspace(.type), .expiry, .typed:
            return service.consistency(of: request.bucket) == .strong
        default:
            return false
        }
    }

    /// Runs a command routed by `runsStrong`; every failure becomes an error reply.
    func executeStrong(_ request: RESPRequest) async -> RESPValue {
        let bucket = request.bucket
        let keys = RESPStrongKeys(service: service, bucket: bucket, attemptsMax: protocolLimits.strongSwapAttemptsMax)
        do throws(KVError) {
            switch request.command {
            case .get(let key, let own):
                return .bulkString(try await keys.read(key, options: request.strongOptions(own)).bytes)
            case .set(let key, let value, let own, let ifAbsent, let replyAsInteger):
                let options = request.strongOptions(own)
                guard ifAbsent else {
                    try await keys.write(key, value, options: options)
                    return .ok
                }
                let set = try await keys.compareAndSet(key, .ifAbsent, to: .plain(value), options: options).done
                return replyAsInteger ? .integer(set ? 1 : 0) : set ? .ok : .null
            case .del(let keys_):
                let options = request.strongOptions()
                let deleted = try await forEach(keys_) { (key) async throws(KVError) -> Int in
                    try await keys.swap(key, to: .tombstone, options: options) == nil ? 0 : 1
                }
                return .integer(deleted.reduce(0, +))
            case .exists(let keys_):
                let options = request.strongOptions()
                let found = try await forEach(keys_) { (key) async throws(KVError) -> Int in
                    try await keys.read(key, options: options).bytes == nil ? 0 : 1
                }
                return .integer(found.reduce(0, +))
            case .mget(let keys_):
                let options = request.strongOptions()
                let values = try await forEach(keys_) { (key) async throws(KVError) -> RESPValue in
                    .bulkString(try await keys.read(key, options: options).bytes)
                }
                return .array(values)
            case .mset(let pairs):
                let options = request.strongOptions()
                _ = try await forEach(pairs) { (pair) async throws(KVError) -> Bool in
                    try await keys.write(pair.key, pair.value, options: options)
                    return true
                }
                return .ok
            case .string(let command):
                return try await executeStrongString(command, keys: keys, request: request)
            case .keyspace(.type(let key, let own)):
                return .simpleString(try await keys.read(key, options: request.strongOptions(own)).bytes == nil ? "none" : "string")
            case .qget: return RESPErrorReply.notOnStrongBucket(command: "QGET", bucket: bucket)
            case .qset: return RESPErrorReply.notOnStrongBucket(command: "QSET", bucket: bucket)
            case .qdel: return RESPErrorReply.notOnStrongBucket(command: "QDEL", bucket: bucket)
            case .expiry(let command):
                return RESPErrorReply.notOnStrongBucket(command: command.strongRefusalName, bucket: bucket)
            case .typed(let command):
                return RESPErrorReply.notOnStrongBucket(command: command.strongRefusalName, bucket: bucket)
            default:
                return .error(prefix: "INTERNAL", "command sent to the strong path by mistake")
            }
        } catch {
            return RESPErrorReply.reply(for: error)
        }
    }

    private func executeStrongString(
        _ command: RESPStringCommand, keys: RESPStrongKeys, request: RESPRequest
    ) async throws(KVError) -> RESPValue {
        switch command {
        case .setReading(let key, let value, let own, let condition, let returnsOld, let expiry):
            if expiry != nil { return RESPErrorReply.notOnStrongBucket(command: "SET with EX, PX, EXAT, PXAT or KEEPTTL", bucket: request.bucket) }
            let options = request.strongOptions(own)
            switch (condition, returnsOld) {
            case (.ifAbsent, _):
                // NX GET: the CAS itself reports the value that stopped it.
                let outcome = try await keys.compareAndSet(key, .ifAbsent, to: .plain(value), options: options)
                return returnsOld ? .bulkString(outcome.current) : outcome.done ? .ok : .null
            case (.ifPresent, false):
                return try await keys.compareAndSet(key, .ifPresent, to: .plain(value), options: options).done ? .ok : .null
            case (.ifPresent, true):
                // XX GET: nil, and nothing written, when the key holds no value.
                return .bulkString(try await keys.swap(key, to: .plain(value), onlyIfPresent: true, options: options))
            case (.always, _):
                let old = try await keys.swap(key, to: .plain(value), options: options)
                return returnsOld ? .bulkString(old) : .ok
            }
        case .setIfEquals(let key, let value, let expected, let own, let returnsOld, let expiry):
            if expiry != nil { return RESPErrorReply.notOnStrongBucket(command: "SET with EX, PX, EXAT, PXAT or KEEPTTL", bucket: request.bucket) }
            let outcome = try await keys.compareAndSet(key, .ifEquals(expected), to: .plain(value), options: request.strongOptions(own))
            // With GET, Valkey answers the value before either way: `expected` when it was set.
            guard returnsOld else { return outcome.done ? .ok : .null }
            return .bulkString(outcome.done ? Optional(expected) : outcome.current)
        case .delIfEquals(let key, let expected, let own):
            let outcome = try await keys.compareAndSet(key, .ifEquals(expected), to: .tombstone, options: request.strongOptions(own))
            return .integer(outcome.done ? 1 : 0)
        case .getDel(let key, let own):
            return .bulkString(try await keys.swap(key, to: .tombstone, options: request.strongOptions(own)))
        case .strlen(let key, let own):
            return .integer(try await keys.read(key, options: request.strongOptions(own)).bytes?.count ?? 0)
        }
    }
}

extension RESPRequest {
    /// The options of a strong operation: the command's own, as given (the service refuses
    /// n, r, w, pr and pw on a strong bucket with a message saying why), and the
    /// connection's default timeout. The connection's default levels (`CONSISTENCY`) are
    /// for its eventual buckets and are left out: a strong operation always needs a
    /// majority of the key's primaries.
    func strongOptions(_ own: RequestOptions = RequestOptions()) -> RequestOptions {
        var options = own
        options.timeoutMilliseconds = own.timeoutMilliseconds ?? defaults.timeoutMilliseconds
        return options
    }
}

/// The strong operations RESP commands are made of, on one bucket.
struct RESPStrongKeys: Sendable {
    let service: any KVService
    let bucket: String
    /// `RESPLimits.strongSwapAttemptsMax`.
    let attemptsMax: Int

    /// What a compare-and-set did: whether it wrote, and the key's value when it did not
    /// (nil: the key holds none).
    struct Outcome {
        var done: Bool
        var current: [UInt8]?
    }

    /// A linearizable read: the value's bytes (nil when absent or deleted) and its etag.
    func read(_ key: [UInt8], options: RequestOptions) async throws(KVError) -> (bytes: [UInt8]?, etag: StrongETag?) {
        switch try await service.strong(bucket: bucket, key: key, operation: .read, options: options) {
        case .done(let value, let etag), .conditionFailed(let value, let etag):
            return (value?.bytes, etag)
        }
    }

    func write(_ key: [UInt8], _ value: [UInt8], options: RequestOptions) async throws(KVError) {
        _ = try await service.strong(bucket: bucket, key: key, operation: .write(.plain(value)), options: options)
    }

    func compareAndSet(
        _ key: [UInt8], _ condition: StrongCondition, to value: StrongValue, options: RequestOptions
    ) async throws(KVError) -> Outcome {
        switch try await service.strong(bucket: bucket, key: key, operation: .compareAndSet(condition, value), options: options) {
        case .done: return Outcome(done: true, current: nil)
        case .conditionFailed(let current, _): return Outcome(done: false, current: current?.bytes)
        }
    }

    /// Replaces the key's value with `value` (a tombstone deletes) and answers the value it
    /// replaced (nil: it held none). A read, then a compare-and-set on the read's etag
    /// (`ifAbsent` when it held nothing); when another write got in between, the failed
    /// condition reports the new current value and etag and the next attempt uses them,
    /// at most `attemptsMax` attempts. Linearizable: the write succeeds only on the exact
    /// value answered. Nothing is written when the key holds no value and `value` is a
    /// tombstone, or when `onlyIfPresent` (`SET … XX GET`) and the key holds none.
    func swap(
        _ key: [UInt8], to value: StrongValue, onlyIfPresent: Bool = false, options: RequestOptions
    ) async throws(KVError) -> [UInt8]? {
        var (current, etag) = try await read(key, options: options)
        for _ in 0..<attemptsMax {
            guard current != nil || !(value.isTombstone || onlyIfPresent) else { return nil }
            let condition: StrongCondition = etag.map { .ifMatch($0) } ?? .ifAbsent
            switch try await service.strong(bucket: bucket, key: key, operation: .compareAndSet(condition, value), options: options) {
            case .done:
                return current
            case .conditionFailed(let now, let nowETag):
                (current, etag) = (now?.bytes, nowETag)
            }
        }
        throw KVError.unavailable(
            message: "key '\(RESPCommand.printable(key, max: 64))' changed \(attemptsMax) times between this command's read "
                + "and its write; nothing was written; retry, or use SET … IFEQ, which needs no read first")
    }
}

extension RESPExpiryCommand {
    /// The commands this one stands for, in a strong bucket's refusal.
    var strongRefusalName: String {
        switch self {
        case .set: return "SET with EX, PX, EXAT, PXAT or KEEPTTL (and SETEX, PSETEX)"
        case .getex: return "GETEX"
        case .expire: return "EXPIRE (and PEXPIRE, EXPIREAT, PEXPIREAT)"
        case .persist: return "PERSIST"
        case .time(_, let query): return query.rawValue.uppercased()
        }
    }
}

extension RESPTypedCommand {
    /// The commands this one stands for, in a strong bucket's refusal.
    var strongRefusalName: String {
        switch self {
        case .update(_, .increment, _): return "INCR (and INCRBY, DECR, DECRBY)"
        case .update(_, .mapUpdate, _): return "HSET (and HDEL, HINCRBY)"
        case .update(_, .setAdd, _), .update(_, .setRemove, _), .update(_, .setRemoveObserved, _): return "SADD (and SREM)"
        case .update(_, .reset, _): return "DEL of a typed key"
        case .read(_, let query, _):
            switch query.datatype {
            case .set: return "SMEMBERS (and SISMEMBER, SMISMEMBER, SCARD)"
            case .map: return "HGET (and HMGET, HEXISTS, HGETALL, HLEN)"
            case .counter: return "a counter read"
            }
        }
    }
}

extension StrongValue {
    /// A value written by `SET`, which carries no content type.
    static func plain(_ bytes: [UInt8]) -> StrongValue {
        .value(bytes: bytes, contentType: RESPCommandHandler.defaultContentType)
    }
}
