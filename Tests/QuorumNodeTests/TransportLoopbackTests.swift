import Dispatch
import Logging
import NIOCore
import NIOPosix
import QuorumCore
import QuorumNode
import XCTest

/// PeerServer and PeerClient over real loopback sockets.
final class TransportLoopbackTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    }

    override func tearDown() async throws {
        try await group.shutdownGracefully()
        group = nil
    }

    func testEchoRoundTrip() async throws {
        let (server, port) = try await startPeerServer(group: group) { payload, from, respond in
            respond(Array(from.utf8) + [0] + payload)
        }
        let client = makePeerClient(group: group, port: port)
        let answer = try await client.request(Array("ping".utf8), timeout: .seconds(5)).get()
        XCTAssertEqual(answer, Array("node-a".utf8) + [0] + Array("ping".utf8))
        XCTAssertTrue(client.isReachable)
        // An empty payload and a large one take the same path.
        let large = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0) }
        let empty = try await client.request([], timeout: .seconds(5)).get()
        XCTAssertEqual(empty, Array("node-a".utf8) + [0])
        let echoedLarge = try await client.request(large, timeout: .seconds(5)).get()
        XCTAssertEqual(Array(echoedLarge.dropFirst(7)), large)
        await client.close()
        await server.close()
    }

    func testThousandConcurrentRequestsAnsweredOutOfOrderOnOneConnection() async throws {
        let hellos = TransportCounter()
        let queues = (0..<8).map { DispatchQueue(label: "responder-\($0)") }
        let (server, port) = try await startPeerServer(
            group: group,
            helloValidator: { _ in hellos.increment(); return nil },
            handler: { payload, _, respond in
                let index = Int(payload[0]) << 8 | Int(payload[1])
                // Different queues and delays so answers leave in another order than requests came.
                queues[index % queues.count].asyncAfter(deadline: .now() + .microseconds((index * 37) % 3000)) {
                    respond(payload.reversed())
                }
            }
        )
        let client = makePeerClient(group: group, port: port)
        let futures = (0..<1000).map { index in
            client.request([UInt8(index >> 8), UInt8(index & 0xFF), 0xAB], timeout: .seconds(10))
        }
        for (index, future) in futures.enumerated() {
            let answer = try await future.get()
            XCTAssertEqual(answer, [0xAB, UInt8(index & 0xFF), UInt8(index >> 8)], "request \(index)")
        }
        XCTAssertEqual(hellos.count, 1, "all requests should share one connection")
        await client.close()
        await server.close()
    }

    func testRequestToSilentServerTimesOutWithinItsBound() async throws {
        let held = TransportHeldResponders()
        let (server, port) = try await startPeerServer(group: group) { payload, _, respond in held.hold(payload, respond) }
        let client = makePeerClient(group: group, port: port)
        let started = ContinuousClock.now
        let error = await peerError(of: client.request([1], timeout: .milliseconds(200)))
        let elapsed = ContinuousClock.now - started
        XCTAssertEqual(error, .timeout)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(190))
        XCTAssertLessThan(elapsed, .seconds(2))
        // The late answer is ignored, and the connection still serves the next request.
        held.releaseAll()
        let answerFuture = client.request([2], timeout: .seconds(5))
        await transportEventually(within: .seconds(5), "second request reaches the server") { held.count == 1 }
        held.releaseAll()
        let answer = try await answerFuture.get()
        XCTAssertEqual(answer, [2])
        await client.close()
        await server.close()
    }

    func testClientReconnectsAfterServerRestart() async throws {
        let (server, port) = try await startPeerServer(group: group, handler: peerEchoHandler)
        let client = makePeerClient(group: group, port: port)
        let before = try await client.request([1], timeout: .seconds(5)).get()
        XCTAssertEqual(before, [1])

        await server.close()
        // The client learns of the closed connection asynchronously; requests meanwhile fail.
        await transportEventually(within: .seconds(5), "a request fails once the server is gone") {
            await peerError(of: client.request([2], timeout: .seconds(1))) != nil
        }

        let (restarted, restartedPort) = try await startPeerServer(group: group, port: port, handler: peerEchoHandler)
        XCTAssertEqual(restartedPort, port)
        // Within one backoff period (100 ms here) the client connects again.
        await transportEventually(within: .seconds(5), "a request succeeds after the restart") {
            (try? await client.request([3], timeout: .seconds(1)).get()) == [3]
        }
        XCTAssertTrue(client.isReachable)
        await client.close()
        await restarted.close()
    }

    func testClosedPortFailsFastWithUnreachableAndBacksOff() async throws {
        let (server, port) = try await startPeerServer(group: group, handler: peerEchoHandler)
        await server.close()
        let client = makePeerClient(
            group: group, port: port,
            limits: PeerTransportLimits(connectTimeout: .seconds(1), backoffMin: .seconds(5), backoffMax: .seconds(10))
        )
        let started = ContinuousClock.now
        let first = await peerError(of: client.request([1], timeout: .seconds(10)))
        guard case .unreachable(let why)? = first else { return XCTFail("expected unreachable, got \(String(describing: first))") }
        XCTAssertTrue(why.contains("127.0.0.1:\(port)"), why)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertFalse(client.isReachable)
        // During the backoff requests fail at once, without waiting for their timeout.
        let backoffStarted = ContinuousClock.now
        let second = await peerError(of: client.request([2], timeout: .seconds(10)))
        XCTAssertEqual(second, first)
        XCTAssertLessThan(ContinuousClock.now - backoffStarted, .milliseconds(500))
        await client.close()
    }

    func testGarbageFromOneConnectionClosesOnlyThatConnection() async throws {
        let recorder = TransportLogRecorder()
        let (server, port) = try await startPeerServer(group: group, logger: recorder.logger, handler: peerEchoHandler)
        let client = makePeerClient(group: group, port: port)
        let before = try await client.request([1], timeout: .seconds(5)).get()
        XCTAssertEqual(before, [1])

        let raw = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        let rawPort = try XCTUnwrap(raw.localAddress?.port)
        try await raw.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).get()
        try await transportWait(raw.closeFuture, within: .seconds(5))

        XCTAssertTrue(
            recorder.all.contains { $0.hasPrefix("warning") && $0.contains(":\(rawPort)") && $0.contains("exceeds the limit") },
            "\(recorder.all)"
        )
        let after = try await client.request([2], timeout: .seconds(5)).get()
        XCTAssertEqual(after, [2])
        await client.close()
        await server.close()
    }

    func testRejectedHelloFailsWithHelloRejected() async throws {
        let (server, port) = try await startPeerServer(
            group: group,
            helloValidator: { hello in hello.clusterDigest == 7 ? nil : "cluster digest \(hello.clusterDigest) is not 7" },
            handler: peerEchoHandler
        )
        let client = makePeerClient(
            group: group, port: port,
            limits: PeerTransportLimits(backoffMin: .seconds(5), backoffMax: .seconds(10))
        )
        let error = await peerError(of: client.request([1], timeout: .seconds(5)))
        XCTAssertEqual(error, .helloRejected("cluster digest 42 is not 7"))
        XCTAssertFalse(client.isReachable)
        // Backing off: the refusal is repeated without another connection.
        let again = await peerError(of: client.request([2], timeout: .seconds(5)))
        XCTAssertEqual(again, .helloRejected("cluster digest 42 is not 7"))
        await client.close()

        let matching = makePeerClient(group: group, port: port, hello: PeerHello(nodeID: "node-c", clusterDigest: 7))
        let answer = try await matching.request([1], timeout: .seconds(5)).get()
        XCTAssertEqual(answer, [1])
        await matching.close()
        await server.close()
    }

    func testClientInFlightBoundFailsAtOnceWithOverloaded() async throws {
        let held = TransportHeldResponders()
        let (server, port) = try await startPeerServer(group: group) { payload, _, respond in held.hold(payload, respond) }
        let client = makePeerClient(group: group, port: port, limits: PeerTransportLimits(inFlightMax: 4))
        let accepted = (0..<4).map { client.request([UInt8($0)], timeout: .seconds(10)) }
        let refused = await peerError(of: client.request([9], timeout: .seconds(10)))
        XCTAssertEqual(refused, .overloaded)
        await transportEventually(within: .seconds(5), "four requests reach the server") { held.count == 4 }
        held.releaseAll()
        for (index, future) in accepted.enumerated() {
            let answer = try await future.get()
            XCTAssertEqual(answer, [UInt8(index)])
        }
        // Answered requests free their slots.
        let later = (0..<4).map { client.request([UInt8(10 + $0)], timeout: .seconds(10)) }
        await transportEventually(within: .seconds(5), "four more requests reach the server") { held.count == 4 }
        held.releaseAll()
        for future in later { _ = try await future.get() }
        await client.close()
        await server.close()
    }

    func testServerInFlightBoundAnswersOverloaded() async throws {
        let held = TransportHeldResponders()
        let (server, port) = try await startPeerServer(group: group, limits: PeerTransportLimits(inFlightMax: 2)) { payload, _, respond in
            held.hold(payload, respond)
        }
        let client = makePeerClient(group: group, port: port)
        let accepted = (0..<2).map { client.request([UInt8($0)], timeout: .seconds(10)) }
        let refused = await peerError(of: client.request([9], timeout: .seconds(10)))
        guard case .remote(let why)? = refused else { return XCTFail("expected remote, got \(String(describing: refused))") }
        XCTAssertTrue(why.hasPrefix("overloaded"), why)
        held.releaseAll()
        for future in accepted { _ = try await future.get() }
        await client.close()
        await server.close()
    }

    func testIdleConnectionIsClosedAndTheClientReconnects() async throws {
        let hellos = TransportCounter()
        let recorder = TransportLogRecorder()
        let (server, port) = try await startPeerServer(
            group: group,
            limits: PeerTransportLimits(idleTimeout: .milliseconds(100)),
            logger: recorder.logger,
            helloValidator: { _ in hellos.increment(); return nil },
            handler: peerEchoHandler
        )
        let client = makePeerClient(group: group, port: port)
        let first = try await client.request([1], timeout: .seconds(5)).get()
        XCTAssertEqual(first, [1])
        await transportEventually(within: .seconds(5), "the server closes the idle connection") {
            recorder.all.contains { $0.contains("closing idle peer connection") }
        }
        await transportEventually(within: .seconds(5), "a request succeeds on a new connection") {
            (try? await client.request([2], timeout: .seconds(1)).get()) == [2]
        }
        XCTAssertEqual(hellos.count, 2)
        await client.close()
        await server.close()
    }

    func testServerCloseFailsOutstandingRequestsWithConnectionClosed() async throws {
        let held = TransportHeldResponders()
        let (server, port) = try await startPeerServer(group: group) { payload, _, respond in held.hold(payload, respond) }
        let client = makePeerClient(group: group, port: port)
        let outstanding = client.request([1], timeout: .seconds(10))
        await transportEventually(within: .seconds(5), "request reaches the server") { held.count == 1 }
        await server.close()
        let error = await peerError(of: outstanding)
        XCTAssertEqual(error, .connectionClosed)
        held.releaseAll()  // responding on a closed connection is dropped silently
        await client.close()
    }

    func testClosedClientRefusesRequests() async throws {
        let (server, port) = try await startPeerServer(group: group, handler: peerEchoHandler)
        let client = makePeerClient(group: group, port: port)
        _ = try await client.request([1], timeout: .seconds(5)).get()
        await client.close()
        let error = await peerError(of: client.request([2], timeout: .seconds(5)))
        XCTAssertEqual(error, .connectionClosed)
        await server.close()
    }

    func testOversizedPayloadFailsBeforeSending() async throws {
        let (server, port) = try await startPeerServer(group: group, handler: peerEchoHandler)
        let client = makePeerClient(group: group, port: port, limits: PeerTransportLimits(frameBytesMax: 64))
        let error = await peerError(of: client.request([UInt8](repeating: 0, count: 51), timeout: .seconds(5)))
        XCTAssertEqual(error, .payloadTooLarge(bytes: 51, limit: 50))
        let answer = try await client.request([UInt8](repeating: 0, count: 50), timeout: .seconds(5)).get()
        XCTAssertEqual(answer.count, 50)
        await client.close()
        await server.close()
    }

    func testDirectoryHoldsOneClientPerPeerAndReportsHealth() async throws {
        let (server, port) = try await startPeerServer(group: group, handler: peerEchoHandler)
        let (deadServer, deadPort) = try await startPeerServer(group: group, handler: peerEchoHandler)
        await deadServer.close()
        let directory = PeerDirectory(
            peers: [("node-b", "127.0.0.1", port), ("node-c", "127.0.0.1", deadPort)],
            group: group, hello: transportTestHello, limits: transportTestLimits, logger: transportQuietLogger
        )
        XCTAssertNil(directory.client(for: "node-z"))
        let live = try XCTUnwrap(directory.client(for: "node-b"))
        XCTAssertTrue(live === directory.client(for: "node-b"))
        _ = try await live.request([1], timeout: .seconds(5)).get()
        let dead = try XCTUnwrap(directory.client(for: "node-c"))
        _ = await peerError(of: dead.request([1], timeout: .seconds(5)))
        let snapshot = directory.snapshot()
        XCTAssertEqual(snapshot.map(\.nodeID), ["node-b", "node-c"])
        XCTAssertEqual(snapshot.map(\.address), ["127.0.0.1:\(port)", "127.0.0.1:\(deadPort)"])
        XCTAssertEqual(snapshot.map(\.reachable), [true, false])
        await directory.closeAll()
        await server.close()
    }

    func testTheDirectoryCountsReachabilityChangesForThoseWhoKeepWhatFollowsFromThem() async throws {
        let (server, port) = try await startPeerServer(group: group, handler: peerEchoHandler)
        let (deadServer, deadPort) = try await startPeerServer(group: group, handler: peerEchoHandler)
        await deadServer.close()
        let directory = PeerDirectory(
            peers: [("node-b", "127.0.0.1", port), ("node-c", "127.0.0.1", deadPort)],
            group: group, hello: transportTestHello, limits: transportTestLimits, logger: transportQuietLogger
        )
        let start = directory.reachabilityGeneration
        XCTAssertEqual(directory.unreachableNodeIDs(), [], "every peer counts as reachable before the first attempt")
        _ = try await XCTUnwrap(directory.client(for: "node-b")).request([1], timeout: .seconds(5)).get()
        XCTAssertEqual(directory.reachabilityGeneration, start, "a peer that answers as expected changes nothing")
        _ = await peerError(of: try XCTUnwrap(directory.client(for: "node-c")).request([1], timeout: .seconds(5)))
        let afterFailure = directory.reachabilityGeneration
        XCTAssertGreaterThan(afterFailure, start, "a failed connect flips node-c")
        XCTAssertEqual(directory.unreachableNodeIDs(), ["node-c"])
        directory.reconcile([("node-b", "127.0.0.1", port), ("node-c", "127.0.0.1", deadPort)])
        XCTAssertEqual(directory.reachabilityGeneration, afterFailure, "the same peers again change nothing")
        directory.reconcile([("node-b", "127.0.0.1", port)])
        XCTAssertGreaterThan(directory.reachabilityGeneration, afterFailure, "a peer that left is no longer unreachable")
        XCTAssertEqual(directory.unreachableNodeIDs(), [])
        await directory.closeAll()
        await server.close()
    }
}
