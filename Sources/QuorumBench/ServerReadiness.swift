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

    private static func ping(_ endpoint: BenchTarget.Endpoint, eventLoop: EventLoop) async throws -> Bool {
        let answered = eventLoop.makePromise(of: Bool.self)
        let client: RESPBenchClient
        do {
            client = try await RESPBenchClient.connect(
                to: endpoint, on: eventLoop, connectTimeout: .seconds(1),
                onReply: { reply in answered.succeed(reply == .simple("PONG")) },
                onClose: { answered.succeed(false) }
            ).get()
        } catch {
            answered.succeed(false)
            throw error
        }
        client.send(RESPCommandWriter.command(["PING"]))
        eventLoop.scheduleTask(in: .seconds(1)) { answered.succeed(false) }
        let result = try await answered.futureResult.get()
        client.close()
        return result
    }
}
