import XCTest

@testable import QuorumNode

/// The per-connection FIFO on its own: replies in request order, commands on a common key
/// (one writing) one after the other, everything else at once.
final class RESPPipelineTests: XCTestCase {
    private func keys(_ names: String...) -> Set<[UInt8]> { Set(names.map { Array($0.utf8) }) }

    func testRepliesLeaveInRequestOrderWhateverFinishesFirst() {
        var pipeline = RESPPipeline<String>()
        let slow = pipeline.enqueue("GET slow", keys: keys("slow"), writes: false)
        let fast = pipeline.enqueue("GET fast", keys: keys("fast"), writes: false)
        pipeline.enqueueAnswered(.simpleString("PONG"))
        XCTAssertTrue(slow.start)
        XCTAssertTrue(fast.start)
        XCTAssertEqual(pipeline.complete(fast.id, reply: .bulk("f")).count, 0)
        XCTAssertEqual(pipeline.takeReady().replies, [], "the first command is still running")
        XCTAssertGreaterThan(pipeline.bufferedReplyBytes, 0)
        _ = pipeline.complete(slow.id, reply: .bulk("s"))
        XCTAssertEqual(pipeline.takeReady().replies, [.bulk("s"), .bulk("f"), .simpleString("PONG")])
        XCTAssertTrue(pipeline.isEmpty)
        XCTAssertEqual(pipeline.bufferedReplyBytes, 0)
    }

    func testAWriteWaitsForEarlierCommandsOnItsKeyAndReadsWaitForIt() {
        var pipeline = RESPPipeline<String>()
        let read1 = pipeline.enqueue("GET k", keys: keys("k"), writes: false)
        let read2 = pipeline.enqueue("GET k", keys: keys("k"), writes: false)
        let write = pipeline.enqueue("SET k", keys: keys("k"), writes: true)
        let read3 = pipeline.enqueue("GET k", keys: keys("k"), writes: false)
        let other = pipeline.enqueue("SET other", keys: keys("other"), writes: true)
        XCTAssertEqual([read1.start, read2.start, write.start, read3.start, other.start], [true, true, false, false, true])
        XCTAssertEqual(pipeline.runningCount, 3)
        XCTAssertTrue(pipeline.complete(read1.id, reply: .null).isEmpty, "read2 still runs")
        let afterReads = pipeline.complete(read2.id, reply: .null)
        XCTAssertEqual(afterReads.map(\.work), ["SET k"])
        let afterWrite = pipeline.complete(write.id, reply: .ok)
        XCTAssertEqual(afterWrite.map(\.work), ["GET k"])
    }

    /// `FLUSHDB` writes every key: it waits for everything before it, and everything after
    /// it waits for it, so `SET a; FLUSHDB; SET b` leaves only b.
    func testAWriteOfEveryKeyRunsAlone() {
        var pipeline = RESPPipeline<String>()
        let before = pipeline.enqueue("SET a", keys: keys("a"), writes: true)
        let flush = pipeline.enqueue("FLUSHDB", keys: [], writes: true, everyKey: true)
        let after = pipeline.enqueue("GET b", keys: keys("b"), writes: false)
        XCTAssertTrue(before.start)
        XCTAssertFalse(flush.start)
        XCTAssertFalse(after.start, "a later command waits for the flush, whatever its keys")
        XCTAssertEqual(pipeline.complete(before.id, reply: .ok).map(\.work), ["FLUSHDB"])
        XCTAssertEqual(pipeline.complete(flush.id, reply: .ok).map(\.work), ["GET b"])
    }

    func testMultiKeyCommandsConflictOnAnyCommonKey() {
        var pipeline = RESPPipeline<String>()
        let mset = pipeline.enqueue("MSET a b", keys: keys("a", "b"), writes: true)
        let getB = pipeline.enqueue("GET b", keys: keys("b"), writes: false)
        let getC = pipeline.enqueue("GET c", keys: keys("c"), writes: false)
        let ping = pipeline.enqueue("PING", keys: [], writes: false)
        XCTAssertEqual([mset.start, getB.start, getC.start, ping.start], [true, false, true, true])
        XCTAssertEqual(pipeline.complete(mset.id, reply: .ok).map(\.work), ["GET b"])
    }

    func testCloseAfterDropsWhatFollows() {
        var pipeline = RESPPipeline<String>()
        pipeline.enqueueAnswered(.ok)
        pipeline.enqueueAnswered(.ok, closeAfter: true)
        pipeline.enqueueAnswered(.simpleString("never"))
        let ready = pipeline.takeReady()
        XCTAssertEqual(ready.replies, [.ok, .ok])
        XCTAssertTrue(ready.closeAfter)
        XCTAssertTrue(pipeline.isEmpty)
    }

    func testLongRunsStayCompact() {
        var pipeline = RESPPipeline<Int>()
        var running: [UInt64] = []
        for round in 0..<10_000 {
            running.append(pipeline.enqueue(round, keys: keys("k\(round % 7)"), writes: false).id)
            if running.count == 8 {
                for id in running { _ = pipeline.complete(id, reply: .null) }
                XCTAssertEqual(pipeline.takeReady().replies.count, 8)
                running = []
            }
        }
        XCTAssertTrue(pipeline.isEmpty)
    }
}
