import QuorumCore

/// Carries out parsed commands: connection-level ones at once on the event loop
/// (`answerLocally`), key-value ones against the node's `KVService` (`execute`).
///
/// Independent of channels, so every command's behaviour is testable by calling it.
public struct RESPCommandHandler: Sendable {
    public let service: any KVService
    public let limits: Limits
    public let protocolLimits: RESPLimits
    public let stats: RESPServerStats
    /// The positions behind `SCAN` cursors, shared by the server's connections.
    public let scanCursors: RESPScanCursors

    /// Content type of values written by `SET`/`MSET`, which carry none.
    public static let defaultContentType = "application/octet-stream"

    public init(
        service: any KVService, limits: Limits, protocolLimits: RESPLimits, stats: RESPServerStats,
        scanCursors: RESPScanCursors? = nil
    ) {
        self.service = service
        self.limits = limits
        self.protocolLimits = protocolLimits
        self.stats = stats
        self.scanCursors = scanCursors ?? RESPScanCursors(capacity: protocolLimits.scanCursorsMax)
    }

    /// The same handler calling `service` instead: how a connection that logged in gets
    /// the guarded service of its user.
    public func serving(_ service: any KVService) -> RESPCommandHandler {
        RESPCommandHandler(
            service: service, limits: limits, protocolLimits: protocolLimits, stats: stats, scanCursors: scanCursors)
    }

    // MARK: - Connection commands

    /// The reply to a command that needs no service call, after applying it to the
    /// session; nil for commands that go to `execute`.
    public func answerLocally(_ command: RESPCommand, session: inout RESPSession) -> RESPValue? {
        switch command {
        case .ping(let message?):
            return .bulkString(message)
        case .ping(nil):
            return .simpleString("PONG")
        case .echo(let message):
            return .bulkString(message)
        case .quit:
            return .ok
        case .select(let bucket):
            session.bucket = bucket
            return .ok
        case .info(let section):
            // The keyspace section counts keys through the service: `execute` answers it.
            guard !RESPIntrospection.wantsKeyspace(section) else { return nil }
            return RESPIntrospection.info(section: section, session: session, stats: stats, health: service.health())
        case .command(let introspection):
            return RESPIntrospection.command(introspection, resp3: session.protocolVersion == 3)
        case .auth(let credentials):
            // Reached only on a node without an ACL (a node with one logs in in
            // `RESPServerHandler`): Redis's answers with a `nopass` default user.
            return RESPAuthReplies.withoutACL(credentials) ?? .ok
        case .hello(let version, let name, let credentials):
            if let version, version != 2 && version != 3 {
                return .error(prefix: "NOPROTO", "sorry, this protocol version is not supported")
            }
            if let credentials, let refusal = RESPAuthReplies.withoutACL(credentials) { return refusal }
            if let version { session.protocolVersion = version }
            if let name { session.clientName = name }
            return RESPIntrospection.hello(session: session, health: service.health())
        case .client(let subcommand):
            switch subcommand {
            case .setName(let name):
                session.clientName = name.isEmpty ? nil : name
                return .ok
            case .getName:
                return .bulkString(session.clientName)
            case .accepted:
                return .ok
            case .id:
                return .integer(session.clientID)
            case .info:
                return .bulk(stats.clientLine(session) + "\n")
            case .list:
                return .bulk(stats.clientLines(current: session).map { $0 + "\n" }.joined())
            }
        case .configGet(let patterns):
            return RESPIntrospection.configGet(patterns, limits: protocolLimits, resp3: session.protocolVersion == 3)
        case .consistency(let change):
            switch change {
            case .show:
                return .array(
                    RESPIntrospection.consistencyPairs(session.defaults).flatMap { [RESPValue.bulk($0.0), .bulk($0.1)] })
            case .set(let options):
                session.defaults = session.defaults.updated(with: options)
                return .ok
            case .reset:
                session.defaults = RequestOptions()
                return .ok
            }
        case .server(.time):
            return RESPServerCommand.timeReply(microseconds: RESPServerCommand.nowMicroseconds())
        case .transaction(.unwatch):
            return .ok  // nothing is ever watched (WATCH is refused)
        case .transaction:
            // MULTI, EXEC and DISCARD change what the connection does with later commands:
            // RESPServerHandler takes them before they get here.
            return .error(prefix: "ERR", "MULTI, EXEC and DISCARD are handled by the connection")
        case .get, .set, .del, .exists, .mget, .mset, .qget, .qset, .qdel, .string, .keyspace, .server(.wait), .flush, .expiry, .typed:
            return nil
        }
    }

    // MARK: - Key-value commands

    /// Runs a key-value command; every failure becomes an error reply.
    public func execute(_ request: RESPRequest) async -> RESPValue {
        await withCheckedContinuation { continuation in start(request) { continuation.resume(returning: $0) } }
    }

    /// Runs a key-value command and hands its reply to `completion` (once, on any thread,
    /// possibly before returning). Single-key commands go to the service's completion forms,
    /// so a connection's event loop runs them without a task; multi-key ones run in a task.
    public func start(_ request: RESPRequest, completion: @escaping @Sendable (RESPValue) -> Void) {
        let bucket = request.bucket
        if runsStrong(request) {
            // A strongly consistent bucket: every key command through consensus (RESPStrongExecution.swift).
            Task { completion(await executeStrong(request)) }
            return
        }
        switch request.command {
        case .get(let key, let own):
            let options = request.options(own)
            service.get(bucket: bucket, key: key, options: options) { [self] result in
                // A typed bucket refuses the plain read before asking any replica: a counter's
                // GET reads it as a typed key instead.
                if case .failure(let error) = result, case .wrongType = error {
                    Task { completion(await typedGet(bucket: bucket, key: key, options: options, after: error)) }
                    return
                }
                completion(Self.reply(result) { Self.plainValue($0, key: key) })
            }
        case .set(let key, let value, let own, let ifAbsent, let replyAsInteger):
            service.put(
                bucket: bucket, key: key, value: value, contentType: Self.defaultContentType, context: nil,
                options: request.options(own), conditions: WriteConditions(ifNoneMatch: ifAbsent)
            ) { result in
                // `SET … NX` on a key that holds a value: not set, which Redis answers with nil.
                if ifAbsent, case .failure(.preconditionFailed) = result {
                    return completion(replyAsInteger ? .integer(0) : .null)
                }
                completion(Self.reply(result) { _ in ifAbsent && replyAsInteger ? .integer(1) : .ok })
            }
        case .qget(let key, let own):
            service.get(bucket: bucket, key: key, options: request.options(own)) { result in
                completion(Self.reply(result) { read in
                    guard !read.siblings.isEmpty else { return .array([]) }
                    return .array(
                        [.bulk(read.context)] + read.siblings.map { .array([.bulk($0.contentType), .bulkString($0.value)]) })
                })
            }
        case .qset(let key, let value, let context, let contentType, let own):
            service.put(
                bucket: bucket, key: key, value: value, contentType: contentType ?? Self.defaultContentType,
                context: context, options: request.options(own), conditions: WriteConditions()
            ) { result in
                completion(Self.reply(result) { $0.context.isEmpty ? .ok : .bulk($0.context) })
            }
        case .qdel(let key, let context, let own):
            service.delete(bucket: bucket, key: key, context: context, options: request.options(own)) { result in
                completion(Self.reply(result) { $0.context.isEmpty ? .ok : .bulk($0.context) })
            }
        case .expiry(let command):
            RESPExpiryExecution(service: service).start(command, request: request, completion: completion)
        case .typed(let command):
            Task { completion(await executeTyped(command, request: request)) }
        default:
            Task { completion(await executeMultiKey(request)) }
        }
    }

    /// The reply to a finished request: `success`'s, or the failure's error reply.
    private static func reply<Value>(_ result: Result<Value, KVError>, success: (Value) -> RESPValue) -> RESPValue {
        switch result {
        case .success(let value): return success(value)
        case .failure(let error): return RESPErrorReply.reply(for: error)
        }
    }

    /// MGET, EXISTS, MSET and DEL: several service calls; FLUSHDB and FLUSHALL: one that awaits every member, at most `multiKeyConcurrencyMax` at once.
    private func executeMultiKey(_ request: RESPRequest) async -> RESPValue {
        let bucket = request.bucket
        let service = self.service
        do throws(KVError) {
            switch request.command {
            case .mget(let keys):
                let options = request.options()
                let values = try await forEach(keys) { (key) async throws(KVError) -> RESPValue in
                    Self.plainValue(try await service.get(bucket: bucket, key: key, options: options), key: key)
                }
                // A key with siblings fails the whole MGET, like any other failure: an
                // error element inside the array is easy for a client to take for a value.
                if let siblings = values.first(where: \.isError) { return siblings }
                return .array(values)
            case .exists(let keys):
                let options = request.options()
                let found = try await forEach(keys) { [self] (key) async throws(KVError) -> Int in
                    do throws(KVError) {
                        return try await service.get(bucket: bucket, key: key, options: options).siblings.isEmpty ? 0 : 1
                    } catch {
                        _ = try await typedBucket(after: error, bucket: bucket)
                        return try await typedExists(bucket: bucket, key: key, options: options) ? 1 : 0
                    }
                }
                return .integer(found.reduce(0, +))
            case .mset(let pairs):
                let options = request.options()
                _ = try await forEach(pairs) { (pair) async throws(KVError) -> Bool in
                    _ = try await service.put(
                        bucket: bucket, key: pair.key, value: pair.value, contentType: Self.defaultContentType,
                        context: nil, options: options)
                    return true
                }
                return .ok
            case .string(let command):
                return try await executeString(command, request: request)
            case .keyspace(let command):
                return try await executeKeyspace(command, request: request)
            case .server(.wait):
                return try await executeWait(request: request)
            case .info(let section):
                return await info(section: section, request: request)
            case .del(let keys):
                let options = request.options()
                let deleted = try await forEach(keys) { [self] (key) async throws(KVError) -> Int in
                    // Read first: the count is the keys that held a value, and the delete
                    // carries the read's context so it supersedes every sibling it saw.
                    let read: ReadResult
                    do throws(KVError) {
                        read = try await service.get(bucket: bucket, key: key, options: options)
                    } catch {
                        // A typed key: an observed-remove reset, no read needed.
                        _ = try await typedBucket(after: error, bucket: bucket)
                        return try await typedDelete(bucket: bucket, key: key, options: options)
                    }
                    guard !read.siblings.isEmpty else { return 0 }
                    _ = try await service.delete(
                        bucket: bucket, key: key, context: read.context.isEmpty ? nil : read.context, options: options)
                    return 1
                }
                return .integer(deleted.reduce(0, +))
            case .flush(let everyBucket):
                _ = try await service.truncate(bucket: everyBucket ? nil : bucket)
                return .ok
            default:
                return .error(prefix: "INTERNAL", "command sent to the service by mistake")
            }
        } catch {
            return RESPErrorReply.reply(for: error)
        }
    }

    /// A plain read's reply: the value, nil when absent, `-SIBLINGS` when there are several.
    static func plainValue(_ result: ReadResult, key: [UInt8]) -> RESPValue {
        switch result.siblings.count {
        case 0: return .null
        case 1: return .bulkString(result.siblings[0].value)
        case let count: return RESPErrorReply.siblings(key: key, count: count)
        }
    }

    /// Runs `body` for every item with at most `multiKeyConcurrencyMax` calls in flight;
    /// results in item order. On the first failure no new call starts, and the failure of
    /// the earliest item that failed is thrown (calls already made are not undone).
    func forEach<Item: Sendable, Output: Sendable>(
        _ items: [Item], _ body: @escaping @Sendable (Item) async throws(KVError) -> Output
    ) async throws(KVError) -> [Output] {
        if items.count == 1 { return [try await body(items[0])] }
        let window = max(1, protocolLimits.multiKeyConcurrencyMax)
        let outcomes = await withTaskGroup(of: (Int, Result<Output, KVError>).self) { group in
            var outcomes = [Result<Output, KVError>?](repeating: nil, count: items.count)
            var next = 0
            var failed = false
            func launch() {
                let index = next
                let item = items[index]
                next += 1
                group.addTask {
                    do throws(KVError) {
                        return (index, .success(try await body(item)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            while next < min(window, items.count) { launch() }
            while let (index, outcome) = await group.next() {
                outcomes[index] = outcome
                if case .failure = outcome { failed = true }
                if !failed, next < items.count { launch() }
            }
            return outcomes
        }
        var results: [Output] = []
        results.reserveCapacity(items.count)
        for outcome in outcomes {
            switch outcome {
            case .success(let value)?: results.append(value)
            case .failure(let error)?: throw error
            case nil: break  // never started: an earlier item failed
            }
        }
        return results
    }
}
