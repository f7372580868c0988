import Logging
import NIOCore
import QuorumCore
import QuorumNode
import Synchronization
import XCTest

let respTestLogger = Logger(label: "resp-test") { _ in SwiftLogNoOpLogHandler() }

/// An in-memory `KVService` for RESP tests: one map per bucket; buckets named in
/// `vclockBuckets` keep blind writes as siblings; buckets in `typedBuckets` hold
/// counters, sets or maps, updated with the core's own `TypedState.delta` and `joined`
/// (one replica, so replies and values are the real types'). Calls are logged; a key can
/// be made to hang until released (to reorder completions), and failures can be
/// injected per key.
final class RESPFakeKVService: KVService {
    struct Call: Equatable {
        var operation: String
        var bucket: String
        var key: String
        var context: String?
        var options: RequestOptions
        var ifNoneMatch = false
    }

    private struct State {
        var data: [String: [[UInt8]: (siblings: [Sibling], version: UInt64)]] = [:]
        var vclockBuckets: Set<String> = []
        var typedBuckets: [String: DataType] = [:]
        var typed: [String: [[UInt8]: TypedState]] = [:]
        var stamp: UInt64 = 0
        var calls: [Call] = []
        var failures: [[UInt8]: KVError] = [:]
        var failAll: KVError?
        var held: Set<[UInt8]> = []
        var waiters: [[UInt8]: [CheckedContinuation<Void, Never>]] = [:]
        var inFlight = 0
        var maxInFlight = 0
        var strongBuckets: Set<String> = []
        var strong: [String: [[UInt8]: PaxosCommit]] = [:]
        var strongInterference: [[UInt8]: Int] = [:]
        var strongOperations: [StrongOperation] = []
    }

    private let state = Mutex(State())
    /// Gets and puts answer before the call returns, the way a node answers a read of a
    /// local replica; `hold` and failures don't apply to them.
    private let answersInline: Bool

    init(
        vclockBuckets: Set<String> = [], typedBuckets: [String: DataType] = [:], strongBuckets: Set<String> = [],
        answersInline: Bool = false
    ) {
        self.answersInline = answersInline
        state.withLock { state in
            state.vclockBuckets = vclockBuckets
            state.typedBuckets = typedBuckets
            state.strongBuckets = strongBuckets
        }
    }

    // MARK: - Strong buckets

    func consistency(of bucket: String) -> BucketConsistency {
        state.withLock { $0.strongBuckets.contains(bucket) ? .strong : .eventual }
    }

    /// One register per key, as consensus would make it: each commit gets a new ballot, a
    /// compare-and-set checks its condition and writes in one step. Refuses what the node's
    /// driver refuses: a strong operation on an eventual bucket, per-request levels.
    func strong(
        bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions
    ) async throws(KVError) -> StrongAnswer {
        try await begin(Call(operation: "strong", bucket: bucket, key: String(decoding: key, as: UTF8.self), options: options), key: key)
        defer { end() }
        return try state.withLock { (state) throws(KVError) -> StrongAnswer in
            guard state.strongBuckets.contains(bucket) else {
                throw .badParameter(name: "bucket", message: "bucket \(bucket) is eventually consistent")
            }
            guard options.n == nil, options.r == nil, options.w == nil, options.pr == nil, options.pw == nil else {
                throw .badParameter(name: "r", message: "n, r, w, pr and pw can't be set on a strongly consistent bucket")
            }
            state.strongOperations.append(operation)
            func commit(_ value: StrongValue) -> PaxosCommit {
                state.stamp += 1
                let ballot = PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: state.stamp, logical: 0), node: "fake")
                let made = PaxosCommit(ballot: ballot, value: value, basedOn: state.strong[bucket]?[key]?.ballot)
                state.strong[bucket, default: [:]][key] = made
                return made
            }
            // Another client's write lands just before this compare-and-set, as many times as asked.
            if case .compareAndSet = operation, let left = state.strongInterference[key], left > 0 {
                state.strongInterference[key] = left - 1
                _ = commit(.value(bytes: Array("other-\(left)".utf8), contentType: "text/plain"))
            }
            let current = state.strong[bucket]?[key]
            let live = current.flatMap { $0.value.isTombstone ? nil : $0.value }
            switch operation {
            case .read:
                return .done(value: live, etag: StrongETag.of(current))
            case .compareAndSet(let condition, _) where !condition.holds(for: current):
                return .conditionFailed(current: live, etag: StrongETag.of(current))
            default:
                let made = commit(operation.newValue!)
                return .done(value: made.value.isTombstone ? nil : made.value, etag: StrongETag.of(made))
            }
        }
    }

    /// The next `times` compare-and-sets on `key` each find a write by another client
    /// (value `other-<n>`) made since the caller's read.
    func interfere(key: String, times: Int) {
        state.withLock { $0.strongInterference[Array(key.utf8)] = times }
    }

    /// A strong key's value as committed (nil: none or deleted).
    func strongValue(bucket: String, key: String) -> String? {
        state.withLock { state in
            state.strong[bucket]?[Array(key.utf8)]?.value.bytes.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Every strong operation run, in order.
    var strongOperations: [StrongOperation] { state.withLock { $0.strongOperations } }

    /// `BucketHolding`'s check, as the node makes it before asking any replica.
    private func checkHolding(bucket: String, typed: Bool, wanted: DataType? = nil) throws(KVError) {
        let held = state.withLock { $0.typedBuckets[bucket] }
        switch (typed, held) {
        case (false, nil), (true, _?) where wanted == nil || wanted == held: return
        default: throw .wrongType(message: "bucket \(bucket) holds \(held?.rawValue ?? "plain value")s")
        }
    }

    func updateType(
        bucket: String, key: [UInt8], operation: TypedOperation, options: RequestOptions
    ) async throws(KVError) -> TypedUpdateResult {
        try await begin(Call(operation: "updateType", bucket: bucket, key: String(decoding: key, as: UTF8.self), options: options), key: key)
        defer { end() }
        try checkHolding(bucket: bucket, typed: true, wanted: operation.datatype)
        let result: Result<TypedUpdateResult, KVError> = state.withLock { state in
            let datatype = state.typedBuckets[bucket]!
            let current = state.typed[bucket]?[key] ?? TypedState(datatype: datatype)
            state.stamp += 1
            do throws(KVError) {
                let step = try TypedState.delta(
                    applying: operation, actor: "fake", stamp: HLCTimestamp(physicalMilliseconds: state.stamp, logical: 0),
                    current: current, limits: .defaults)
                state.typed[bucket, default: [:]][key] = current.joined(with: step.delta, isFull: step.isFull).withoutEmptyMembers
                return .success(TypedUpdateResult(reply: step.reply, acks: 3))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    func readType(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions
    ) async throws(KVError) -> TypedReadResult {
        try await begin(Call(operation: "readType", bucket: bucket, key: String(decoding: key, as: UTF8.self), options: options), key: key)
        defer { end() }
        try checkHolding(bucket: bucket, typed: true)
        return state.withLock { state in
            guard var found = state.typed[bucket]?[key] else { return TypedReadResult(state: nil, replies: 3) }
            if case .listed(let keys) = members { found.members = found.members.filter { keys.contains($0.key) } }
            return TypedReadResult(state: found, replies: 3)
        }
    }

    /// The typed key's whole state, as stored.
    func typedState(bucket: String, key: String) -> TypedState? {
        state.withLock { $0.typed[bucket]?[Array(key.utf8)] }
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions, completion: @escaping KVCompletion<ReadResult>) {
        guard answersInline else {
            Task {
                do throws(KVError) { completion(.success(try await get(bucket: bucket, key: key, options: options))) } catch {
                    completion(.failure(error))
                }
            }
            return
        }
        state.withLock { $0.calls.append(Call(operation: "get", bucket: bucket, key: String(decoding: key, as: UTF8.self), options: options)) }
        do throws(KVError) { try checkHolding(bucket: bucket, typed: false) } catch { return completion(.failure(error)) }
        completion(.success(read(bucket: bucket, key: key)))
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions, completion: @escaping KVCompletion<WriteResult>
    ) {
        guard answersInline else {
            Task {
                do throws(KVError) {
                    completion(.success(try await put(
                        bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
                        conditions: conditions)))
                } catch {
                    completion(.failure(error))
                }
            }
            return
        }
        state.withLock { state in
            state.calls.append(Call(
                operation: "put", bucket: bucket, key: String(decoding: key, as: UTF8.self), context: context, options: options,
                ifNoneMatch: conditions.ifNoneMatch))
        }
        completion(Result { () throws(KVError) in
            try write(
                bucket: bucket, key: key, value: value, contentType: contentType, context: context, tombstone: false,
                ifAbsent: conditions.ifNoneMatch)
        })
    }

    var calls: [Call] { state.withLock { $0.calls } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    func fail(key: String, with error: KVError?) {
        state.withLock { $0.failures[Array(key.utf8)] = error }
    }

    func failEverything(with error: KVError?) {
        state.withLock { $0.failAll = error }
    }

    /// Calls on `key` wait until `release(key)`.
    func hold(_ key: String) {
        _ = state.withLock { $0.held.insert(Array(key.utf8)) }
    }

    func release(_ key: String) {
        let waiters = state.withLock { state in
            state.held.remove(Array(key.utf8))
            return state.waiters.removeValue(forKey: Array(key.utf8)) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether a call on `key` is parked by `hold`.
    func isWaiting(on key: String) -> Bool {
        state.withLock { !($0.waiters[Array(key.utf8)] ?? []).isEmpty }
    }

    func value(bucket: String, key: String) -> [String] {
        state.withLock { state in
            (state.data[bucket]?[Array(key.utf8)]?.siblings ?? []).filter { !$0.isTombstone }
                .map { String(decoding: $0.value, as: UTF8.self) }
        }
    }

    private func begin(_ call: Call, key: [UInt8]) async throws(KVError) {
        let failure = state.withLock { state -> KVError? in
            state.calls.append(call)
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            return state.failAll ?? state.failures[key]
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { state -> Bool in
                guard state.held.contains(key) else { return false }
                state.waiters[key, default: []].append(continuation)
                return true
            }
            if !wait { continuation.resume() }
        }
        if let failure {
            end()
            throw failure
        }
    }

    private func end() {
        state.withLock { $0.inFlight -= 1 }
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> ReadResult {
        try await begin(Call(operation: "get", bucket: bucket, key: String(decoding: key, as: UTF8.self), options: options), key: key)
        defer { end() }
        try checkHolding(bucket: bucket, typed: false)
        return read(bucket: bucket, key: key)
    }

    private func read(bucket: String, key: [UInt8]) -> ReadResult {
        state.withLock { state in
            guard let entry = state.data[bucket]?[key] else { return ReadResult(siblings: [], context: "", replies: 3) }
            return ReadResult(siblings: entry.siblings.filter { !$0.isTombstone }, context: "ctx-\(entry.version)", replies: 3)
        }
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions
    ) async throws(KVError) -> WriteResult {
        try await begin(
            Call(
                operation: "put", bucket: bucket, key: String(decoding: key, as: UTF8.self), context: context,
                options: options, ifNoneMatch: conditions.ifNoneMatch),
            key: key)
        defer { end() }
        try checkHolding(bucket: bucket, typed: false)
        return try write(
            bucket: bucket, key: key, value: value, contentType: contentType, context: context, tombstone: false,
            ifAbsent: conditions.ifNoneMatch)
    }

    func delete(bucket: String, key: [UInt8], context: String?, options: RequestOptions) async throws(KVError) -> WriteResult {
        try await begin(
            Call(operation: "delete", bucket: bucket, key: String(decoding: key, as: UTF8.self), context: context, options: options),
            key: key)
        defer { end() }
        try checkHolding(bucket: bucket, typed: false)
        return try write(bucket: bucket, key: key, value: [], contentType: "", context: context, tombstone: true, ifAbsent: false)
    }

    private func write(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, tombstone: Bool, ifAbsent: Bool
    ) throws(KVError) -> WriteResult {
        let result: Result<WriteResult, KVError> = state.withLock { state in
            let vclock = state.vclockBuckets.contains(bucket)
            var entry = state.data[bucket]?[key] ?? (siblings: [], version: 0)
            let live = entry.siblings.filter { !$0.isTombstone }
            if ifAbsent && !live.isEmpty { return .failure(.preconditionFailed(message: "the key holds a value")) }
            entry.version += 1
            let sibling = Sibling(
                dot: Dot(actor: "fake", counter: entry.version), value: value, contentType: contentType,
                isTombstone: tombstone, timestamp: HLCTimestamp(physicalMilliseconds: entry.version, logical: 0))
            if vclock && context == nil && !tombstone {
                entry.siblings = live + [sibling]
            } else {
                entry.siblings = [sibling]
            }
            state.data[bucket, default: [:]][key] = entry
            return .success(WriteResult(context: vclock ? "ctx-\(entry.version)" : "", acks: 3))
        }
        return try result.get()
    }

    func bucketProps(bucket: String) async throws(KVError) -> BucketProps {
        var props = BucketProps.defaults
        props.datatype = state.withLock { $0.typedBuckets[bucket] }
        return props
    }

    func setBucketProps(bucket: String, update: BucketPropsUpdate) async throws(KVError) -> BucketProps { .defaults }

    func health() -> HealthReport {
        HealthReport(node: "node-a", status: "ok", peers: [PeerHealth(node: "node-b", address: "127.0.0.1:9002", reachable: true)])
    }

    /// Live keys in byte order; the cursor is the last key returned, in hex. A cursor
    /// starting with `stale` fails as a cursor from another ring would.
    func listKeys(bucket: String, cursor: String?, limit: Int) async throws(KVError) -> KeyPage {
        if let cursor, cursor.hasPrefix("stale") {
            throw .badParameter(name: "cursor", message: "the cursor is not one this cluster issued")
        }
        let after = cursor.map { Self.unhex($0) }
        let result: Result<KeyPage, KVError> = state.withLock { state in
            state.calls.append(Call(operation: "list", bucket: bucket, key: "", options: RequestOptions()))
            if let failure = state.failAll { return .failure(failure) }
            let live = (state.data[bucket] ?? [:]).filter { $0.value.siblings.contains { !$0.isTombstone } }.keys
            let sorted = live.sorted { $0.lexicographicallyPrecedes($1) }.filter { key in after.map { $0.lexicographicallyPrecedes(key) } ?? true }
            let page = Array(sorted.prefix(limit))
            let next = sorted.count > limit ? page.last.map(Self.hex) : nil
            return .success(KeyPage(keys: page, next: next))
        }
        return try result.get()
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private static func unhex(_ text: String) -> [UInt8] {
        let characters = Array(text.utf8)
        return stride(from: 0, to: characters.count - 1, by: 2).compactMap {
            UInt8(String(decoding: characters[$0...$0 + 1], as: UTF8.self), radix: 16)
        }
    }

    /// Forgets the bucket's keys (every bucket's when nil), as a truncation hides them.
    func truncate(bucket: String?) async throws(KVError) -> TruncationReport {
        try state.withLock { (state) throws(KVError) in
            if let failure = state.failAll { throw failure }
            state.calls.append(Call(operation: "truncate", bucket: bucket ?? "*", key: "", options: RequestOptions()))
            if let bucket { state.data[bucket] = nil } else { state.data = [:] }
        }
        return TruncationReport(bucket: bucket, pointMilliseconds: 1, members: 1)
    }

    func status() async -> NodeStatus {
        NodeStatus(
            node: "node-a", version: QuorumKVVersion.current, uptimeSeconds: 1, ring: ringReport(), peers: health().peers,
            hintsPending: 0, antiEntropy: AntiEntropyStatus(enabled: false, partitionsExchanged: 0),
            storage: StorageStatus(keys: 0, queuedWrites: 0, committedTransactions: 0), requestsInFlight: 0)
    }

    func ringReport() -> RingReport { RingReport(ring: Ring(members: ["node-a"], partitionCount: 8)) }
    func joinCluster(seed: String) async throws(KVError) -> MembershipChange {
        throw .badParameter(name: "seed", message: "this test service belongs to no cluster")
    }
    func leaveCluster() async throws(KVError) -> MembershipChange {
        throw .badParameter(name: "node", message: "this test service belongs to no cluster")
    }
}

/// Reads RESP2 replies out of bytes, for checking what the server wrote.
struct RESPReplyReader {
    private var bytes: [UInt8] = []
    private var index = 0

    mutating func append(_ more: [UInt8]) {
        bytes += more
    }

    mutating func append(_ buffer: ByteBuffer) {
        bytes += Array(buffer.readableBytesView)
    }

    /// The next complete reply, or nil when more bytes are needed.
    mutating func next() -> RESPValue? {
        var cursor = index
        guard let value = Self.parse(bytes, &cursor) else { return nil }
        index = cursor
        return value
    }

    /// Every complete reply buffered.
    mutating func all() -> [RESPValue] {
        var values: [RESPValue] = []
        while let value = next() { values.append(value) }
        return values
    }

    var leftover: Int { bytes.count - index }

    private static func line(_ bytes: [UInt8], _ cursor: inout Int) -> String? {
        guard let end = bytes[cursor...].firstIndex(of: 0x0D), end + 1 < bytes.count, bytes[end + 1] == 0x0A else { return nil }
        let text = String(decoding: bytes[cursor..<end], as: UTF8.self)
        cursor = end + 2
        return text
    }

    private static func parse(_ bytes: [UInt8], _ cursor: inout Int) -> RESPValue? {
        guard cursor < bytes.count else { return nil }
        let type = bytes[cursor]
        var position = cursor + 1
        guard let text = line(bytes, &position) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            cursor = position
            return .simpleString(text)
        case UInt8(ascii: "-"):
            cursor = position
            return .error(text)
        case UInt8(ascii: ":"):
            cursor = position
            return .integer(Int(text) ?? Int.min)
        case UInt8(ascii: "$"):
            guard let length = Int(text) else { return nil }
            if length < 0 {
                cursor = position
                return .bulkString(nil)
            }
            guard bytes.count >= position + length + 2 else { return nil }
            cursor = position + length + 2
            return .bulkString(Array(bytes[position..<(position + length)]))
        case UInt8(ascii: "*"):
            guard let count = Int(text) else { return nil }
            if count < 0 {
                cursor = position
                return .array(nil)
            }
            var elements: [RESPValue] = []
            for _ in 0..<count {
                guard let element = parse(bytes, &position) else { return nil }
                elements.append(element)
            }
            cursor = position
            return .array(elements)
        case UInt8(ascii: "%"):
            // RESP3 map (the `HELLO 3` reply): `count` pairs, read as alternating keys and values.
            guard let count = Int(text), count >= 0 else { return nil }
            var elements: [RESPValue] = []
            for _ in 0..<(2 * count) {
                guard let element = parse(bytes, &position) else { return nil }
                elements.append(element)
            }
            cursor = position
            return .map(elements)
        default:
            return nil
        }
    }
}

/// A command as a client library sends it: an array of bulk strings.
func respFrame(_ words: String...) -> [UInt8] {
    respFrame(words.map { Array($0.utf8) })
}

func respFrame(_ words: [[UInt8]]) -> [UInt8] {
    var bytes = Array("*\(words.count)\r\n".utf8)
    for word in words {
        bytes += Array("$\(word.count)\r\n".utf8) + word + [0x0D, 0x0A]
    }
    return bytes
}

extension RESPValue {
    /// A bulk string's text, for readable assertions.
    var text: String? {
        switch self {
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        case .simpleString(let text), .error(let text): return text
        default: return nil
        }
    }
}

/// The shared seeded generator, so a failing random test replays from its seed.
typealias SeededGenerator = SplitMix64

extension RESPCommandHandler {
    /// Parses `words` and runs the command as a connection does, without a network: a
    /// parse error is its reply, connection commands change `session`.
    func run(_ words: [String], session: inout RESPSession) async -> RESPValue {
        let command: RESPCommand
        do {
            command = try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
        } catch {
            return error.reply
        }
        if let reply = answerLocally(command, session: &session) { return reply }
        return await execute(session.request(for: command))
    }
}
