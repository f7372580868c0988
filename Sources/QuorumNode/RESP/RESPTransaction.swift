import QuorumCore

/// `MULTI`, `EXEC`, `DISCARD`, `UNWATCH`. (`WATCH` is refused: see `RESPCommand.refused`.)
public enum RESPTransactionCommand: Sendable, Equatable {
    case multi
    case exec
    case discard
    case unwatch

    static func parse(_ name: String, _ arguments: [[UInt8]]) throws(RESPCommandError) -> RESPTransactionCommand? {
        let command: RESPTransactionCommand
        switch name {
        case "MULTI": command = .multi
        case "EXEC": command = .exec
        case "DISCARD": command = .discard
        case "UNWATCH": command = .unwatch
        default: return nil
        }
        guard arguments.isEmpty else { throw .wrongArity(name) }
        return command
    }
}

/// The commands a connection queued after `MULTI`.
///
/// `EXEC` runs them in order, one after another, and answers every reply in one array:
/// what redis-py's `pipeline(transaction=True)` and django-redis's `set_many` expect. It is
/// a batch, not an isolated transaction: other clients may see some of its writes before
/// others, and a failure part-way leaves the earlier writes in place (the failing
/// command's reply is an error inside the array, as Redis does for errors at run time).
/// A command that fails to parse while queueing aborts the transaction, and `EXEC` then
/// answers `EXECABORT`, as Redis does.
public struct RESPTransactionQueue: Sendable, Equatable {
    public var commands: [RESPCommand] = []
    /// Bytes of the queued commands' words, bounded by `RESPLimits.transactionBytesMax`.
    public var bytes = 0
    /// A queued command was refused; `EXEC` will discard the lot.
    public var aborted = false

    public init() {}

    /// What to do with `command` given the connection's transaction state: nil when it is
    /// not a transaction command and no transaction is open (run it as usual).
    static func intercept(
        _ command: RESPCommand, bytes: Int, session: inout RESPSession, limits: RESPLimits
    ) -> RESPTransactionStep? {
        switch command {
        case .transaction(.multi):
            guard session.transaction == nil else { return .reply(.error(prefix: "ERR", "MULTI calls can not be nested")) }
            session.transaction = RESPTransactionQueue()
            return .reply(.ok)
        case .transaction(.discard):
            guard session.transaction != nil else { return .reply(.error(prefix: "ERR", "DISCARD without MULTI")) }
            session.transaction = nil
            return .reply(.ok)
        case .transaction(.exec):
            guard let queue = session.transaction else { return .reply(.error(prefix: "ERR", "EXEC without MULTI")) }
            session.transaction = nil
            guard !queue.aborted else {
                return .reply(.error(prefix: "EXECABORT", "Transaction discarded because of previous errors."))
            }
            return .run(queue.commands, bytes: queue.bytes)
        default:
            guard var queue = session.transaction else { return nil }
            guard !queue.aborted else { return .reply(.simpleString("QUEUED")) }
            guard queue.commands.count < limits.transactionCommandsMax, queue.bytes + bytes <= limits.transactionBytesMax else {
                queue.aborted = true
                session.transaction = queue
                return .reply(.error(
                    prefix: "ERR",
                    "a MULTI may queue at most \(limits.transactionCommandsMax) commands and \(limits.transactionBytesMax) bytes; the transaction is aborted, so EXEC will discard it; send smaller batches"))
            }
            queue.commands.append(command)
            queue.bytes += bytes
            session.transaction = queue
            return .reply(.simpleString("QUEUED"))
        }
    }
}

/// What the connection does with a command inside or around a transaction.
enum RESPTransactionStep: Equatable {
    case reply(RESPValue)
    /// `EXEC`: run these, in order.
    case run([RESPCommand], bytes: Int)
}

/// One command of an `EXEC` batch: answered on the connection when it was unpacked (a
/// connection command, which also changed the session in its place in the order), or a
/// request for the service.
public enum RESPBatchStep: Sendable, Equatable {
    case answered(RESPValue)
    case request(RESPRequest)
}

/// What a connection hands the command handler: one command, or an `EXEC` batch.
enum RESPWork: Sendable {
    case request(RESPRequest)
    case batch([RESPBatchStep])
}

extension RESPCommandHandler {
    /// Starts `work`; `completion` gets its one reply (see `start(_:completion:)`).
    func start(_ work: RESPWork, completion: @escaping @Sendable (RESPValue) -> Void) {
        switch work {
        case .request(let request): start(request, completion: completion)
        case .batch(let steps): Task { completion(await executeBatch(steps)) }
        }
    }

    /// Runs an `EXEC` batch in order, each command after the previous one finished;
    /// answers every reply in one array.
    func executeBatch(_ steps: [RESPBatchStep]) async -> RESPValue {
        var replies: [RESPValue] = []
        replies.reserveCapacity(steps.count)
        for step in steps {
            switch step {
            case .answered(let reply): replies.append(reply)
            case .request(let request): replies.append(await execute(request))
            }
        }
        return .array(replies)
    }
}
