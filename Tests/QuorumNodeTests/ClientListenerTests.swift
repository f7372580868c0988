import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import QuorumNode

final class ClientListenerTests: XCTestCase {
    func testConnectionsPastTheBoundAreClosedAtOnceAndCounted() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = ClientListener(
            host: "127.0.0.1", port: 0, group: group, name: "test", logger: Logger(label: "test"), connectionsMax: 2)
        let port = try await listener.start { _ in }
        var clients: [any Channel] = []
        for _ in 0..<3 {
            clients.append(try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get())
        }
        // The third is accepted by the kernel, then closed by the listener.
        let closedInTime = expectation(description: "the third connection is closed")
        clients[2].closeFuture.whenComplete { _ in closedInTime.fulfill() }
        await fulfillment(of: [closedInTime], timeout: 10)
        XCTAssertEqual(listener.refusedConnections, 1)
        XCTAssertTrue(clients[0].isActive)
        for client in clients { try? await client.close().get() }
        await listener.close()
        try await group.shutdownGracefully()
    }
}
