import Logging
import NIOCore
import NIOPosix
import QuorumCore
import QuorumNode
import Synchronization
import XCTest

let httpTestLogger = Logger(label: "http-test") { _ in SwiftLogNoOpLogHandler() }

/// An in-memory `KVService` for HTTP tests: one map per bucket, lww-like unless the
/// bucket's props say vclock (then a write without a context adds a sibling). Failures
/// can be switched on, and reads can be made to hang until released.
final class HTTPFakeKVService: KVService {
    struct Entry {
        var siblings: [Sibling]
        var version: UInt64
    }

    struct Call: Equatable {
        var operation: String
        var bucket: String
        var key: [UInt8]
        var context: String?
        var contentType: String?
        var options: RequestOptions?
        var conditions: WriteConditions? = nil
        var cursor: String? = nil
        var limit: Int? = nil
    }

    private struct State {
        var data: [String: [[UInt8]: Entry]] = [:]
        var props: [String: BucketProps] = [:]
        /// Strong buckets' keys: each one's latest commit.
        var commits: [String: [[UInt8]: PaxosCommit]] = [:]
        var strongOperations: [StrongOperation] = []
        var failure: KVError?
        var calls: [Call] = []
        var clock: UInt64 = 1_700_000_000_000
        var hangReads = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    let siblingsMax: Int

    init(siblingsMax: Int = 4) {
        self.siblingsMax = siblingsMax
    }

    /// Every call fails with this error until set back to nil.
    func fail(with error: KVError?) {
        state.withLock { $0.failure = error }
    }

    var calls: [Call] { state.withLock { $0.calls } }
    var lastCall: Call? { calls.last }

    /// Reads wait until `releaseReads()`.
    func hangReads() {
        state.withLock { $0.hangReads = true }
    }

    func releaseReads() {
        let waiters = state.withLock { state in
            state.hangReads = false
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func stored(bucket: String, key: [UInt8]) -> [Sibling]? {
        state.withLock { $0.data[bucket]?[key]?.siblings }
    }

    private func begin(_ call: Call) throws(KVError) {
        let failure = state.withLock { state -> KVError? in
            state.calls.append(call)
            return state.failure
        }
        if let failure { throw failure }
    }

    private static func context(_ version: UInt64) -> String { "ctx-\(version)" }

    func get(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> ReadResult {
        try begin(Call(operation: "get", bucket: bucket, key: key, options: options))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { state -> Bool in
                guard state.hangReads else { return false }
                state.waiters.append(continuation)
                return true
            }
            if !wait { continuation.resume() }
        }
        return state.withLock { state in
            guard let entry = state.data[bucket]?[key] else { return ReadResult(siblings: [], context: "", replies: 3) }
            return ReadResult(
                siblings: entry.siblings.filter { !$0.isTombstone }, context: Self.context(entry.version), replies: 3)
        }
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions
    ) async throws(KVError) -> WriteResult {
        try begin(
            Call(
                operation: "put", bucket: bucket, key: key, context: context, contentType: contentType, options: options,
                conditions: conditions))
        return try write(
            bucket: bucket, key: key, value: value, contentType: contentType, context: context, tombstone: false,
            conditions: conditions)
    }

    func delete(bucket: String, key: [UInt8], context: String?, options: RequestOptions) async throws(KVError) -> WriteResult {
        try begin(Call(operation: "delete", bucket: bucket, key: key, context: context, options: options))
        return try write(
            bucket: bucket, key: key, value: [], contentType: "", context: context, tombstone: true,
            conditions: WriteConditions())
    }

    /// Like the real service: `ifNoneMatch` fails on a live value, `returnBody` answers
    /// the live siblings after the write.
    private func write(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, tombstone: Bool,
        conditions: WriteConditions
    ) throws(KVError) -> WriteResult {
        let siblingsMax = self.siblingsMax
        let result: Result<WriteResult, KVError> = state.withLock { state in
            let mode = state.props[bucket]?.conflict ?? .lww
            var entry = state.data[bucket]?[key] ?? Entry(siblings: [], version: 0)
            if conditions.ifNoneMatch && entry.siblings.contains(where: { !$0.isTombstone }) {
                return .failure(.preconditionFailed(message: "the key already has a value (If-None-Match: *)"))
            }
            state.clock += 1
            entry.version += 1
            let sibling = Sibling(
                dot: Dot(actor: "node-\(entry.version % 3)", counter: entry.version), value: value,
                contentType: contentType, isTombstone: tombstone,
                timestamp: HLCTimestamp(physicalMilliseconds: state.clock, logical: 0))
            if mode == .vclock && context == nil && !tombstone {
                let live = entry.siblings.filter { !$0.isTombstone }
                guard live.count < siblingsMax else { return .failure(.siblingLimit(limit: siblingsMax)) }
                entry.siblings = live + [sibling]
            } else {
                entry.siblings = [sibling]
            }
            state.data[bucket, default: [:]][key] = entry
            let written = mode == .vclock ? Self.context(entry.version) : ""
            let live = conditions.returnBody ? entry.siblings.filter { !$0.isTombstone } : []
            return .success(WriteResult(context: written, acks: 3, siblings: live))
        }
        return try result.get()
    }

    func bucketProps(bucket: String) async throws(KVError) -> BucketProps {
        try begin(Call(operation: "bucketProps", bucket: bucket, key: []))
        return state.withLock { $0.props[bucket] ?? .defaults }
    }

    func setBucketProps(bucket: String, update: BucketPropsUpdate) async throws(KVError) -> BucketProps {
        try begin(Call(operation: "setBucketProps", bucket: bucket, key: []))
        return state.withLock { state in
            var props = state.props[bucket] ?? .defaults
            if let n = update.n { props.n = n }
            if let r = update.r { props.r = r }
            if let w = update.w { props.w = w }
            if let conflict = update.conflict { props.conflict = conflict }
            if let datatype = update.datatype { props.datatype = datatype }
            if let consistency = update.consistency { props.consistency = consistency }
            state.props[bucket] = props
            return props
        }
    }

    /// Makes `bucket` strong, as a creation with `consistency: strong` would.
    func makeStrong(_ bucket: String) {
        state.withLock { $0.props[bucket, default: .defaults].consistency = .strong }
    }

    func consistency(of bucket: String) -> BucketConsistency {
        state.withLock { $0.props[bucket]?.consistency ?? .eventual }
    }

    /// The operations `strong` was asked for, in order.
    var strongOperations: [StrongOperation] { state.withLock { $0.strongOperations } }

    /// One commit per operation, under a ballot of the fake's clock, like the real
    /// coordinator: a condition is checked against the latest commit, reads change nothing.
    func strong(
        bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions
    ) async throws(KVError) -> StrongAnswer {
        try begin(Call(operation: "strong", bucket: bucket, key: key, options: options))
        return state.withLock { state in
            state.strongOperations.append(operation)
            let current = state.commits[bucket]?[key]
            let live = current.flatMap { $0.value.isTombstone ? nil : $0.value }
            if case .compareAndSet(let condition, _) = operation, !condition.holds(for: current) {
                return .conditionFailed(current: live, etag: StrongETag.of(current))
            }
            guard let value = operation.newValue else { return .done(value: live, etag: StrongETag.of(current)) }
            state.clock += 1
            let commit = PaxosCommit(
                ballot: PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: state.clock, logical: 0), node: "node-a"),
                value: value, basedOn: current?.ballot)
            state.commits[bucket, default: [:]][key] = commit
            return .done(value: value.isTombstone ? nil : value, etag: StrongETag.of(commit))
        }
    }

    /// Live keys in byte order; cursors are `fake-<offset>`, anything else is a bad cursor.
    func listKeys(bucket: String, cursor: String?, limit: Int) async throws(KVError) -> KeyPage {
        try begin(Call(operation: "listKeys", bucket: bucket, key: [], cursor: cursor, limit: limit))
        guard (1...Limits.defaults.keyPageMax).contains(limit) else {
            throw .badParameter(name: "limit", message: "limit must be 1...\(Limits.defaults.keyPageMax), got \(limit)")
        }
        var start = 0
        if let cursor {
            guard cursor.hasPrefix("fake-"), let offset = Int(cursor.dropFirst(5)), offset >= 0 else {
                throw .badParameter(name: "cursor", message: "the cursor is not one this cluster issued")
            }
            start = offset
        }
        let keys = state.withLock { state in
            (state.data[bucket] ?? [:]).filter { $0.value.siblings.contains { !$0.isTombstone } }.keys
                .sorted { $0.lexicographicallyPrecedes($1) }
        }
        let page = Array(keys.dropFirst(start).prefix(limit))
        return KeyPage(keys: page, next: start + page.count < keys.count ? "fake-\(start + page.count)" : nil)
    }

    func status() async -> NodeStatus {
        let keys = state.withLock { $0.data.values.reduce(0) { $0 + $1.count } }
        return NodeStatus(
            node: "node-a", version: QuorumKVVersion.current, uptimeSeconds: 3725, ring: ringReport(),
            peers: health().peers + [PeerHealth(node: "node-<c>", address: "127.0.0.1:9003", reachable: false)],
            hintsPending: 2, antiEntropy: AntiEntropyStatus(enabled: false, partitionsExchanged: 0),
            storage: StorageStatus(keys: keys, queuedWrites: 0, committedTransactions: 7), requestsInFlight: 1,
            repair: RepairStatus(readRepairs: 4, readRepairReplicas: 5))
    }

    func ringReport() -> RingReport { RingReport(ring: Ring(members: ["node-a", "node-b", "node-<c>"], partitionCount: 8)) }

    /// Answers as if all three members adopted the point; forgets nothing.
    func truncate(bucket: String?) async throws(KVError) -> TruncationReport {
        TruncationReport(bucket: bucket, pointMilliseconds: 1_700_000_000_000, members: 3)
    }
    func joinCluster(seed: String) async throws(KVError) -> MembershipChange {
        throw .badParameter(name: "seed", message: "this test service belongs to no cluster")
    }
    func leaveCluster() async throws(KVError) -> MembershipChange {
        throw .badParameter(name: "node", message: "this test service belongs to no cluster")
    }

    func health() -> HealthReport {
        HealthReport(
            node: "node-a", status: "ok",
            peers: [PeerHealth(node: "node-b", address: "127.0.0.1:9002", reachable: true)])
    }
}

/// A server on a loopback port with a fake service, and a client for it.
struct HTTPTestServer {
    let server: HTTPServer
    let port: Int
    let service: HTTPFakeKVService
    let client: KVHTTPClient

    static func start(
        limits: Limits = .defaults, idleTimeout: TimeAmount = .seconds(60), service: HTTPFakeKVService = HTTPFakeKVService()
    ) async throws -> HTTPTestServer {
        let server = HTTPServer(
            host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, service: service, limits: limits,
            logger: httpTestLogger, idleTimeout: idleTimeout)
        let port = try await server.start()
        return HTTPTestServer(
            server: server, port: port, service: service,
            client: KVHTTPClient(baseURL: "http://127.0.0.1:\(port)", group: MultiThreadedEventLoopGroup.singleton))
    }

    func stop() async {
        await server.close()
    }
}

/// A parsed HTTP response read off a raw connection.
struct RawHTTPResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}

/// One TCP connection driven byte by byte, for requests the client would never send.
/// Every read is bounded by a deadline (the connection is closed when it passes), so a
/// test that expects an answer fails instead of hanging.
final class RawHTTPConnection {
    private let channel: any Channel
    private var iterator: AsyncStream<ByteBuffer>.Iterator
    private var pending: [UInt8] = []
    private var streamEnded = false
    private let deadline: Scheduled<Void>
    private let deadlinePassed = DeadlineFlag()

    private final class DeadlineFlag: Sendable {
        let passed = Mutex(false)
    }

    /// The server closed the connection (not our own deadline).
    var closedByPeer: Bool { streamEnded && !deadlinePassed.passed.withLock { $0 } }

    /// Hands every inbound buffer to the stream; ends it when the connection closes.
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation

        init(continuation: AsyncStream<ByteBuffer>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { continuation.finish() }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            continuation.finish()
            context.close(promise: nil)
        }
    }

    init(port: Int, deadline: TimeAmount = .seconds(10)) async throws {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let raw = channel
        let flag = deadlinePassed
        self.deadline = raw.eventLoop.scheduleTask(in: deadline) {
            flag.passed.withLock { $0 = true }
            raw.close(promise: nil)
        }
        iterator = stream.makeAsyncIterator()
    }

    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Half-closes: the server sees end of input.
    func finishSending() async throws {
        try await channel.close(mode: .output).get()
    }

    /// Reads more bytes; false at end of stream.
    private func fill() async throws -> Bool {
        guard !streamEnded else { return false }
        guard let buffer = await iterator.next() else {
            streamEnded = true
            return false
        }
        pending += Array(buffer.readableBytesView)
        return true
    }

    /// Reads one response (Content-Length bodies; no body for 1xx and 204, nor when
    /// `headOnly`, as for the answer to a HEAD request).
    func readResponse(headOnly: Bool = false) async throws -> RawHTTPResponse {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if let range = pending.firstRange(of: separator) {
                headEnd = range.upperBound
            } else if !(try await fill()) {
                throw RawHTTPError.closed(received: String(decoding: pending, as: UTF8.self))
            }
        }
        let headText = String(decoding: pending[..<headEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw RawHTTPError.malformed(headText) }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        pending.removeFirst(headEnd!)
        let length = headOnly ? 0 : headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        while pending.count < length {
            guard try await fill() else { throw RawHTTPError.closed(received: String(decoding: pending, as: UTF8.self)) }
        }
        let body = Array(pending.prefix(length))
        pending.removeFirst(length)
        return RawHTTPResponse(status: status, headers: headers, body: body)
    }

    /// Waits until the server closes the connection; returns the bytes that came before.
    func readUntilClosed() async throws -> [UInt8] {
        while try await fill() {}
        defer { pending = [] }
        return pending
    }

    func close() async {
        deadline.cancel()
        try? await channel.close().get()
    }
}

enum RawHTTPError: Error {
    case closed(received: String)
    case malformed(String)
}

/// A port nothing listens on: bound, then released.
func httpUnusedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close().get()
    return port
}
