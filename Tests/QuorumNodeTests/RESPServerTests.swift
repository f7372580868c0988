import NIOCore
import NIOPosix
import QuorumCore
import XCTest

@testable import QuorumNode

/// The real `RESPServer` on a loopback port: bootstrap, idle timeout and shutdown.
final class RESPServerTests: XCTestCase {
    private func start(idleTimeout: TimeAmount = .seconds(300)) async throws -> (RESPServer, Int) {
        var limits = RESPLimits()
        limits.idleTimeout = idleTimeout
        let server = RESPServer(
            host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton, service: RESPFakeKVService(),
            limits: .defaults, logger: respTestLogger, protocolLimits: limits)
        let port = try await server.start()
        return (server, port)
    }

    func testCommandsOverTCPThenQuit() async throws {
        let (server, port) = try await start()
        let connection = try await RawHTTPConnection(port: port)
        try await connection.send("PING\r\n" + "SET k \"a b\"\r\n")
        try await connection.send(respFrame("GET", "k") + respFrame("QUIT") + respFrame("PING"))
        let received = try await connection.readUntilClosed()
        XCTAssertEqual(String(decoding: received, as: UTF8.self), "+PONG\r\n+OK\r\n$3\r\na b\r\n+OK\r\n")
        XCTAssertTrue(connection.closedByPeer)
        await connection.close()
        await server.close()
    }

    func testHalfClosedClientGetsEveryReply() async throws {
        let (server, port) = try await start()
        let connection = try await RawHTTPConnection(port: port)
        try await connection.send(respFrame("SET", "a", "1") + respFrame("GET", "a"))
        try await connection.finishSending()
        let received = try await connection.readUntilClosed()
        XCTAssertEqual(String(decoding: received, as: UTF8.self), "+OK\r\n$1\r\n1\r\n")
        await connection.close()
        await server.close()
    }

    func testIdleConnectionsAreClosed() async throws {
        let (server, port) = try await start(idleTimeout: .milliseconds(200))
        let connection = try await RawHTTPConnection(port: port, deadline: .seconds(10))
        let received = try await connection.readUntilClosed()
        XCTAssertEqual(received, [])
        XCTAssertTrue(connection.closedByPeer, "the server closed the idle connection, not the test's deadline")
        await connection.close()
        await server.close()
    }

    func testCloseEndsOpenConnectionsAndStopsAccepting() async throws {
        let (server, port) = try await start()
        let connection = try await RawHTTPConnection(port: port)
        try await connection.send("PING\r\n")
        await server.close()
        let received = try await connection.readUntilClosed()
        XCTAssertTrue(received.isEmpty || received == Array("+PONG\r\n".utf8))
        await connection.close()
        do {
            let late = try await RawHTTPConnection(port: port, deadline: .seconds(2))
            let bytes = try await late.readUntilClosed()
            XCTAssertEqual(bytes, [])
            await late.close()
        } catch {
            // Refused: nothing listens any more.
        }
    }
}
