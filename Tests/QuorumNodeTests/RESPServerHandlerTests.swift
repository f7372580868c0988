import NIOCore
import NIOEmbedded
import NIOPosix
import QuorumCore
import Synchronization
import XCTest

@testable import QuorumNode

/// `RESPServerHandler` in a test channel with a fake service: ordering, backpressure,
/// protocol errors, QUIT, half-close and idle connections.
final class RESPServerHandlerTests: XCTestCase {
    /// Counts the `read()` calls the RESP handler lets through, to see backpressure.
    private final class ReadCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = ByteBuffer
        let reads = Atomic<Int>(0)

        func read(context: ChannelHandlerContext) {
            reads.add(1, ordering: .relaxed)
            context.read()
        }
    }

    private struct Fixture {
        let channel: NIOAsyncTestingChannel
        let service: RESPFakeKVService
        let counter: ReadCounter
        let stats: RESPServerStats

        func send(_ bytes: [UInt8]) async throws {
            try await channel.writeInbound(ByteBuffer(bytes: bytes))
        }

        func send(_ text: String) async throws {
            try await send(Array(text.utf8))
        }

        /// Waits (at most `seconds`) until `count` replies were written.
        func replies(_ count: Int, seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line) async throws -> [RESPValue] {
            var reader = RESPReplyReader()
            var replies: [RESPValue] = []
            let deadline = Date().addingTimeInterval(seconds)
            while replies.count < count {
                if let buffer = try await channel.readOutbound(as: ByteBuffer.self) {
                    reader.append(buffer)
                    replies += reader.all()
                    continue
                }
                guard Date() < deadline else {
                    XCTFail("got \(replies.count) of \(count) replies: \(replies)", file: file, line: line)
                    return replies
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            return replies
        }

        /// Nothing was written (after letting queued work run).
        func noReply() async throws -> Bool {
            try await Task.sleep(for: .milliseconds(50))
            return try await channel.readOutbound(as: ByteBuffer.self) == nil
        }

        func waitUntil(_ what: String, seconds: Double = 10, _ condition: @Sendable () async -> Bool) async throws {
            let deadline = Date().addingTimeInterval(seconds)
            while !(await condition()) {
                guard Date() < deadline else { throw HarnessTimeout(what: what) }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        func waitUntilClosed() async throws {
            let channel = self.channel
            try await waitUntil("the channel closes") { !channel.isActive }
        }
    }

    private struct HarnessTimeout: Error {
        var what: String
    }

    private func makeFixture(limits: RESPLimits = .defaults, service: RESPFakeKVService = RESPFakeKVService()) async throws -> Fixture {
        let channel = NIOAsyncTestingChannel()
        let counter = ReadCounter()
        let stats = RESPServerStats()
        let commands = RESPCommandHandler(service: service, limits: .defaults, protocolLimits: limits, stats: stats)
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.pipeline.syncOperations.addHandler(
                RESPServerHandler(commands: commands, limits: limits, logger: respTestLogger))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379))
        return Fixture(channel: channel, service: service, counter: counter, stats: stats)
    }

    func testPingAndInline() async throws {
        let fixture = try await makeFixture()
        try await fixture.send(respFrame("PING"))
        try await fixture.send("ECHO \"hi there\"\r\n")
        let replies = try await fixture.replies(2)
        XCTAssertEqual(replies, [.simpleString("PONG"), .bulk("hi there")])
        XCTAssertEqual(fixture.stats.connectedClients, 1)
        _ = try? await fixture.channel.finish()
        XCTAssertEqual(fixture.stats.connectedClients, 0)
    }

    func testPipelinedRepliesKeepRequestOrderWhenALaterCommandFinishesFirst() async throws {
        let fixture = try await makeFixture()
        fixture.service.hold("slow")
        try await fixture.send(
            respFrame("GET", "slow") + respFrame("SET", "fast", "1") + respFrame("GET", "fast") + respFrame("PING")
                + respFrame("GET", "nope"))
        let service = fixture.service
        try await fixture.waitUntil("the fast commands ran") {
            service.calls.filter { $0.key == "fast" }.count == 2 && service.calls.contains { $0.key == "nope" }
        }
        let nothingYet = try await fixture.noReply()
        XCTAssertTrue(nothingYet, "no reply may overtake the first one")
        service.release("slow")
        let replies = try await fixture.replies(5)
        XCTAssertEqual(replies, [.null, .ok, .bulk("1"), .simpleString("PONG"), .null])
    }

    func testCommandsAnsweredAsTheyStartKeepTheirOrder() async throws {
        let fixture = try await makeFixture(service: RESPFakeKVService(answersInline: true))
        var burst: [UInt8] = []
        var expected: [RESPValue] = []
        for index in 0..<1500 {
            burst += respFrame("SET", "k", "\(index)") + respFrame("GET", "k") + respFrame("GET", "k\(index % 7)")
            expected += [.ok, .bulk("\(index)"), .null]
        }
        try await fixture.send(burst)
        let replies = try await fixture.replies(expected.count)
        XCTAssertEqual(replies, expected)
    }

    func testAChainOfWaitingCommandsAnsweredAsTheyStartRunsWithoutRecursion() async throws {
        // MSET runs in a task; the GETs of its key queue behind that write, and once it is
        // answered each of them is answered as it starts. They must all come back in order
        // (the handler takes such replies in a loop, not by recursing once per command).
        var limits = RESPLimits()
        limits.pipelineDepthMax = 5000
        let fixture = try await makeFixture(limits: limits, service: RESPFakeKVService(answersInline: true))
        fixture.service.hold("k")
        var burst = respFrame("MSET", "k", "v", "other", "w")
        for _ in 0..<4000 { burst += respFrame("GET", "k") }
        try await fixture.send(burst)
        let service = fixture.service
        try await fixture.waitUntil("the MSET waits") { service.isWaiting(on: "k") }
        XCTAssertFalse(service.calls.contains { $0.operation == "get" }, "the GETs wait for the write of their key")
        service.release("k")
        let replies = try await fixture.replies(4001)
        XCTAssertEqual(replies, [.ok] + Array(repeating: .bulk("v"), count: 4000))
    }

    func testACommandWaitsForAnEarlierWriteOfTheSameKey() async throws {
        let fixture = try await makeFixture()
        fixture.service.hold("k")
        try await fixture.send(respFrame("SET", "k", "new") + respFrame("GET", "k") + respFrame("GET", "other"))
        let service = fixture.service
        // Each command starts in a task of its own, in no set order: wait for both to have run.
        try await fixture.waitUntil("the independent read ran and SET k is held") {
            service.calls.contains { $0.key == "other" } && service.isWaiting(on: "k")
        }
        XCTAssertEqual(service.calls.filter { $0.key == "k" }.map(\.operation), ["put"], "GET k must wait for SET k")
        service.release("k")
        let replies = try await fixture.replies(3)
        XCTAssertEqual(replies, [.ok, .bulk("new"), .null])
    }

    func testSelectAndConsistencyApplyToTheCommandsAfterThemInAPipeline() async throws {
        let fixture = try await makeFixture()
        try await fixture.send(
            respFrame("SET", "k", "a") + respFrame("SELECT", "2") + respFrame("CONSISTENCY", "W", "3") + respFrame("SET", "k", "b"))
        let replies = try await fixture.replies(4)
        XCTAssertEqual(replies, [.ok, .ok, .ok, .ok])
        // The two SETs touch different buckets, so they run at once and reach the service in
        // either order: match each write by its value, not by arrival.
        let puts = fixture.service.calls.filter { $0.operation == "put" }
        XCTAssertEqual(puts.count, 2)
        XCTAssertEqual(fixture.service.value(bucket: "default", key: "k"), ["a"])
        XCTAssertEqual(fixture.service.value(bucket: "db2", key: "k"), ["b"])
        XCTAssertEqual(puts.first { $0.bucket == "default" }?.options.w, nil)
        XCTAssertEqual(puts.first { $0.bucket == "db2" }?.options.w, .count(3))
    }

    func testAProtocolErrorAnswersAfterEarlierRepliesThenCloses() async throws {
        let fixture = try await makeFixture()
        try await fixture.send(respFrame("PING") + Array("*1\r\n$x\r\n".utf8) + respFrame("SET", "after", "1"))
        let replies = try await fixture.replies(2)
        XCTAssertEqual(replies, [.simpleString("PONG"), .error("ERR Protocol error: invalid bulk length")])
        try await fixture.waitUntilClosed()
        XCTAssertFalse(fixture.service.calls.contains { $0.key == "after" })
    }

    func testCommandErrorsKeepTheConnection() async throws {
        let fixture = try await makeFixture()
        try await fixture.send(respFrame("NOPE") + respFrame("GET") + respFrame("PING"))
        let replies = try await fixture.replies(3)
        XCTAssertEqual(
            replies,
            [
                .error("ERR unknown command 'NOPE', with args beginning with: "),
                .error("ERR wrong number of arguments for 'get' command"), .simpleString("PONG"),
            ])
        XCTAssertTrue(fixture.channel.isActive)
    }

    func testQuitAnswersOKThenClosesAndRunsNothingAfter() async throws {
        let fixture = try await makeFixture()
        try await fixture.send(respFrame("SET", "a", "1") + respFrame("QUIT") + respFrame("SET", "b", "2"))
        let replies = try await fixture.replies(2)
        XCTAssertEqual(replies, [.ok, .ok])
        try await fixture.waitUntilClosed()
        XCTAssertEqual(fixture.service.calls.map(\.key), ["a"])
    }

    func testTooManyOutstandingCommandsStopReadingUntilTheyDrain() async throws {
        var limits = RESPLimits()
        limits.pipelineDepthMax = 2
        let fixture = try await makeFixture(limits: limits)
        fixture.service.hold("k")
        try await fixture.send((0..<6).flatMap { _ in respFrame("GET", "k") })
        let service = fixture.service
        try await fixture.waitUntil("two reads are parked") { service.calls.count == 2 }
        let readsBefore = fixture.counter.reads.load(ordering: .relaxed)
        fixture.channel.read()
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertEqual(fixture.counter.reads.load(ordering: .relaxed), readsBefore, "read() is held back while backed up")
        XCTAssertEqual(service.calls.count, 2, "no command past the bound is parsed")
        service.release("k")
        let replies = try await fixture.replies(6)
        XCTAssertEqual(replies, Array(repeating: .null, count: 6))
        let counter = fixture.counter
        try await fixture.waitUntil("the held read() is issued") { counter.reads.load(ordering: .relaxed) > readsBefore }
    }

    func testABurstLongerThanThePipelineBoundIsAnsweredWithoutMoreInput() async throws {
        var limits = RESPLimits()
        limits.pipelineDepthMax = 2
        let fixture = try await makeFixture(limits: limits)
        try await fixture.send((0..<10).flatMap { respFrame("ECHO", "\($0)") } + respFrame("SET", "k", "v") + respFrame("GET", "k"))
        let replies = try await fixture.replies(12)
        XCTAssertEqual(replies, (0..<10).map { .bulk("\($0)") } + [.ok, .bulk("v")])
    }

    func testLargeCommandsInFlightStopReadingUntilTheyAreAnswered() async throws {
        var limits = RESPLimits()
        limits.pendingCommandBytesMax = 16
        let fixture = try await makeFixture(limits: limits)
        fixture.service.hold("k")
        let big = String(repeating: "v", count: 32)
        try await fixture.send(respFrame("SET", "k", big) + respFrame("GET", "other"))
        let service = fixture.service
        try await fixture.waitUntil("the large write is parked") { service.isWaiting(on: "k") }
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertFalse(service.calls.contains { $0.key == "other" }, "a command past the byte bound waits unparsed")
        service.release("k")
        let replies = try await fixture.replies(2)
        XCTAssertEqual(replies, [.ok, .null])
    }

    func testHalfCloseAnswersEverythingThenCloses() async throws {
        let fixture = try await makeFixture()
        fixture.service.hold("k")
        try await fixture.send(respFrame("SET", "k", "v") + respFrame("GET", "k") + Array("*2\r\n$3\r\nGET".utf8))
        fixture.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let stillOpen = try await fixture.noReply()
        XCTAssertTrue(stillOpen)
        XCTAssertTrue(fixture.channel.isActive, "commands are still running")
        fixture.service.release("k")
        let replies = try await fixture.replies(2)
        XCTAssertEqual(replies, [.ok, .bulk("v")])
        try await fixture.waitUntilClosed()
    }

    func testIdleConnectionsCloseUnlessACommandRuns() async throws {
        let fixture = try await makeFixture()
        fixture.service.hold("k")
        try await fixture.send(respFrame("GET", "k"))
        let service = fixture.service
        try await fixture.waitUntil("the read is parked") { service.isWaiting(on: "k") }
        fixture.channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertTrue(fixture.channel.isActive, "a slow service is not the client's fault")
        service.release("k")
        _ = try await fixture.replies(1)
        fixture.channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        try await fixture.waitUntilClosed()
    }

    func testBinaryValuesRoundTrip() async throws {
        let fixture = try await makeFixture()
        let value: [UInt8] = (0...255).map { UInt8($0) } + [13, 10, 13, 10]
        try await fixture.send(respFrame([Array("SET".utf8), [0, 255, 13, 10], value]) + respFrame([Array("GET".utf8), [0, 255, 13, 10]]))
        let replies = try await fixture.replies(2)
        XCTAssertEqual(replies, [.ok, .bulkString(value)])
    }

    func testInfoCountsConnectedClients() async throws {
        let fixture = try await makeFixture()
        try await fixture.send("INFO clients\r\n")
        let replies = try await fixture.replies(1)
        XCTAssertEqual(replies.first?.text, "# Clients\r\nconnected_clients:1\r\n")
    }
}
