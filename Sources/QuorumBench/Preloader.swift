import NIOCore

/// Writes every record once (sequence 0) before the workloads run, so reads find values and
/// every later write is an update. QuorumKV records are written at w = n, so every replica
/// holds them before the first read.
///
/// Bounds: `connections` writes in flight; a failed write is retried up to `maxAttempts`
/// times, then the preload fails.
public final class Preloader: @unchecked Sendable {
    static let maxAttempts = 5

    private let target: BenchTarget
    private let recordCount: Int
    private let valueSize: Int
    private let connections: Int
    private let writeSuffix: ByteBuffer
    private let suffixWords: Int
    private let eventLoop: EventLoop
    private var next = 0
    private var done = 0
    private var attempts: [Int: Int] = [:]
    private var clients: [RESPBenchClient] = []
    private var inFlight: [ObjectIdentifier: Int] = [:]
    private var promise: EventLoopPromise<Void>?

    public init(target: BenchTarget, recordCount: Int, valueSize: Int, connections: Int, n: Int?, eventLoop: EventLoop) {
        self.target = target
        self.recordCount = recordCount
        self.valueSize = valueSize
        self.connections = max(1, min(connections, recordCount))
        self.eventLoop = eventLoop
        if let n, target.kind == .quorumkv {
            writeSuffix = RESPCommandWriter.encodedArguments(["W", String(n), "N", String(n), "TIMEOUT", "10000"])
            suffixWords = 6
        } else {
            writeSuffix = ByteBuffer()
            suffixWords = 0
        }
    }

    public func run() async throws {
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { self.start(promise) }
        try await promise.futureResult.get()
    }

    private func start(_ promise: EventLoopPromise<Void>) {
        self.promise = promise
        let connects = (0..<connections).map { index -> EventLoopFuture<RESPBenchClient> in
            let endpoint = target.endpoints[index % target.endpoints.count]
            let box = ClientBox()
            return RESPBenchClient.connect(
                to: endpoint, on: eventLoop,
                // Weak: a TLS connection's close finishes after its close_notify exchange,
                // which can be after the preloader is gone.
                onReply: { [weak self] reply in
                    guard let self else { return }
                    if box.skipReplies > 0 {
                        box.skipReplies -= 1
                    } else if let client = box.client {
                        self.received(reply, on: client)
                    }
                },
                onClose: { [weak self] in self?.fail("a connection to \(endpoint) closed during the preload") }
            ).map { client in
                box.client = client
                if let bucket = self.target.bucket {
                    box.skipReplies = 1
                    client.send(RESPCommandWriter.command(["SELECT", bucket]))
                }
                return client
            }
        }
        EventLoopFuture.whenAllSucceed(connects, on: eventLoop).whenComplete { result in
            switch result {
            case .failure(let error): self.fail("preload could not connect: \(error)")
            case .success(let clients):
                self.clients = clients
                for client in clients { self.sendNext(on: client) }
            }
        }
    }

    private func sendNext(on client: RESPBenchClient) {
        guard next < recordCount else { return }
        send(key: next, on: client)
        next += 1
    }

    private func send(key: Int, on client: RESPBenchClient) {
        inFlight[ObjectIdentifier(client)] = key
        var buffer = client.allocator.buffer(capacity: 64 + valueSize)
        RESPCommandWriter.writeHeader(count: 3 + suffixWords, into: &buffer)
        buffer.writeStaticString("$3\r\nSET\r\n")
        RESPCommandWriter.writeBulk(VersionedValue.key(key), into: &buffer)
        RESPCommandWriter.writeValue(sequence: 0, size: valueSize, into: &buffer)
        var suffix = writeSuffix
        buffer.writeBuffer(&suffix)
        client.send(buffer)
    }

    private func received(_ reply: RESPReply, on client: RESPBenchClient) {
        guard promise != nil else { return }
        guard let key = inFlight.removeValue(forKey: ObjectIdentifier(client)) else { return }
        if case .simple = reply {
            done += 1
            if done == recordCount { finish(nil) } else { sendNext(on: client) }
            return
        }
        let tries = attempts[key, default: 0] + 1
        attempts[key] = tries
        guard tries < Self.maxAttempts else {
            fail("preload of \(VersionedValue.key(key)) failed \(tries) times; last answer: \(reply)")
            return
        }
        send(key: key, on: client)
    }

    private func fail(_ message: String) { finish(BenchError.startup(message)) }

    private func finish(_ error: Error?) {
        guard let promise else { return }
        self.promise = nil
        for client in clients { client.close() }
        if let error { promise.fail(error) } else { promise.succeed(()) }
    }
}

/// Lets a reply callback, set up before the connection exists, find its client.
private final class ClientBox: @unchecked Sendable {
    var client: RESPBenchClient?
    /// Replies to set-up commands (SELECT) still to come, which are not preload answers.
    var skipReplies = 0
}
