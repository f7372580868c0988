import Foundation
import NIOCore

/// Waits until a RESP server answers PING, polling every 100 ms up to a deadline.
enum ServerReadiness {
    static func waitForPing(
        _ endpoint: BenchTarget.Endpoint, eventLoop: EventLoop, seconds: Double, process: ChildProcess?
    ) async throws {
        let deadline = NIODeadline.now() + .milliseconds(Int64(seconds * 1_000))
        while NIODeadline.now() < deadline {
            if let process, !process.isRunning {
                throw BenchError.startup("\(process.name) exited while starting; its log ends:\n\(process.logTail())")
            }
            if (try? await ping(endpoint, eventLoop: eventLoop)) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = process.map { "; its log ends:\n\($0.logTail())" } ?? ""
        throw BenchError.startup("\(endpoint) did not answer PING within \(Int(seconds)) s\(tail)")
    }

    /// Waits until a strong write through `endpoint` succeeds in `bucket`, polling every
    /// 100 ms up to a deadline: a node just started answers PING before its acceptors vote
    /// (a fresh store catches up first), and strong requests fail `UNAVAILABLE` until then.
    static func waitForStrongWrites(
        _ endpoint: BenchTarget.Endpoint, bucket: String, eventLoop: EventLoop, seconds: Double
    ) async throws {
        let deadline = NIODeadline.now() + .milliseconds(Int64(seconds * 1_000))
        var last = "no answer"
        while NIODeadline.now() < deadline {
            let reply = try? await answer(
                endpoint, [["SELECT", bucket], ["SET", "qkvbench-ready", "x"]], eventLoop: eventLoop)
            if reply == .simple("OK") { return }
            if let reply { last = LoadGenerator.detail(of: reply) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError.startup("\(endpoint) did not take a strong write in bucket \(bucket) within \(Int(seconds)) s; last answer: \(last)")
    }

    private static func ping(_ endpoint: BenchTarget.Endpoint, eventLoop: EventLoop) async throws -> Bool {
        try await answer(endpoint, [["PING"]], eventLoop: eventLoop) == .simple("PONG")
    }

    /// Sends `commands` on a new connection and answers the last one's reply (nil: no
    /// answer within a second, or the connection closed).
    private static func answer(_ endpoint: BenchTarget.Endpoint, _ commands: [[String]], eventLoop: EventLoop) async throws -> RESPReply? {
        let answered = eventLoop.makePromise(of: RESPReply?.self)
        let remaining = ReplyCountdown(commands.count)
        let client: RESPBenchClient
        do {
            client = try await RESPBenchClient.connect(
                to: endpoint, on: eventLoop, connectTimeout: .seconds(1),
                onReply: { reply in
                    if remaining.countDown() == 0 { answered.succeed(reply) }
                },
                onClose: { answered.succeed(nil) }
            ).get()
        } catch {
            answered.succeed(nil)
            throw error
        }
        for command in commands { client.send(RESPCommandWriter.command(command)) }
        eventLoop.scheduleTask(in: .seconds(1)) { answered.succeed(nil) }
        let result = try await answered.futureResult.get()
        client.close()
        return result
    }
}

/// How many replies a readiness probe still waits for.
private final class ReplyCountdown: @unchecked Sendable {
    private let lock = NSLock()
    private var left: Int

    init(_ count: Int) { left = count }

    /// One more reply: how many are still to come.
    func countDown() -> Int {
        lock.withLock {
            left -= 1
            return left
        }
    }
}
