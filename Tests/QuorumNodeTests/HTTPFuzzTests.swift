import Foundation
import NIOCore
import NIOEmbedded
import QuorumCore
import QuorumNode
import XCTest

/// Property tests for the HTTP request path: thousands of random and mutated requests go
/// through the server's real pipeline (NIOHTTP1's decoder, pipelining, `HTTPServerHandler`,
/// routing, the API) on a test channel, then a bounded number over real loopback sockets.
///
/// Properties, for every case: the process does not crash; what the server writes is a
/// sequence of well-formed HTTP responses (`HTTPResponseStreamChecker`), none a 5xx (the
/// fake service never fails, so a 500 would be a bug in the HTTP layer); after the client
/// half-closes, the server closes the connection; and a valid request afterwards works and
/// finds the data stored before the fuzzing intact.
///
/// Reproduce a failure with the seed it prints: `QUORUMKV_FUZZ_SEED=<seed> swift test
/// --filter HTTPFuzzTests`. `QUORUMKV_FUZZ_CASES` changes the number of cases.
final class HTTPFuzzTests: XCTestCase {
    /// Cases over the test channel, at most, and the time they may take (debug builds on
    /// two cores run the whole count in well under it).
    static let embeddedCasesMax = 3000
    static let embeddedTimeBudget = Duration.seconds(12)
    /// Cases over real sockets: each is a connection.
    static let loopbackCases = 300
    /// Longest wait for the server to close one case's connection.
    static let closeWaitMax = Duration.seconds(5)

    static let limits: Limits = {
        var limits = Limits()
        limits.httpHeaderBytesMax = 2048
        limits.httpBodyBytesMax = 4096
        limits.valueBytesMax = 4096
        return limits
    }()

    private static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["QUORUMKV_FUZZ_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 0...UInt64.max)
    }

    private static func caseCount(default count: Int) -> Int {
        ProcessInfo.processInfo.environment["QUORUMKV_FUZZ_CASES"].flatMap(Int.init) ?? count
    }

    private let generator = HTTPFuzzGenerator(headBytesMax: limits.httpHeaderBytesMax, bodyBytesMax: limits.httpBodyBytesMax)

    // MARK: - Through the pipeline on a test channel

    func testRandomAndMutatedRequestsThroughThePipeline() async throws {
        let seed = Self.seed()
        print("HTTPFuzzTests embedded seed: \(seed) (QUORUMKV_FUZZ_SEED=\(seed) to repeat)")
        var rng = HTTPFuzzRandom(seed: seed)
        let service = HTTPFakeKVService()
        let metrics = NodeMetrics()
        try await storeSentinel(in: service, metrics: metrics)

        let started = ContinuousClock.now
        let count = Self.caseCount(default: Self.embeddedCasesMax)
        var ran = 0
        var statuses: [Int: Int] = [:]
        for index in 0..<count {
            if ContinuousClock.now - started > Self.embeddedTimeBudget { break }
            let fuzzCase = generator.next(using: &rng)
            let outcome = try await exchange(fuzzCase.writes, service: service, metrics: metrics)
            let context = "seed \(seed), case \(index): \(fuzzCase.recipe.joined(separator: " | "))\ninput: \(Self.show(fuzzCase.bytes))"
            guard outcome.closed else {
                return XCTFail("the server did not close after the client half-closed; \(context)")
            }
            let responses: [HTTPResponseStreamChecker.Response]
            do {
                responses = try HTTPResponseStreamChecker.parse(outcome.output)
            } catch {
                return XCTFail("\(error); \(context)\noutput: \(Self.show(outcome.output))")
            }
            if let failed = responses.first(where: { $0.status >= 500 }) {
                return XCTFail("answered \(failed.status): \(String(decoding: failed.body, as: UTF8.self)); \(context)")
            }
            for response in responses { statuses[response.status, default: 0] += 1 }
            if index % 100 == 99 { try await checkStillServing(service: service, metrics: metrics, context: context) }
            ran += 1
        }
        try await checkStillServing(service: service, metrics: metrics, context: "seed \(seed), after \(ran) cases")
        print("HTTPFuzzTests embedded: \(ran) cases in \(ContinuousClock.now - started); statuses \(statuses.sorted { $0.key < $1.key })")
        XCTAssertGreaterThanOrEqual(ran, min(count, 200), "too few cases ran within the time budget")
        XCTAssertGreaterThan(statuses[400, default: 0], 0, "mutations reach the error paths")
        XCTAssertGreaterThan(statuses.filter { (200..<300).contains($0.key) }.count, 0, "valid requests get through")
    }

    /// Sends the writes on a fresh connection, half-closes, and waits (bounded) until the
    /// server closes; returns what it wrote.
    private func exchange(
        _ writes: [[UInt8]], service: HTTPFakeKVService, metrics: NodeMetrics
    ) async throws -> (output: [UInt8], closed: Bool) {
        let limits = Self.limits
        let channel = try await NIOAsyncTestingChannel { channel in
            try HTTPServer.configurePipeline(
                channel.pipeline.syncOperations, service: service, limits: limits, logger: httpTestLogger,
                idleTimeout: .seconds(60), metrics: metrics)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        for write in writes {
            guard channel.isActive else { break }
            try await channel.writeInbound(ByteBuffer(bytes: write))
        }
        if channel.isActive { channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        let timer = Self.close(channel, after: Self.closeWaitMax)
        try? await channel.closeFuture.get()
        timer.cancel()
        let timedOut = await timer.value
        var output: [UInt8] = []
        while let data = try await channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else {
                XCTFail("the server wrote a file region")
                continue
            }
            output += Array(buffer.readableBytesView)
        }
        return (output, !timedOut)
    }

    /// Closes the channel after `delay` unless cancelled first; true when it closed it.
    private static func close(_ channel: NIOAsyncTestingChannel, after delay: Duration) -> Task<Bool, Never> {
        Task {
            guard (try? await Task.sleep(for: delay)) != nil else { return false }
            try? await channel.close().get()
            return true
        }
    }

    /// A valid PUT and GET on a new connection work, and the sentinel is intact.
    private func checkStillServing(service: HTTPFakeKVService, metrics: NodeMetrics, context: String) async throws {
        // A bucket the generator never uses, so its props are the defaults (lww: no sibling limit).
        let request = "PUT /kv/check/key HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
            + "GET /kv/sentinel/key HTTP/1.1\r\nHost: x\r\n\r\n"
        let outcome = try await exchange([Array(request.utf8)], service: service, metrics: metrics)
        let responses = try HTTPResponseStreamChecker.parse(outcome.output)
        XCTAssertEqual(responses.map(\.status), [204, 200], "a valid request after the fuzzing; \(context)")
        XCTAssertEqual(responses.last?.body, Array("intact".utf8), "stored data survived; \(context)")
    }

    private func storeSentinel(in service: HTTPFakeKVService, metrics: NodeMetrics) async throws {
        let request = "PUT /kv/sentinel/key HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nintact"
        let outcome = try await exchange([Array(request.utf8)], service: service, metrics: metrics)
        XCTAssertEqual(try HTTPResponseStreamChecker.parse(outcome.output).map(\.status), [204])
    }

    // MARK: - Over loopback sockets

    func testMutatedRequestsOverLoopback() async throws {
        let seed = Self.seed()
        print("HTTPFuzzTests loopback seed: \(seed) (QUORUMKV_FUZZ_SEED=\(seed) to repeat)")
        var rng = HTTPFuzzRandom(seed: seed)
        let server = try await HTTPTestServer.start(limits: Self.limits)
        defer { server.service.releaseReads() }
        try await server.client.put(bucket: "sentinel", key: "key", value: Array("intact".utf8))
        var statuses: [Int: Int] = [:]
        for index in 0..<Self.caseCount(default: Self.loopbackCases) {
            let fuzzCase = generator.next(using: &rng)
            let context = "seed \(seed), case \(index): \(fuzzCase.recipe.joined(separator: " | "))\ninput: \(Self.show(fuzzCase.bytes))"
            let connection = try await RawHTTPConnection(port: server.port, deadline: .seconds(5))
            for write in fuzzCase.writes { try? await connection.send(write) }
            try? await connection.finishSending()
            let output = try await connection.readUntilClosed()
            let closedByPeer = connection.closedByPeer
            await connection.close()
            guard closedByPeer else {
                await server.stop()
                return XCTFail("the server did not close after the client half-closed; \(context)")
            }
            do {
                let responses = try HTTPResponseStreamChecker.parse(output)
                if let failed = responses.first(where: { $0.status >= 500 }) {
                    XCTFail("answered \(failed.status); \(context)")
                    break
                }
                for response in responses { statuses[response.status, default: 0] += 1 }
            } catch {
                XCTFail("\(error); \(context)\noutput: \(Self.show(output))")
                break
            }
        }
        print("HTTPFuzzTests loopback: statuses \(statuses.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(statuses[400, default: 0], 0, "mutations reach the error paths")
        let sentinel = try await server.client.get(bucket: "sentinel", key: "key")
        XCTAssertEqual(sentinel.value, Array("intact".utf8))
        let health = try await server.client.health()
        XCTAssertEqual(health.status, "ok")
        await server.stop()
    }

    // MARK: - Generator

    func testGeneratorIsDeterministicPerSeed() {
        var first = HTTPFuzzRandom(seed: 42)
        var second = HTTPFuzzRandom(seed: 42)
        for _ in 0..<50 {
            XCTAssertEqual(generator.next(using: &first).bytes, generator.next(using: &second).bytes)
        }
    }

    /// Bytes as text for a failure message: printable ASCII kept, the rest escaped, long
    /// inputs shortened in the middle.
    static func show(_ bytes: [UInt8]) -> String {
        func render(_ slice: ArraySlice<UInt8>) -> String {
            slice.map { byte in
                switch byte {
                case 0x20...0x7E where byte != UInt8(ascii: "\\"): return String(UnicodeScalar(byte))
                case UInt8(ascii: "\r"): return "\\r"
                case UInt8(ascii: "\n"): return "\\n"
                default: return "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
                }
            }.joined()
        }
        guard bytes.count > 1200 else { return render(bytes[...]) }
        return render(bytes.prefix(600)) + " …(\(bytes.count - 1200) bytes)… " + render(bytes.suffix(600))
    }
}
