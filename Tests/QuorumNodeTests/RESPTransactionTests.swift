import NIOCore
import NIOEmbedded
import QuorumCore
import XCTest

@testable import QuorumNode

/// MULTI/EXEC/DISCARD through a real connection handler (a test channel), and the pipeline
/// rule that key-space commands wait for earlier writes.
final class RESPTransactionTests: XCTestCase {
    private struct Connection {
        let channel: NIOAsyncTestingChannel
        let service: RESPFakeKVService
        var reader = RESPReplyReader()

        mutating func send(_ frames: [UInt8]...) async throws {
            try await channel.writeInbound(ByteBuffer(bytes: frames.flatMap { $0 }))
        }

        /// The next `count` replies, waiting at most 10 s for them.
        mutating func replies(_ count: Int, file: StaticString = #filePath, line: UInt = #line) async throws -> [RESPValue] {
            var replies: [RESPValue] = []
            let deadline = Date().addingTimeInterval(10)
            while replies.count < count {
                if let next = reader.next() {
                    replies.append(next)
                    continue
                }
                if let buffer = try await channel.readOutbound(as: ByteBuffer.self) {
                    reader.append(buffer)
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
    }

    private func connect(limits: RESPLimits = .defaults, service: RESPFakeKVService = RESPFakeKVService()) async throws -> Connection {
        let channel = NIOAsyncTestingChannel()
        let commands = RESPCommandHandler(service: service, limits: .defaults, protocolLimits: limits, stats: RESPServerStats())
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(RESPServerHandler(commands: commands, limits: limits, logger: respTestLogger))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379))
        return Connection(channel: channel, service: service)
    }

    func testExecRunsTheQueuedCommandsInOrder() async throws {
        var connection = try await connect()
        try await connection.send(
            respFrame("MULTI"), respFrame("SET", "a", "1"), respFrame("GET", "a"), respFrame("SELECT", "2"),
            respFrame("SET", "a", "two"), respFrame("GETSET", "a", "three"), respFrame("PING"), respFrame("EXEC"),
            respFrame("GET", "a"))
        let replies = try await connection.replies(9)
        XCTAssertEqual(Array(replies[0...6]), [.ok] + Array(repeating: .simpleString("QUEUED"), count: 6))
        XCTAssertEqual(replies[7], .array([.ok, .bulk("1"), .ok, .ok, .bulk("two"), .simpleString("PONG")]))
        XCTAssertEqual(replies[8], .bulk("three"), "SELECT inside the transaction applies after it, too")
        XCTAssertEqual(connection.service.value(bucket: "default", key: "a"), ["1"])
        XCTAssertEqual(connection.service.value(bucket: "db2", key: "a"), ["three"])
        let puts = connection.service.calls.filter { $0.operation == "put" }.map(\.bucket)
        XCTAssertEqual(puts, ["default", "db2", "db2"], "in order, each after the previous one")
    }

    func testNothingRunsBeforeExecAndDiscardDropsTheQueue() async throws {
        var connection = try await connect()
        try await connection.send(respFrame("MULTI"), respFrame("SET", "a", "1"), respFrame("DISCARD"), respFrame("GET", "a"))
        let replies = try await connection.replies(4)
        XCTAssertEqual(replies, [.ok, .simpleString("QUEUED"), .ok, .null])
        XCTAssertTrue(connection.service.calls.filter { $0.operation == "put" }.isEmpty)
    }

    func testAnErrorWhileQueueingAbortsTheTransaction() async throws {
        var connection = try await connect()
        try await connection.send(
            respFrame("MULTI"), respFrame("SET", "a", "1"), respFrame("GET"), respFrame("WATCH", "a"), respFrame("EXEC"),
            respFrame("GET", "a"))
        let replies = try await connection.replies(6)
        XCTAssertEqual(replies[0...1], [.ok, .simpleString("QUEUED")])
        XCTAssertEqual(replies[2], .error("ERR wrong number of arguments for 'get' command"))
        XCTAssertTrue(replies[3].text?.hasPrefix("NOTSUPPORTED WATCH is refused by QuorumKV: ") == true, "\(replies[3])")
        XCTAssertEqual(replies[4], .error("EXECABORT Transaction discarded because of previous errors."))
        XCTAssertEqual(replies[5], .null, "nothing of an aborted transaction ran")
    }

    func testMisplacedTransactionCommands() async throws {
        var connection = try await connect()
        try await connection.send(
            respFrame("EXEC"), respFrame("DISCARD"), respFrame("MULTI"), respFrame("MULTI"), respFrame("EXEC"), respFrame("MULTI"),
            respFrame("EXEC"))
        let replies = try await connection.replies(7)
        XCTAssertEqual(
            replies,
            [
                .error("ERR EXEC without MULTI"), .error("ERR DISCARD without MULTI"), .ok, .error("ERR MULTI calls can not be nested"),
                .array([]), .ok, .array([]),
            ])
    }

    func testARuntimeErrorIsAnElementAndLaterCommandsStillRun() async throws {
        let service = RESPFakeKVService()
        service.fail(key: "bad", with: .quorumNotMet(operation: .write, needed: 3, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        var connection = try await connect(service: service)
        try await connection.send(
            respFrame("MULTI"), respFrame("SET", "a", "1"), respFrame("SET", "bad", "x"), respFrame("SET", "c", "3"), respFrame("EXEC"))
        let replies = try await connection.replies(5)
        guard case .array(let results?) = replies[4], results.count == 3 else { return XCTFail("EXEC: \(replies[4])") }
        XCTAssertEqual(results[0], .ok)
        XCTAssertTrue(results[1].text?.hasPrefix("QUORUM write needed 3") == true, "\(results[1])")
        XCTAssertEqual(results[2], .ok, "a batch, not an atomic transaction: later commands run")
        XCTAssertEqual(service.value(bucket: "default", key: "c"), ["3"])
    }

    func testTheQueueIsBounded() async throws {
        var limits = RESPLimits()
        limits.transactionCommandsMax = 2
        var connection = try await connect(limits: limits)
        try await connection.send(
            respFrame("MULTI"), respFrame("SET", "a", "1"), respFrame("SET", "b", "2"), respFrame("SET", "c", "3"), respFrame("EXEC"))
        let replies = try await connection.replies(5)
        XCTAssertTrue(replies[3].text?.hasPrefix("ERR a MULTI may queue at most 2 commands") == true, "\(replies[3])")
        XCTAssertEqual(replies[4], .error("EXECABORT Transaction discarded because of previous errors."))
        XCTAssertTrue(connection.service.calls.filter { $0.operation == "put" }.isEmpty)
    }

    func testKeysWaitsForAnEarlierWriteInThePipeline() async throws {
        var connection = try await connect()
        connection.service.hold("late")
        try await connection.send(respFrame("SET", "late", "1"), respFrame("KEYS", "*"), respFrame("DBSIZE"))
        let service = connection.service
        let deadline = Date().addingTimeInterval(10)
        while !service.isWaiting(on: "late") {
            guard Date() < deadline else { return XCTFail("SET never started") }
            try await Task.sleep(for: .milliseconds(5))
        }
        XCTAssertFalse(service.calls.contains { $0.operation == "list" }, "KEYS must not list before the SET it follows finished")
        service.release("late")
        let replies = try await connection.replies(3)
        XCTAssertEqual(replies, [.ok, .array([.bulk("late")]), .integer(1)])
    }

    func testPipelineEveryKeyRule() {
        var pipeline = RESPPipeline<Int>()
        let write = pipeline.enqueue(1, keys: [[1]], writes: true)
        let read = pipeline.enqueue(2, keys: [[2]], writes: false)
        let scan = pipeline.enqueue(3, keys: [], writes: false, everyKey: true)
        let otherRead = pipeline.enqueue(4, keys: [[3]], writes: false)
        let laterWrite = pipeline.enqueue(5, keys: [[4]], writes: true)
        XCTAssertTrue(write.start)
        XCTAssertTrue(read.start)
        XCTAssertFalse(scan.start, "waits for the earlier write")
        XCTAssertTrue(otherRead.start, "reads don't conflict with a key-space read")
        XCTAssertFalse(laterWrite.start, "a later write waits for the key-space read")
        let started = pipeline.complete(write.id, reply: .ok)
        XCTAssertEqual(started.map(\.work), [3])
        XCTAssertEqual(pipeline.complete(scan.id, reply: .ok).map(\.work), [5])
    }
}
