import QuorumCore

/// Runs the expiry commands (`RESPExpiryCommand`) against the node's `KVService`, with
/// Redis's replies: `TTL` answers -2 for an absent key and -1 for a key without a ttl,
/// `EXPIRE` and `PERSIST` 1 when the change applied and 0 when not.
///
/// Relative times become absolute deadlines here, with this node's wall clock: the
/// coordinator's clock decides when a relative ttl started (docs/architecture.md, "Expiry").
struct RESPExpiryExecution: Sendable {
    let service: any KVService
    let now: @Sendable () -> UInt64

    init(service: any KVService, now: @escaping @Sendable () -> UInt64 = { WallClock.nowMilliseconds() }) {
        self.service = service
        self.now = now
    }

    func start(_ command: RESPExpiryCommand, request: RESPRequest, completion: @escaping @Sendable (RESPValue) -> Void) {
        let bucket = request.bucket
        switch command {
        case .set(let key, let value, let own, let ifAbsent, let expiry):
            let requested = expiryRequest(for: expiry)
            service.put(
                bucket: bucket, key: key, value: value, contentType: RESPCommandHandler.defaultContentType, context: nil,
                options: request.options(own), conditions: WriteConditions(ifNoneMatch: ifAbsent, expiry: requested)
            ) { result in
                switch result {
                case .success: completion(.ok)
                case .failure(.preconditionFailed) where ifAbsent: completion(.null)
                case .failure(let error): completion(RESPErrorReply.reply(for: error))
                }
            }
        default:
            Task { completion(await run(command, bucket: bucket, options: request.options())) }
        }
    }

    private func run(_ command: RESPExpiryCommand, bucket: String, options: RequestOptions) async -> RESPValue {
        do throws(KVError) {
            switch command {
            case .set:
                return .error(prefix: "INTERNAL", "SET runs without a task")
            case .getex(let key, let expiry):
                let read = try await service.get(bucket: bucket, key: key, options: options)
                let reply = RESPCommandHandler.plainValue(read, key: key)
                guard let expiry, read.siblings.count == 1 else { return reply }
                let change: ExpiryChange
                switch expiry {
                case .persist: change = .persist
                case .deadline(let deadline): change = .at(milliseconds: absolute(deadline))
                }
                _ = try await service.expire(bucket: bucket, key: key, change: change, conditions: [], options: options)
                return reply
            case .expire(let key, let deadline, let conditions):
                let applied = try await service.expire(
                    bucket: bucket, key: key, change: .at(milliseconds: absolute(deadline)), conditions: conditions,
                    options: options)
                return .integer(applied ? 1 : 0)
            case .persist(let key):
                let applied = try await service.expire(bucket: bucket, key: key, change: .persist, conditions: [], options: options)
                return .integer(applied ? 1 : 0)
            case .time(let key, let query):
                let read = try await service.get(bucket: bucket, key: key, options: options)
                return .integer(Self.time(read, query: query, nowMilliseconds: now()))
            }
        } catch {
            return RESPErrorReply.reply(for: error)
        }
    }

    /// What a `SET`'s expiry option asks of the write: keep the ttl, or an absolute deadline.
    func expiryRequest(for expiry: RESPExpiryCommand.SetExpiry) -> ExpiryRequest {
        switch expiry {
        case .keep: return .keep
        case .deadline(let deadline): return .at(milliseconds: absolute(deadline))
        }
    }

    /// A deadline in wall-clock milliseconds; a relative one counts from now (a negative
    /// one, as `EXPIRE key -1` gives, is in the past: the key expires at once).
    func absolute(_ deadline: RESPDeadline) -> UInt64 {
        switch deadline {
        case .absolute(let milliseconds): return UInt64(max(0, milliseconds))
        case .relative(let milliseconds):
            let start = now()
            return milliseconds >= 0 ? start + UInt64(milliseconds) : start - min(start, UInt64(-milliseconds))
        }
    }

    /// `TTL`-like answers: -2 absent, -1 no ttl, else the remaining time (seconds rounded
    /// as Redis rounds them) or the deadline.
    static func time(_ read: ReadResult, query: RESPExpiryCommand.TimeQuery, nowMilliseconds: UInt64) -> Int {
        guard !read.siblings.isEmpty else { return -2 }
        guard let deadline = read.deadlineMilliseconds else { return -1 }
        let remaining = deadline > nowMilliseconds ? Int(deadline - nowMilliseconds) : 0
        switch query {
        case .ttl: return (remaining + 500) / 1000
        case .pttl: return remaining
        case .expiretime: return Int(deadline / 1000)
        case .pexpiretime: return Int(deadline)
        }
    }
}
