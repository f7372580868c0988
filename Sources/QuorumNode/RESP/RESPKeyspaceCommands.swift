import QuorumCore

/// `SCAN`'s arguments.
public struct RESPScanRequest: Sendable, Equatable {
    /// 0 starts a listing; any other number is one an earlier `SCAN` answered.
    public var cursor: UInt64
    public var pattern: [UInt8]?
    /// Keys to list for this page (Redis's hint); at most `Limits.keyPageMax`.
    public var count: Int
    /// `TYPE t`: a bucket's keys all have its type (`string` for plain values and
    /// counters, `set`, `hash`), so another type lists nothing.
    public var type: String?

    /// Redis's default `COUNT`.
    public static let countDefault = 10

    public init(cursor: UInt64, pattern: [UInt8]? = nil, count: Int = countDefault, type: String? = nil) {
        self.cursor = cursor
        self.pattern = pattern
        self.count = count
        self.type = type
    }
}

/// Commands about the bucket's key names rather than values. `SCAN`, `KEYS` and `DBSIZE`
/// list the bucket through `KVService.listKeys`, which reads each partition at one
/// replica: they see keys that replica holds, like a read at `r = 1`.
public enum RESPKeyspaceCommand: Sendable, Equatable {
    case type(key: [UInt8], options: RequestOptions)
    case scan(RESPScanRequest)
    case keys(pattern: [UInt8])
    case dbsize

    static func parse(_ name: String, _ arguments: [[UInt8]], limits: Limits) throws(RESPCommandError) -> RESPKeyspaceCommand? {
        switch name {
        case "TYPE":
            guard arguments.count >= 1 else { throw .wrongArity(name) }
            return .type(
                key: try RESPCommand.checkedKey(arguments[0], limits: limits),
                options: try RESPCommand.options(arguments.dropFirst(), allowed: RESPCommand.readOptions, command: name).options)
        case "KEYS":
            guard arguments.count == 1 else { throw .wrongArity(name) }
            return .keys(pattern: arguments[0])
        case "DBSIZE":
            guard arguments.isEmpty else { throw .wrongArity(name) }
            return .dbsize
        case "SCAN":
            guard let first = arguments.first else { throw .wrongArity(name) }
            guard let cursor = UInt64(String(decoding: first, as: UTF8.self)) else {
                throw RESPCommandError("ERR", "invalid cursor: a SCAN cursor is 0 or a number an earlier SCAN answered")
            }
            var scan = RESPScanRequest(cursor: cursor)
            var index = 1
            while index < arguments.count {
                let option = String(decoding: arguments[index], as: UTF8.self).uppercased()
                guard ["MATCH", "COUNT", "TYPE"].contains(option) else {
                    throw .syntax("'\(RESPCommand.printable(arguments[index], max: 32))' is not an option of SCAN; options are MATCH, COUNT, TYPE")
                }
                guard index + 1 < arguments.count else { throw .syntax("option \(option) of SCAN needs a value") }
                let value = arguments[index + 1]
                switch option {
                case "MATCH":
                    scan.pattern = value
                case "COUNT":
                    guard let count = RESPParser.integer(value[...]), count >= 1 else {
                        throw .syntax("COUNT must be a whole number, 1 or more; got '\(RESPCommand.printable(value, max: 32))'")
                    }
                    scan.count = count
                default:
                    scan.type = String(decoding: value, as: UTF8.self).lowercased()
                }
                index += 2
            }
            return .scan(scan)
        default:
            return nil
        }
    }
}

extension RESPCommandHandler {
    func executeKeyspace(_ command: RESPKeyspaceCommand, request: RESPRequest) async throws(KVError) -> RESPValue {
        let bucket = request.bucket
        switch command {
        case .type(let key, let own):
            let options = request.options(own)
            do throws(KVError) {
                let read = try await service.get(bucket: bucket, key: key, options: options)
                return .simpleString(read.siblings.isEmpty ? "none" : "string")
            } catch {
                let datatype = try await typedBucket(after: error, bucket: bucket)
                return .simpleString(try await typedTypeName(bucket: bucket, key: key, datatype: datatype, options: options))
            }
        case .scan(let scan):
            // Every key of a bucket has the bucket's type: plain values and counters are
            // strings, a set bucket's keys sets, a map bucket's hashes.
            if let type = scan.type {
                let held = try await bucketType(bucket)
                if type != Self.redisTypeName(held) { return Self.scanReply(cursor: 0, keys: []) }
            }
            var token: String?
            if scan.cursor != 0 {
                switch scanCursors.token(for: scan.cursor, bucket: bucket) {
                case .success(let found): token = found
                case .failure(let error): return error.reply
                }
            }
            let page: KeyPage
            do throws(KVError) {
                page = try await service.listKeys(bucket: bucket, cursor: token, limit: min(scan.count, limits.keyPageMax))
            } catch {
                guard case .badParameter("cursor", _) = error else { throw error }
                // Only a change of the ring's partition count invalidates a stored position.
                return .error(prefix: "ERR", "invalid cursor: \(scan.cursor) no longer fits the ring (\(error.message)); start again from 0")
            }
            let keys = scan.pattern.map { pattern in page.keys.filter { RESPGlob.matches(pattern, $0) } } ?? page.keys
            let next = page.next.map { scanCursors.issue(bucket: bucket, token: $0) } ?? 0
            return Self.scanReply(cursor: next, keys: keys)
        case .keys(let pattern):
            var matched: [RESPValue] = []
            let bound = protocolLimits.keysCommandKeysMax
            let seen = try await forEachKey(bucket: bucket, max: bound) { key in
                if RESPGlob.matches(pattern, key) { matched.append(.bulkString(key)) }
            }
            guard seen <= bound else {
                return .error(
                    prefix: "TOOLARGE",
                    "KEYS looks at no more than \(bound) keys and bucket '\(bucket)' has more; use SCAN with MATCH, which pages through any number")
            }
            return .array(matched)
        case .dbsize:
            let bound = protocolLimits.keyCountKeysMax
            let count = try await forEachKey(bucket: bucket, max: bound) { _ in }
            guard count <= bound else {
                return .error(prefix: "TOOLARGE", "DBSIZE counts no more than \(bound) keys and bucket '\(bucket)' has more")
            }
            return .integer(count)
        }
    }

    static func scanReply(cursor: UInt64, keys: [[UInt8]]) -> RESPValue {
        .array([.bulk(String(cursor)), .array(keys.map { .bulkString($0) })])
    }

    /// Lists every key of `bucket` page by page, handing each to `body`; stops once more
    /// than `max` were seen. Returns how many were seen (`max + 1` or more means "over").
    func forEachKey(bucket: String, max: Int, _ body: ([UInt8]) -> Void) async throws(KVError) -> Int {
        var seen = 0
        var cursor: String?
        repeat {
            let page = try await service.listKeys(bucket: bucket, cursor: cursor, limit: limits.keyPageMax)
            for key in page.keys {
                seen += 1
                if seen > max { return seen }
                body(key)
            }
            cursor = page.next
        } while cursor != nil
        return seen
    }
}
