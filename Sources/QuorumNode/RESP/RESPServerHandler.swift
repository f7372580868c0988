import Logging
import NIOCore
import QuorumCore

/// One RESP connection: parses what arrives, runs each command (connection commands at
/// once, key-value commands on a task against the `KVService`), and writes the replies
/// back in request order on the connection's event loop.
///
/// Bounds: at most `pipelineDepthMax` commands read and unanswered, holding at most
/// `pendingCommandBytesMax` of keys and values, and at most `bufferedReplyBytesMax` of
/// finished replies waiting behind a slower one; past any of them,
/// or while the socket can't take more output, the handler stops parsing and holds back
/// `read()`, so the kernel's receive window pushes back on the client. A protocol error
/// or `QUIT` answers, then closes; end of input closes once every reply is out. A
/// connection idle while none of its commands runs is closed.
final class RESPServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The handler on the node's own service; `commands` is it, or the same on the
    /// guarded service of the user this connection acts as.
    private let baseCommands: RESPCommandHandler
    private var commands: RESPCommandHandler
    /// Nil on a node without an ACL: nothing is checked.
    private let gate: RESPAccessGate?
    /// The user this connection acts as (with a gate); nil until it logs in.
    private var user: String?
    /// A login is being checked: nothing more is parsed until it answers, so commands
    /// pipelined behind `AUTH` (as redis-benchmark sends them) run as the new user.
    private var authenticating = false
    private var failedLogins = 0
    private let limits: RESPLimits
    private let logger: Logger
    private var parser: RESPParser
    private var pipeline = RESPPipeline<RESPWork>()
    private var session = RESPSession(clientID: 0)
    private var counted = false
    /// This connection in the server's `CLIENT LIST`.
    private var record: RESPClientRecord?

    /// A `read()` was held back by backpressure; issue it when the pipeline drains.
    private var readHeldBack = false
    /// The peer half-closed: finish what was read, then close.
    private var inputEnded = false
    /// The parser has nothing complete left; cleared when bytes arrive.
    private var parserDrained = true
    /// `QUIT` or a protocol error was read: nothing after it is read or run.
    private var stopReading = false
    /// Closing or closed: completions that arrive now are dropped.
    private var closing = false
    /// Inside `process`; a nested call asks for another pass instead of re-entering.
    private var processing = false
    private var processAgain = false
    /// Inside `channelRead`: replies are flushed once, at `channelReadComplete`.
    private var inReadBurst = false
    private var flushPending = false
    /// A flush is queued on the event loop: replies finished in the same tick share it.
    private var flushScheduled = false
    /// The last write, so closing waits until every reply is on the wire.
    private var lastWrite: EventLoopFuture<Void>?
    /// Replies waiting for `completed`'s loop; at most one per command in the pipeline.
    private var finishedReplies: [(id: UInt64, reply: RESPValue)] = []
    private var takingReplies = false

    init(commands: RESPCommandHandler, limits: RESPLimits, logger: Logger, gate: RESPAccessGate? = nil) {
        self.commands = commands
        baseCommands = commands
        self.gate = gate
        self.limits = limits
        self.logger = logger
        parser = RESPParser(limits: limits)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        session = RESPSession(clientID: commands.stats.connectionOpened())
        counted = true
        let record = RESPClientRecord(
            session: session, address: Self.describe(context.channel.remoteAddress),
            localAddress: Self.describe(context.channel.localAddress), nowMilliseconds: WallClock.nowMilliseconds())
        self.record = record
        commands.stats.clients.add(record)
        if let gate, let anonymous = gate.access.anonymousUser(loopbackListener: gate.loopbackListener) { actAs(anonymous) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted {
            counted = false
            commands.stats.connectionClosed()
            commands.stats.clients.remove(id: session.clientID)
        }
    }

    /// `ip:port`, as `CLIENT LIST`'s `addr=` shows it.
    private static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        guard let ip = address.ipAddress, let port = address.port else { return address.description }
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    // MARK: - Input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !stopReading, !closing else { return }
        let buffer = unwrapInboundIn(data)
        record?.lastActiveMilliseconds.store(WallClock.nowMilliseconds(), ordering: .relaxed)
        parser.append(buffer.readableBytesView)
        parserDrained = false
        inReadBurst = true
        process(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBurst = false
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// Reads and runs commands until the input runs out or backpressure says stop, then
    /// writes the replies that are ready.
    private func process(context: ChannelHandlerContext) {
        if processing {
            processAgain = true
            return
        }
        processing = true
        defer { processing = false }
        repeat {
            processAgain = false
            var read = 0
            while true {
                // Finished replies leave first: that is what makes room for more commands.
                writeReady(context: context)
                guard !stopReading, !closing, !parserDrained, !isBackedUp(context) else { break }
                parsing: while !isBackedUp(context) {
                    switch parser.next() {
                    case .needMoreData:
                        parserDrained = true
                        break parsing
                    case .command(let words):
                        read += 1
                        accept(words, context: context)
                        if stopReading { break parsing }
                    case .error(let message):
                        logger.debug(
                            "RESP protocol error; closing",
                            metadata: ["peer": "\(context.remoteAddress?.description ?? "?")", "error": "\(message)"])
                        pipeline.enqueueAnswered(.error("ERR " + message), closeAfter: true)
                        stopReading = true
                        break parsing
                    }
                }
            }
            if read > 0 { commands.stats.commandsRead(read) }
            if readHeldBack, !stopReading, !closing, !isBackedUp(context) {
                readHeldBack = false
                context.read()
            }
            finishIfDone(context: context)
        } while processAgain && !closing
    }

    private func accept(_ words: [[UInt8]], context: ChannelHandlerContext) {
        let command: RESPCommand
        do {
            command = try RESPCommand.parse(words, limits: commands.limits)
        } catch {
            // Inside MULTI a command that can't be queued dooms the transaction, as in Redis.
            session.transaction?.aborted = true
            pipeline.enqueueAnswered(error.reply)
            return
        }
        if let gate, !admit(command, name: words.first ?? [], gate: gate, context: context) { return }
        if command == .quit {
            pipeline.enqueueAnswered(.ok, closeAfter: true)
            stopReading = true
            return
        }
        let bytes = words.reduce(0) { $0 + $1.count }
        if let step = RESPTransactionQueue.intercept(command, bytes: bytes, session: &session, limits: limits) {
            switch step {
            case .reply(let reply): pipeline.enqueueAnswered(reply)
            case .run(let queued, let queuedBytes): runBatch(queued, bytes: queuedBytes, context: context)
            }
            record?.update(session)
            return
        }
        if let reply = commands.answerLocally(command, session: &session) {
            pipeline.enqueueAnswered(reply)
            record?.update(session)
            return
        }
        let request = session.request(for: command)
        let access = request.scopedKeys
        let work = RESPWork.request(request)
        let (id, start) = pipeline.enqueue(
            work, keys: access.keys, writes: access.writes, everyKey: request.touchesEveryKey, bytes: bytes)
        if start { launch(id: id, work: work, context: context) }
    }

    /// `EXEC`: connection commands are answered now, in their place in the order (so a
    /// queued `SELECT` applies to the commands queued after it); the rest run in order as
    /// one piece of work that conflicts with whatever any of them touches.
    private func runBatch(_ queued: [RESPCommand], bytes: Int, context: ChannelHandlerContext) {
        var steps: [RESPBatchStep] = []
        var keys = Set<[UInt8]>()
        var writes = false
        var everyKey = false
        for command in queued {
            if let reply = commands.answerLocally(command, session: &session) {
                steps.append(.answered(reply))
                continue
            }
            let request = session.request(for: command)
            let access = request.scopedKeys
            keys.formUnion(access.keys)
            writes = writes || access.writes
            everyKey = everyKey || request.touchesEveryKey
            steps.append(.request(request))
        }
        guard steps.contains(where: { if case .request = $0 { return true } else { return false } }) else {
            pipeline.enqueueAnswered(.array(steps.map { if case .answered(let reply) = $0 { return reply } else { return .null } }))
            return
        }
        let work = RESPWork.batch(steps)
        let (id, start) = pipeline.enqueue(work, keys: keys, writes: writes, everyKey: everyKey, bytes: bytes)
        if start { launch(id: id, work: work, context: context) }
    }

    private func isBackedUp(_ context: ChannelHandlerContext) -> Bool {
        authenticating || pipeline.count >= limits.pipelineDepthMax || pipeline.bufferedReplyBytes > limits.bufferedReplyBytesMax
            || pipeline.commandBytes > limits.pendingCommandBytesMax || !context.channel.isWritable
    }

    // MARK: - Logging in and permissions

    /// What to answer once a login succeeds.
    private enum AfterLogin: Sendable {
        case auth
        case hello(protocolVersion: Int?, clientName: [UInt8]?)
    }

    /// Whether `command` may go on: logins start here, an unauthenticated connection gets
    /// `-NOAUTH`, and a command the user may not run gets `-NOPERM` (by the command
    /// table's category; the guarded service checks each call again).
    private func admit(_ command: RESPCommand, name: [UInt8], gate: RESPAccessGate, context: ChannelHandlerContext) -> Bool {
        switch command {
        case .auth(let credentials):
            beginLogin(credentials, then: .auth, gate: gate, context: context)
            return false
        case .hello(let version, let clientName, let credentials?):
            beginLogin(credentials, then: .hello(protocolVersion: version, clientName: clientName), gate: gate, context: context)
            return false
        case .quit:
            return true
        case .hello where user == nil:
            pipeline.enqueueAnswered(RESPAuthReplies.helloNoAuth)
            return false
        default:
            guard let user else {
                session.transaction?.aborted = true
                pipeline.enqueueAnswered(RESPAuthReplies.noAuth)
                return false
            }
            let commandName = String(decoding: name, as: UTF8.self).lowercased()
            guard let need = RESPCommandAccess.requirement(command: commandName, bucket: session.bucket),
                case .denied(let denial) = gate.access.decide(user: user, action: need.action, bucket: need.bucket)
            else { return true }
            session.transaction?.aborted = true
            pipeline.enqueueAnswered(RESPAuthReplies.noPermission(denial, command: commandName))
            return false
        }
    }

    private func actAs(_ name: String) {
        guard let gate else { return }
        user = name
        commands = baseCommands.serving(AuthorizedKVService(base: baseCommands.service, user: name, access: gate.access))
        session.user = name
        record?.update(session)
    }

    /// Checks credentials off the event loop (the hash is slow on purpose) and holds the
    /// connection's input until the answer is in.
    private func beginLogin(_ credentials: RESPCredentials, then: AfterLogin, gate: RESPAccessGate, context: ChannelHandlerContext) {
        authenticating = true
        let source = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let loopback = gate.loopbackListener
        Task.detached {
            let outcome = gate.access.login(
                user: credentials.userName, password: credentials.password, source: source, loopbackListener: loopback)
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.finishLogin(outcome, then: then, gate: gate, context: context)
            }
        }
    }

    private func finishLogin(
        _ outcome: AccessControl.LoginOutcome, then: AfterLogin, gate: RESPAccessGate, context: ChannelHandlerContext
    ) {
        authenticating = false
        guard !closing else { return }
        var reply: RESPValue
        switch outcome {
        case .accepted(let name):
            actAs(name)
            switch then {
            case .auth:
                reply = .ok
            case .hello(let version, let clientName):
                reply = commands.answerLocally(.hello(protocolVersion: version, clientName: clientName), session: &session)
                    ?? .ok
                record?.update(session)
            }
        case .refused:
            failedLogins += 1
            reply = RESPAuthReplies.wrongPass
        case .rateLimited:
            failedLogins += 1
            reply = RESPAuthReplies.rateLimited
        }
        let closeAfter = failedLogins >= gate.access.limits.failuresPerConnectionMax
        if closeAfter {
            gate.access.counters.connectionsClosed.add(1, ordering: .relaxed)
            stopReading = true
        }
        pipeline.enqueueAnswered(reply, closeAfter: closeAfter)
        process(context: context)
    }

    // MARK: - Running commands

    /// Starts a command. Its reply comes back on this event loop: straight away when the
    /// service answered on it (a read of a local replica), through `execute` otherwise.
    private func launch(id: UInt64, work: RESPWork, context: ChannelHandlerContext) {
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        commands.start(work) { reply in
            guard eventLoop.inEventLoop else {
                return eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.completed(id: id, reply: reply, context: context)
                }
            }
            let (handler, context) = bound.value
            handler.completed(id: id, reply: reply, context: context)
        }
    }

    /// Takes a finished command's reply and starts the commands that were waiting for it.
    /// Replies that arrive while this runs (commands answered as they start) are queued and
    /// taken by the same loop, so a chain of them never deepens the stack.
    private func completed(id: UInt64, reply: RESPValue, context: ChannelHandlerContext) {
        guard !closing else { return }
        finishedReplies.append((id: id, reply: reply))
        guard !takingReplies else { return }
        takingReplies = true
        var index = 0
        while index < finishedReplies.count {
            let (id, reply) = finishedReplies[index]
            index += 1
            for (next, work) in pipeline.complete(id, reply: reply) {
                launch(id: next, work: work, context: context)
            }
        }
        finishedReplies.removeAll(keepingCapacity: true)
        takingReplies = false
        process(context: context)
    }

    // MARK: - Output

    private func writeReady(context: ChannelHandlerContext) {
        let (replies, closeAfter) = pipeline.takeReady()
        guard !replies.isEmpty else { return }
        var buffer = context.channel.allocator.buffer(capacity: replies.reduce(0) { $0 + $1.encodedSize })
        let resp3 = session.protocolVersion == 3
        for reply in replies { buffer.writeRESPValue(reply, resp3: resp3) }
        let write = context.write(wrapOutboundOut(buffer))
        lastWrite = write
        if closeAfter {
            closing = true
            context.flush()
            let channel = context.channel
            write.whenComplete { _ in channel.close(promise: nil) }
        } else {
            flushPending = true
            if !inReadBurst { scheduleFlush(context: context) }
        }
    }

    /// Flushes after the tasks already queued on the event loop have run, so replies that
    /// finish together (a pipelined burst) go out in one system call instead of one each.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            guard self.flushPending else { return }
            self.flushPending = false
            context.flush()
        }
    }

    /// After end of input: close once every command read is answered and written.
    private func finishIfDone(context: ChannelHandlerContext) {
        guard inputEnded, !closing, !authenticating, pipeline.isEmpty, parserDrained || stopReading else { return }
        closing = true
        if flushPending {
            flushPending = false
            context.flush()
        }
        let channel = context.channel
        if let lastWrite {
            lastWrite.whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }

    // MARK: - Backpressure and events

    func read(context: ChannelHandlerContext) {
        if stopReading || closing || isBackedUp(context) {
            readHeldBack = !stopReading && !closing
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { process(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            guard pipeline.isEmpty, !authenticating, !closing else { return }  // a command is running: not the client's fault
            logger.debug("closing idle RESP connection", metadata: ["peer": "\(context.remoteAddress?.description ?? "?")"])
            closing = true
            context.close(promise: nil)
        case ChannelEvent.inputClosed:
            inputEnded = true
            process(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("RESP connection error; closing", metadata: ["error": "\(error)"])
        closing = true
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        context.fireChannelInactive()
    }
}
