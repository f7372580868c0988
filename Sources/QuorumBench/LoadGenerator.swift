import NIOCore
import NIOPosix

/// Runs one `LoadPlan` against its target and measures it. Every piece of state lives on one
/// event loop (the harness's single client thread), so nothing here takes a lock; the
/// tracker is shared with later runs against the same target, one run at a time.
///
/// Bounds: one operation in flight per connection; open-loop operations that find every
/// connection busy wait in a backlog of at most `backlogLimit` (past it they fail as
/// `backlog_full`); a reply not received within the request timeout + 1 s fails the
/// operation as `timeout` and the connection is replaced; after the run, in-flight and
/// queued operations get the same client timeout to finish, then count as `timeout`.
public final class LoadGenerator: @unchecked Sendable {
    /// How often the open-loop schedule is served, and timeouts and progress are checked.
    static let openLoopTick = TimeAmount.milliseconds(1)
    static let closedLoopTick = TimeAmount.milliseconds(20)
    /// Operations issued per tick at most, so a late tick can't monopolise the loop.
    static let maxIssuePerTick = 100_000
    /// Pause before a lost connection is replaced.
    static let reconnectDelayMicros: Int64 = 100_000

    private let plan: LoadPlan
    private let eventLoop: EventLoop
    private let clock: BenchClock
    private let tracker: StalenessTracker
    private let progress: (@Sendable (String) -> Void)?
    private var chooser: KeyChooser
    private let endpoints: [BenchTarget.Endpoint]
    private let readSuffix: ByteBuffer
    private let writeSuffix: ByteBuffer
    private let suffixWords: Int
    /// Commands each QuorumKV connection sends before its first operation: `SELECT bucket`,
    /// and for the typed workloads `CONSISTENCY W w N n TIMEOUT ms` (variadic commands
    /// such as `SADD` take no per-command options: `SADD s a W 1` adds three elements).
    private let setupCommands: [[String]]
    private let clientTimeoutMicros: Int64
    private let backlogLimit: Int

    private var slots: [ConnectionSlot] = []
    private var idle: [Int] = []
    private var backlog = CircularBuffer<PendingOperation>()
    private var outcome = LoadOutcome()
    private var promise: EventLoopPromise<LoadOutcome>?
    private var tickTask: RepeatedTask?

    private var startedAt: Int64 = 0
    private var measureFrom: Int64 = 0
    private var measureUntil: Int64 = .max
    private var generating = false
    private var drainDeadline: Int64 = .max
    private var issued = 0
    private var measuredIssued = 0
    private var lastProgressAt: Int64 = 0
    private var finished = false

    public init(
        plan: LoadPlan, eventLoop: EventLoop, clock: BenchClock, tracker: StalenessTracker,
        progress: (@Sendable (String) -> Void)?
    ) {
        self.plan = plan
        self.eventLoop = eventLoop
        self.clock = clock
        self.tracker = tracker
        self.progress = progress
        chooser = KeyChooser(recordCount: plan.recordCount, distribution: plan.distribution, seed: plan.seed)
        endpoints = plan.liveEndpoints
        var setup = plan.target.bucket.map { [["SELECT", $0]] } ?? []
        if plan.workload.isStrong, plan.target.kind == .quorumkv {
            // A strong bucket refuses R, W and N (every operation needs a majority): only the timeout.
            readSuffix = RESPCommandWriter.encodedArguments(["TIMEOUT", String(plan.requestTimeoutMs)])
            writeSuffix = readSuffix
            suffixWords = 2
        } else if let setting = plan.setting, plan.target.kind == .quorumkv, plan.workload.typedCommand != nil {
            setup.append(["CONSISTENCY", "W", String(setting.w), "N", String(setting.n), "TIMEOUT", String(plan.requestTimeoutMs)])
            readSuffix = ByteBuffer()
            writeSuffix = ByteBuffer()
            suffixWords = 0
        } else if let setting = plan.setting, plan.target.kind == .quorumkv {
            let timeout = String(plan.requestTimeoutMs)
            readSuffix = RESPCommandWriter.encodedArguments(["R", String(setting.r), "N", String(setting.n), "TIMEOUT", timeout])
            writeSuffix = RESPCommandWriter.encodedArguments(["W", String(setting.w), "N", String(setting.n), "TIMEOUT", timeout])
            suffixWords = 6
        } else {
            readSuffix = ByteBuffer()
            writeSuffix = ByteBuffer()
            suffixWords = 0
        }
        setupCommands = setup
        clientTimeoutMicros = Int64(plan.requestTimeoutMs + 1_000) * 1_000
        backlogLimit = max(1_024, Int(min(plan.targetRate ?? 0, 1_000_000)))
    }

    /// Runs the plan to the end and returns what it measured.
    public func run() async throws -> LoadOutcome {
        guard !endpoints.isEmpty else { throw BenchError.usage("no endpoint left to connect to") }
        let promise = eventLoop.makePromise(of: LoadOutcome.self)
        eventLoop.execute { self.start(promise) }
        return try await promise.futureResult.get()
    }

    // MARK: - Start and stop

    private func start(_ promise: EventLoopPromise<LoadOutcome>) {
        self.promise = promise
        slots = (0..<plan.connections).map { ConnectionSlot(index: $0, endpoint: endpoints[$0 % endpoints.count]) }
        let connects = slots.map { connect($0) }
        EventLoopFuture.whenAllComplete(connects, on: eventLoop).whenComplete { _ in
            let connected = self.slots.filter { $0.client != nil }.count
            guard connected > 0 else {
                self.fail(BenchError.startup("could not connect to any of \(self.endpoints)"))
                return
            }
            self.begin()
        }
    }

    private func begin() {
        startedAt = clock.nowMicroseconds()
        measureFrom = startedAt + Int64(plan.warmupSeconds * 1_000_000)
        if plan.operations == nil { measureUntil = measureFrom + Int64(plan.durationSeconds * 1_000_000) }
        lastProgressAt = startedAt
        generating = true
        if plan.targetRate == nil {
            for slot in slots where slot.ready && slot.current == nil { issueNew(on: slot) }
        }
        let tick = plan.targetRate == nil ? Self.closedLoopTick : Self.openLoopTick
        tickTask = eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in self.tick() }
    }

    private func fail(_ error: Error) {
        guard !finished else { return }
        finished = true
        tickTask?.cancel()
        for slot in slots { slot.client?.close() }
        promise?.fail(error)
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        tickTask?.cancel()
        let end = min(clock.nowMicroseconds(), measureUntil == .max ? clock.nowMicroseconds() : measureUntil)
        outcome.measuredSeconds = max(0.001, Double(end - measureFrom) / 1_000_000)
        for slot in slots {
            slot.current = nil
            slot.client?.close()
        }
        promise?.succeed(outcome)
    }

    // MARK: - Connections

    private func connect(_ slot: ConnectionSlot) -> EventLoopFuture<Void> {
        slot.connecting = true
        return RESPBenchClient.connect(
            to: slot.endpoint, on: eventLoop,
            // Weak: a TLS connection's close finishes after its close_notify exchange, which
            // can be after the generator is gone.
            onReply: { [weak self] reply in self?.received(reply, on: slot) },
            onClose: { [weak self] in self?.closed(slot) }
        ).map { client in
            slot.connecting = false
            guard !self.finished else { client.close(); return }
            slot.client = client
            if self.setupCommands.isEmpty {
                self.becameReady(slot)
            } else {
                slot.setupReplies = self.setupCommands.count
                for command in self.setupCommands { client.send(RESPCommandWriter.command(command)) }
            }
        }.flatMapErrorThrowing { _ in
            slot.connecting = false
            slot.reconnectAt = self.clock.nowMicroseconds() + Self.reconnectDelayMicros
        }
    }

    private func becameReady(_ slot: ConnectionSlot) {
        slot.ready = true
        if generating { nextOperation(for: slot) } else { idle.append(slot.index) }
    }

    private func closed(_ slot: ConnectionSlot) {
        slot.client = nil
        slot.ready = false
        idle.removeAll { $0 == slot.index }
        if let operation = slot.current {
            slot.current = nil
            complete(operation, error: "connection", detail: "connection: closed before the reply", slotFreed: nil)
        }
        slot.reconnectAt = clock.nowMicroseconds() + Self.reconnectDelayMicros
    }

    // MARK: - The schedule

    private func tick() {
        guard !finished else { return }
        let now = clock.nowMicroseconds()
        if generating {
            if let rate = plan.targetRate {
                let due = min(Int(Double(now - startedAt) * rate / 1_000_000), issued + Self.maxIssuePerTick)
                while issued < due && generating {
                    let intended = startedAt + Int64(Double(issued) * 1_000_000 / rate)
                    guard let operation = makeOperation(intendedAt: intended) else { break }
                    assign(operation)
                }
            }
            if now >= measureUntil { stopGenerating(at: now) }
        }
        for slot in slots {
            if let operation = slot.current, now - slot.sentAt > clientTimeoutMicros {
                slot.current = nil
                complete(operation, error: "timeout", detail: timeoutDetail, slotFreed: nil)
                slot.client?.close()  // `closed` schedules the replacement
            } else if slot.client == nil && !slot.connecting && !finished && now >= slot.reconnectAt {
                _ = connect(slot)
            }
        }
        if !generating {
            let busy = slots.contains { $0.current != nil }
            if !busy && backlog.isEmpty {
                finish()
                return
            }
            if now > drainDeadline {
                for slot in slots {
                    if let operation = slot.current {
                        slot.current = nil
                        complete(operation, error: "timeout", detail: timeoutDetail, slotFreed: nil)
                    }
                }
                while let operation = backlog.popFirst() {
                    complete(operation, error: "timeout", detail: "timeout: still queued when the run ended", slotFreed: nil)
                }
                finish()
                return
            }
        }
        if let progress, now - lastProgressAt >= 1_000_000 {
            lastProgressAt = now
            progress(progressLine(now: now))
        }
    }

    private func stopGenerating(at now: Int64) {
        guard generating else { return }
        generating = false
        if plan.operations != nil { measureUntil = now }
        drainDeadline = now + clientTimeoutMicros
    }

    private func progressLine(now: Int64) -> String {
        let label = plan.label
        if now < measureFrom { return "\(label)  warming up" }
        let seconds = Double(now - measureFrom) / 1_000_000
        let rate = Double(outcome.succeededTotal) / max(seconds, 0.001)
        let p99 = Double(outcome.all.valueAtPercentile(99)) / 1_000
        let total = plan.operations.map { "\($0) ops" } ?? String(format: "%.1f s", plan.durationSeconds)
        return String(
            format: "%@  %.1f s of %@  %.0f ops/s  p99 %.2f ms  errors %d  stale %d  misses %d", label, seconds, total,
            rate, p99, outcome.errorTotal, outcome.staleReads, outcome.readMisses)
    }

    /// The next operation of the workload, or nil when the operation count is reached.
    private func makeOperation(intendedAt: Int64) -> PendingOperation? {
        let measured = intendedAt >= measureFrom
        if measured, let operations = plan.operations {
            guard measuredIssued < operations else {
                stopGenerating(at: clock.nowMicroseconds())
                return nil
            }
        }
        issued += 1
        if measured { measuredIssued += 1 }
        let kind = plan.workload.operation(draw: chooser.unit())
        let key = kind == .update ? chooser.keyForWrite() : chooser.keyForRead()
        // Drawn only for the cache workload's SETs, so the other workloads replay as before.
        let ttl = kind == .update && plan.workload.setsExpiry ? plan.expiry.ttl(draw: chooser.unit()) : nil
        return PendingOperation(kind: kind, key: key, intendedAt: intendedAt, measured: measured, ttlSeconds: ttl, serial: issued)
    }

    /// An open-loop operation: to an idle connection, else to the backlog.
    private func assign(_ operation: PendingOperation) {
        if let index = idle.popLast() {
            dispatch(operation, on: slots[index])
        } else if backlog.count < backlogLimit {
            backlog.append(operation)
        } else {
            complete(
                operation, error: "backlog_full",
                detail: "backlog_full: every connection busy and \(backlogLimit) operations already queued", slotFreed: nil)
        }
    }

    private func issueNew(on slot: ConnectionSlot) {
        guard let operation = makeOperation(intendedAt: clock.nowMicroseconds()) else {
            idle.append(slot.index)
            return
        }
        dispatch(operation, on: slot)
    }

    /// What a connection does once free: the oldest queued operation, or (closed loop) a new
    /// one, or wait.
    private func nextOperation(for slot: ConnectionSlot) {
        if let operation = backlog.popFirst() {
            dispatch(operation, on: slot)
        } else if generating && plan.targetRate == nil {
            issueNew(on: slot)
        } else {
            idle.append(slot.index)
        }
    }

    // MARK: - Requests and replies

    private func dispatch(_ operation: PendingOperation, on slot: ConnectionSlot) {
        guard let client = slot.client else {
            complete(operation, error: "connection", detail: "connection: not connected", slotFreed: nil)
            return
        }
        var operation = operation
        let now = clock.nowMicroseconds()
        slot.sentAt = now
        var buffer = client.allocator.buffer(capacity: 96 + plan.valueSize)
        let key = VersionedValue.key(operation.key)
        let isQuorumKV = plan.target.kind == .quorumkv
        switch operation.kind {
        case .update where plan.workload.typedCommand != nil:
            // INCR / SADD: no versioned value, so no staleness tracking (the workload reads nothing).
            RESPCommandWriter.writeTypedUpdate(
                command: plan.workload.typedCommand ?? "", key: Self.typedKey(operation.key, plan.workload),
                element: plan.workload == .sadd ? Self.setElement(serial: operation.serial, seed: plan.seed) : nil,
                suffix: writeSuffix, suffixWords: suffixWords, into: &buffer)
        case .update:
            operation.writeSequence = tracker.beginWrite(key: operation.key)
            operation.writeStartedAt = now
            RESPCommandWriter.writeSet(
                key: key, sequence: operation.writeSequence, size: plan.valueSize, ttlSeconds: operation.ttlSeconds,
                suffix: writeSuffix, suffixWords: suffixWords, into: &buffer)
        case .read, .readModifyWrite:
            operation.snapshot = tracker.snapshot(key: operation.key, at: now)
            RESPCommandWriter.writeHeader(count: 2 + suffixWords, into: &buffer)
            if operation.kind == .readModifyWrite && isQuorumKV && plan.workload != .cas {
                buffer.writeStaticString("$4\r\nQGET\r\n")
            } else {
                buffer.writeStaticString("$3\r\nGET\r\n")
            }
            RESPCommandWriter.writeBulk(key, into: &buffer)
            var suffix = readSuffix
            buffer.writeBuffer(&suffix)
        }
        if plan.targetRate == nil { operation.intendedAt = now }
        slot.current = operation
        client.send(buffer)
    }

    /// The write half of a read-modify-write, on the same connection, with the read's context
    /// (`cas`: `SET … IFEQ` of the value read, or `SET … NX` when it read none).
    private func sendModify(
        _ operation: inout PendingOperation, context: ByteBuffer?, expected: ByteBuffer?, on slot: ConnectionSlot
    ) {
        guard let client = slot.client else { return }
        let now = clock.nowMicroseconds()
        operation.writeSequence = tracker.beginWrite(key: operation.key)
        operation.writeStartedAt = now
        operation.modifying = true
        slot.sentAt = now
        var buffer = client.allocator.buffer(capacity: 160 + plan.valueSize)
        let key = VersionedValue.key(operation.key)
        if plan.workload == .cas {
            RESPCommandWriter.writeHeader(count: 3 + (expected == nil ? 1 : 2) + suffixWords, into: &buffer)
            buffer.writeStaticString("$3\r\nSET\r\n")
            RESPCommandWriter.writeBulk(key, into: &buffer)
            RESPCommandWriter.writeValue(sequence: operation.writeSequence, size: plan.valueSize, into: &buffer)
            if let expected {
                buffer.writeStaticString("$4\r\nIFEQ\r\n")
                RESPCommandWriter.writeBulk(expected, into: &buffer)
            } else {
                buffer.writeStaticString("$2\r\nNX\r\n")
            }
        } else if plan.target.kind == .quorumkv {
            let contextWords = context == nil ? 0 : 2
            RESPCommandWriter.writeHeader(count: 3 + contextWords + suffixWords, into: &buffer)
            buffer.writeStaticString("$4\r\nQSET\r\n")
            RESPCommandWriter.writeBulk(key, into: &buffer)
            RESPCommandWriter.writeValue(sequence: operation.writeSequence, size: plan.valueSize, into: &buffer)
            if let context {
                buffer.writeStaticString("$7\r\nCONTEXT\r\n")
                RESPCommandWriter.writeBulk(context, into: &buffer)
            }
        } else {
            RESPCommandWriter.writeHeader(count: 3, into: &buffer)
            buffer.writeStaticString("$3\r\nSET\r\n")
            RESPCommandWriter.writeBulk(key, into: &buffer)
            RESPCommandWriter.writeValue(sequence: operation.writeSequence, size: plan.valueSize, into: &buffer)
        }
        var suffix = writeSuffix
        buffer.writeBuffer(&suffix)
        slot.current = operation
        client.send(buffer)
    }

    private func received(_ reply: RESPReply, on slot: ConnectionSlot) {
        guard !finished else { return }
        if slot.setupReplies > 0 {
            slot.setupReplies -= 1
            if let kind = reply.errorKind {
                outcome.errors["setup_\(kind)", default: 0] += 1
                slot.setupReplies = 0
                slot.client?.close()
                return
            }
            if slot.setupReplies == 0 { becameReady(slot) }
            return
        }
        guard var operation = slot.current else { return }  // a reply after a timeout: ignored
        slot.current = nil
        let now = clock.nowMicroseconds()
        switch (operation.kind, operation.modifying) {
        case (.update, _) where plan.workload.typedCommand != nil:
            // INCR answers the new value, SADD how many were new: both integers.
            if case .integer = reply {
                complete(operation, error: nil, slotFreed: slot)
            } else {
                complete(operation, error: reply.errorKind ?? "protocol", detail: Self.detail(of: reply), slotFreed: slot)
            }
        case (.readModifyWrite, true) where plan.workload == .cas:
            if case .simple = reply {
                tracker.writeAcknowledged(
                    key: operation.key, sequence: operation.writeSequence, startedAt: operation.writeStartedAt, at: now)
                complete(operation, error: nil, slotFreed: slot)
            } else if case .bulk(nil) = reply {
                // The condition failed: another client changed the key after the read. An answer, not an error.
                tracker.writeFailed(key: operation.key, sequence: operation.writeSequence)
                if operation.measured { outcome.casConflicts += 1 }
                complete(operation, error: nil, slotFreed: slot)
            } else {
                tracker.writeFailed(key: operation.key, sequence: operation.writeSequence)
                complete(operation, error: reply.errorKind ?? "protocol", detail: Self.detail(of: reply), slotFreed: slot)
            }
        case (.update, _), (.readModifyWrite, true):
            if case .simple = reply {
                tracker.writeAcknowledged(
                    key: operation.key, sequence: operation.writeSequence, startedAt: operation.writeStartedAt, at: now)
                complete(operation, error: nil, slotFreed: slot)
            } else if case .bulk(.some) = reply {  // QSET in a vclock bucket answers the new context
                tracker.writeAcknowledged(
                    key: operation.key, sequence: operation.writeSequence, startedAt: operation.writeStartedAt, at: now)
                complete(operation, error: nil, slotFreed: slot)
            } else {
                tracker.writeFailed(key: operation.key, sequence: operation.writeSequence)
                complete(operation, error: reply.errorKind ?? "protocol", detail: Self.detail(of: reply), slotFreed: slot)
            }
        case (.read, _), (.readModifyWrite, false):
            guard let values = readValues(reply, operation: operation) else {
                complete(operation, error: reply.errorKind ?? "protocol", detail: Self.detail(of: reply), slotFreed: slot)
                return
            }
            let miss = values.sequences.isEmpty && !values.unversioned
            if miss, operation.measured { outcome.readMisses += 1 }
            // In the cache workload a miss is a key that expired, not a lost write, so only hits
            // are judged: that still catches expiry letting an older value come back. In the
            // other workloads every record was preloaded, so a miss is judged (and stale).
            if !(miss && plan.workload.setsExpiry) {
                judge(operation, values: values.sequences, unversioned: values.unversioned)
            }
            if operation.kind == .readModifyWrite {
                sendModify(&operation, context: values.context, expected: values.raw, on: slot)
            } else {
                complete(operation, error: nil, slotFreed: slot)
            }
        }
    }

    private struct ReadValues {
        var sequences: [UInt32]
        var unversioned: Bool
        var context: ByteBuffer?
        /// A `GET`'s value as read, for `cas`'s `IFEQ`.
        var raw: ByteBuffer? = nil
    }

    /// The versions a read reply holds (empty when the key is absent), or nil for an error.
    private func readValues(_ reply: RESPReply, operation: PendingOperation) -> ReadValues? {
        switch reply {
        case .bulk(nil):
            return ReadValues(sequences: [], unversioned: false, context: nil)
        case .bulk(.some(let value)):
            guard let sequence = VersionedValue.decode(value) else {
                return ReadValues(sequences: [], unversioned: true, context: nil, raw: value)
            }
            return ReadValues(sequences: [sequence], unversioned: false, context: nil, raw: value)
        case .array(let elements?):
            // QGET: [context, [content-type, value], …]; empty when absent.
            guard let first = elements.first else { return ReadValues(sequences: [], unversioned: false, context: nil) }
            guard case .bulk(let context) = first else { return nil }
            var sequences: [UInt32] = []
            var unversioned = false
            for sibling in elements.dropFirst() {
                guard case .array(let parts?) = sibling, parts.count == 2, case .bulk(let value?) = parts[1] else { return nil }
                if let sequence = VersionedValue.decode(value) { sequences.append(sequence) } else { unversioned = true }
            }
            if elements.count > 2, operation.measured { outcome.siblingsSeen += 1 }
            return ReadValues(sequences: sequences, unversioned: unversioned, context: context)
        case .error:
            if reply.errorKind == "SIBLINGS", operation.measured { outcome.siblingsSeen += 1 }
            return nil
        default:
            return nil
        }
    }

    private func judge(_ operation: PendingOperation, values: [UInt32], unversioned: Bool) {
        guard operation.measured, let snapshot = operation.snapshot else { return }
        if unversioned && values.isEmpty {
            outcome.unversionedReads += 1
            return
        }
        let stale = tracker.isStale(key: operation.key, returned: values.max(), snapshot: snapshot)
        outcome.readsChecked += 1
        if stale { outcome.staleReads += 1 }
        if let bin = StalenessTracker.pbsBin(snapshot: snapshot) {
            outcome.pbsReads[bin] += 1
            if stale { outcome.pbsStale[bin] += 1 }
        }
    }

    /// A typed workload's key: its own names (`incr:17`), apart from the preloaded records.
    static func typedKey(_ key: Int, _ workload: Workload) -> String { "\(workload.rawValue):\(key)" }

    /// A set element no other operation of the run adds: the run's seed and the operation's serial.
    static func setElement(serial: Int, seed: UInt64) -> String { "e\(String(seed, radix: 36))-\(serial)" }

    private var timeoutDetail: String { "timeout: no reply within \(clientTimeoutMicros / 1_000) ms" }

    /// What a failed reply said, for the report's first error: a server error's whole text
    /// (its first word is the error's kind), else what arrived instead of the expected reply.
    static func detail(of reply: RESPReply) -> String {
        switch reply {
        case .error(let text): return text
        case .simple(let text): return "protocol: unexpected simple string '\(text)'"
        case .integer(let value): return "protocol: unexpected integer \(value)"
        case .bulk(let value): return "protocol: unexpected bulk string of \(value?.readableBytes ?? -1) bytes"
        case .array(let elements): return "protocol: unexpected array of \(elements?.count ?? -1) elements"
        }
    }

    /// Records a finished operation and hands its connection (if any) the next one.
    /// `detail` is the error's text (the kind alone when nil), kept when it is the run's first.
    private func complete(_ operation: PendingOperation, error: String?, detail: String? = nil, slotFreed: ConnectionSlot?) {
        if operation.measured {
            if let error {
                outcome.recordError(kind: error, detail: detail ?? error)
            } else {
                outcome.record(kind: operation.kind, latencyMicros: clock.nowMicroseconds() - operation.intendedAt)
            }
        }
        if operation.kind == .update, plan.workload.typedCommand == nil, error == "timeout" || error == "connection" || error == "backlog_full" {
            tracker.writeFailed(key: operation.key, sequence: operation.writeSequence)
        }
        if error == nil, operation.kind != .read { chooser.noteWritten(operation.key) }
        if let slot = slotFreed, !finished { nextOperation(for: slot) }
    }
}

/// One operation from when it is due to when its (last) reply arrives.
struct PendingOperation {
    var kind: OperationKind
    var key: Int
    /// Where its latency counts from: when it was due (open loop) or sent (closed loop).
    var intendedAt: Int64
    /// Issued after the warm-up, so it is counted.
    var measured: Bool
    var writeSequence: UInt32 = 0
    var writeStartedAt: Int64 = 0
    var snapshot: StalenessTracker.Snapshot?
    /// A read-modify-write past its read.
    var modifying = false
    /// The expiry a cache-workload SET carries (`EX`), nil for every other operation.
    var ttlSeconds: Int? = nil
    /// The operation's number in the run (from 1), naming a `sadd` workload's new element.
    var serial: Int = 0
}

/// One connection of a run and the operation it carries. Confined to the run's event loop.
final class ConnectionSlot: @unchecked Sendable {
    let index: Int
    let endpoint: BenchTarget.Endpoint
    var client: RESPBenchClient?
    var connecting = false
    var ready = false
    var setupReplies = 0
    var current: PendingOperation?
    var sentAt: Int64 = 0
    var reconnectAt: Int64 = 0

    init(index: Int, endpoint: BenchTarget.Endpoint) {
        self.index = index
        self.endpoint = endpoint
    }
}
