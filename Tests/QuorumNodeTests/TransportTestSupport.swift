import Dispatch
import Logging
import NIOCore
import NIOPosix
import QuorumCore
import QuorumNode
import Synchronization
import XCTest

/// Keeps every log line so tests can check what an operator would read.
final class TransportLogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "transport-test") { _ in TransportRecordingLogHandler(recorder: self) }
        logger.logLevel = .debug
        return logger
    }

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

struct TransportRecordingLogHandler: LogHandler {
    let recorder: TransportLogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        recorder.append("\(event.level) \(event.message) \(rendered)")
    }
}

/// Responders a test holds back and releases when it chooses, to keep requests in flight.
final class TransportHeldResponders: Sendable {
    private let held = Mutex<[(payload: [UInt8], respond: @Sendable ([UInt8]) -> Void)]>([])

    var count: Int { held.withLock { $0.count } }

    func hold(_ payload: [UInt8], _ respond: @escaping @Sendable ([UInt8]) -> Void) {
        held.withLock { $0.append((payload, respond)) }
    }

    /// Answers every held request with its own payload.
    func releaseAll() {
        for entry in held.withLock({ held in defer { held.removeAll() }; return held }) { entry.respond(entry.payload) }
    }
}

/// Counts events from any thread.
final class TransportCounter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func increment() { value.withLock { $0 += 1 } }
}

/// Test runs stay readable; tests that check logs pass a `TransportLogRecorder`'s logger.
let transportQuietLogger = Logger(label: "transport-test") { _ in SwiftLogNoOpLogHandler() }

let transportTestHello = PeerHello(nodeID: "node-a", clusterDigest: 42)

/// Fast backoff so reconnect tests finish quickly; everything else at its default.
let transportTestLimits = PeerTransportLimits(connectTimeout: .seconds(1), backoffMin: .milliseconds(10), backoffMax: .milliseconds(100))

func startPeerServer(
    group: any EventLoopGroup,
    port: Int = 0,
    limits: PeerTransportLimits = transportTestLimits,
    logger: Logger = transportQuietLogger,
    helloValidator: @escaping @Sendable (PeerHello) -> String? = { _ in nil },
    handler: @escaping @Sendable ([UInt8], String, @escaping @Sendable ([UInt8]) -> Void) -> Void
) async throws -> (server: PeerServer, port: Int) {
    let server = PeerServer(
        host: "127.0.0.1", port: port, group: group, limits: limits, logger: logger,
        helloValidator: helloValidator, handler: handler
    )
    return (server, try await server.start())
}

/// Answers every request with its own payload.
let peerEchoHandler: @Sendable ([UInt8], String, @escaping @Sendable ([UInt8]) -> Void) -> Void = { payload, _, respond in
    respond(payload)
}

func makePeerClient(group: any EventLoopGroup, port: Int, limits: PeerTransportLimits = transportTestLimits, hello: PeerHello = transportTestHello) -> PeerClient {
    PeerClient(
        nodeID: "node-b", host: "127.0.0.1", port: port, group: group, hello: hello, limits: limits,
        logger: transportQuietLogger
    )
}

/// The error a future failed with, or nil if it succeeded.
func peerError(of future: EventLoopFuture<[UInt8]>, file: StaticString = #filePath, line: UInt = #line) async -> PeerError? {
    do {
        _ = try await future.get()
        return nil
    } catch let error as PeerError {
        return error
    } catch {
        XCTFail("expected a PeerError, got \(error)", file: file, line: line)
        return nil
    }
}

/// Waits for `future` or fails after `timeout`, so a hang is a failure and not a stuck run.
func transportWait<Value: Sendable>(
    _ future: EventLoopFuture<Value>, within timeout: TimeAmount, file: StaticString = #filePath, line: UInt = #line
) async throws -> Value {
    let promise = future.eventLoop.makePromise(of: Value.self)
    let deadline = future.eventLoop.scheduleTask(in: timeout) {
        promise.fail(TransportTestTimeout(what: "future", after: timeout))
    }
    future.cascade(to: promise)
    defer { deadline.cancel() }
    return try await promise.futureResult.get()
}

struct TransportTestTimeout: Error, CustomStringConvertible {
    var what: String
    var after: TimeAmount
    var description: String { "\(what) did not complete within \(after)" }
}

/// Polls `condition` until it holds or `timeout` passes; for state with no future to wait on.
func transportEventually(
    within timeout: Duration, _ what: String, file: StaticString = #filePath, line: UInt = #line,
    _ condition: () async -> Bool
) async {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if await condition() { return }
        try? await Task.sleep(for: .milliseconds(5))
    }
    XCTFail("\(what) did not happen within \(timeout)", file: file, line: line)
}
