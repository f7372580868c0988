import NIOCore
import NIOPosix
import QuorumCore
import QuorumNode
import XCTest

/// The real HTTPServer on loopback, driven by KVHTTPClient and by raw bytes.
final class HTTPServerTests: XCTestCase {
    private var fixture: HTTPTestServer!
    private var connections: [RawHTTPConnection] = []

    /// A raw connection, closed in tearDown.
    private func connect(_ server: HTTPTestServer) async throws -> RawHTTPConnection {
        let connection = try await RawHTTPConnection(port: server.port)
        connections.append(connection)
        return connection
    }

    override func tearDown() async throws {
        for connection in connections { await connection.close() }
        connections = []
        if let fixture {
            fixture.service.releaseReads()
            await fixture.stop()
        }
        fixture = nil
    }

    private func start(limits: Limits = .defaults, idleTimeout: TimeAmount = .seconds(60)) async throws -> HTTPTestServer {
        fixture = try await HTTPTestServer.start(limits: limits, idleTimeout: idleTimeout)
        return fixture
    }

    private func serverError(
        _ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line
    ) async -> (status: Int, code: String, message: String, json: [String: Any])? {
        do {
            try await body()
            XCTFail("expected a server error", file: file, line: line)
        } catch {
            guard case .server(let status, let code, let message, let body)? = error as? KVClientError else {
                XCTFail("expected a server error, got \(error)", file: file, line: line)
                return nil
            }
            let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
            return (status, code, message, json)
        }
        return nil
    }

    // MARK: - Routes

    func testPutThenGetKeepsValueAndContentType() async throws {
        let server = try await start()
        let written = try await server.client.put(
            bucket: "default", key: "greeting", value: Array("hello".utf8), contentType: "text/plain; charset=utf-8",
            options: RequestOptions(w: .count(2)))
        XCTAssertEqual(written.context, "", "lww buckets return no context")
        let read = try await server.client.get(bucket: "default", key: "greeting", options: RequestOptions(r: .quorum))
        XCTAssertEqual(read.value, Array("hello".utf8))
        XCTAssertEqual(read.siblings.first?.contentType, "text/plain; charset=utf-8")
        XCTAssertEqual(read.context, "ctx-1")
        XCTAssertEqual(server.service.lastCall?.options, RequestOptions(r: .quorum))

        let raw = try await server.client.send(method: "GET", path: "/kv/default/greeting", timeout: .seconds(5))
        XCTAssertEqual(raw.status, 200)
        XCTAssertEqual(raw.header("x-context"), "ctx-1")
        XCTAssertEqual(raw.header("content-length"), "5")
        XCTAssertNotNil(raw.header("last-modified"))
    }

    func testPutWithoutContentTypeDefaultsToOctetStream() async throws {
        let server = try await start()
        let response = try await server.client.send(
            method: "PUT", path: "/kv/b/k", body: [1, 2], timeout: .seconds(5))
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(server.service.lastCall?.contentType, "application/octet-stream")
        XCTAssertNil(server.service.lastCall?.context)
    }

    func testAllOptionsAndContextReachTheService() async throws {
        let server = try await start()
        let options = RequestOptions(n: 2, r: .one, w: .all, pr: .count(1), pw: .two, timeoutMilliseconds: 750)
        try await server.client.put(bucket: "b", key: "k", value: [1], context: "token-1", options: options)
        XCTAssertEqual(server.service.lastCall?.options, options)
        XCTAssertEqual(server.service.lastCall?.context, "token-1")
        try await server.client.delete(bucket: "b", key: "k", context: "token-2", options: options)
        XCTAssertEqual(server.service.lastCall?.operation, "delete")
        XCTAssertEqual(server.service.lastCall?.context, "token-2")
    }

    func testMissingKeyIs404WithContextOfTombstone() async throws {
        let server = try await start()
        let absent = try await server.client.send(method: "GET", path: "/kv/b/nothing", timeout: .seconds(5))
        XCTAssertEqual(absent.status, 404)
        XCTAssertEqual(absent.header("content-type"), "application/json")
        XCTAssertNil(absent.header("x-context"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(absent.body)) as? [String: Any])
        XCTAssertEqual(json["error"] as? String, "not_found")

        try await server.client.put(bucket: "b", key: "gone", value: [1])
        let deleted = try await server.client.send(method: "DELETE", path: "/kv/b/gone", timeout: .seconds(5))
        XCTAssertEqual(deleted.status, 204)
        let read = try await server.client.get(bucket: "b", key: "gone")
        XCTAssertFalse(read.found)
        XCTAssertEqual(read.context, "ctx-2", "a deleted key's context comes back with the 404")
    }

    func testSiblingsAre300WithJSON() async throws {
        let server = try await start()
        _ = try await server.client.setBucketProps(bucket: "carts", update: BucketPropsUpdate(conflict: .vclock))
        let first = try await server.client.put(bucket: "carts", key: "c", value: Array("milk".utf8), contentType: "text/plain")
        XCTAssertEqual(first.context, "ctx-1")
        try await server.client.put(bucket: "carts", key: "c", value: [0xFF, 0xFE, 0x00])

        let raw = try await server.client.send(method: "GET", path: "/kv/carts/c", timeout: .seconds(5))
        XCTAssertEqual(raw.status, 300)
        XCTAssertEqual(raw.header("content-type"), "application/json")
        XCTAssertEqual(raw.header("x-context"), "ctx-2")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(raw.body)) as? [String: Any])
        let entries = try XCTUnwrap(json["siblings"] as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["encoding"] as? String }, ["utf8", "base64"])
        XCTAssertEqual(entries[0]["value"] as? String, "milk")

        let read = try await server.client.get(bucket: "carts", key: "c")
        XCTAssertEqual(read.siblings.map(\.value), [Array("milk".utf8), [0xFF, 0xFE, 0x00]])
        XCTAssertEqual(read.siblings.map(\.contentType), ["text/plain", "application/octet-stream"])
        XCTAssertNotNil(read.siblings[0].actor)
        XCTAssertNotNil(read.siblings[0].timestampMilliseconds)
        XCTAssertEqual(read.context, "ctx-2")
        XCTAssertNil(read.value)

        // Writing with the context resolves them.
        try await server.client.put(bucket: "carts", key: "c", value: Array("milk,eggs".utf8), context: read.context)
        let resolved = try await server.client.get(bucket: "carts", key: "c")
        XCTAssertEqual(resolved.value, Array("milk,eggs".utf8))
    }

    func testSiblingLimitIs412() async throws {
        let server = try await start()
        server.service.fail(with: .siblingLimit(limit: 64))
        let error = await serverError { try await server.client.put(bucket: "b", key: "k", value: [1]) }
        XCTAssertEqual(error?.status, 412)
        XCTAssertEqual(error?.code, "sibling_limit")
        XCTAssertEqual(error?.json["limit"] as? Int, 64)
    }

    func testPreconditionFailedIs412() async throws {
        let server = try await start()
        server.service.fail(with: .preconditionFailed(message: "stale context"))
        let error = await serverError { try await server.client.delete(bucket: "b", key: "k") }
        XCTAssertEqual(error?.status, 412)
        XCTAssertEqual(error?.code, "precondition_failed")
        XCTAssertEqual(error?.message, "stale context")
    }

    func testQuorumNotMetIs503WithCounts() async throws {
        let server = try await start()
        server.service.fail(
            with: .quorumNotMet(operation: .write, needed: 3, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        let write = await serverError { try await server.client.put(bucket: "b", key: "k", value: [1]) }
        XCTAssertEqual(write?.status, 503)
        XCTAssertEqual(write?.code, "quorum_not_met")
        XCTAssertEqual(write?.json["needed"] as? Int, 3)
        XCTAssertEqual(write?.json["acked"] as? Int, 1)
        XCTAssertTrue(write?.message.contains("may still be stored") ?? false)

        server.service.fail(
            with: .quorumNotMet(operation: .read, needed: 2, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        let read = await serverError { _ = try await server.client.get(bucket: "b", key: "k") }
        XCTAssertEqual(read?.status, 503)
        XCTAssertEqual(read?.json["needed"] as? Int, 2)
        XCTAssertEqual(read?.json["replied"] as? Int, 1)
    }

    func testOverloadedAndInternal() async throws {
        let server = try await start()
        server.service.fail(with: .overloaded(message: "too many requests in flight"))
        let busy = try await server.client.send(method: "GET", path: "/kv/b/k", timeout: .seconds(5))
        XCTAssertEqual(busy.status, 503)
        XCTAssertEqual(busy.header("retry-after"), "1")

        server.service.fail(with: .internalError(message: "disk I/O error"))
        let error = await serverError { _ = try await server.client.get(bucket: "b", key: "k") }
        XCTAssertEqual(error?.status, 500)
        XCTAssertEqual(error?.code, "internal")
        XCTAssertEqual(error?.message, "disk I/O error")

        server.service.fail(with: nil)
        let health = try await server.client.health()
        XCTAssertEqual(health.node, "node-a")
    }

    func testBadParametersAre400() async throws {
        let server = try await start()
        let unknown = await serverError {
            _ = try await server.client.send(
                method: "GET", path: "/kv/b/k", query: [("q", "1")], timeout: .seconds(5)
            ).throwingOnError()
        }
        XCTAssertEqual(unknown?.status, 400)
        XCTAssertEqual(unknown?.code, "bad_parameter")
        XCTAssertEqual(unknown?.json["parameter"] as? String, "q")

        let level = await serverError {
            _ = try await server.client.send(method: "GET", path: "/kv/b/k", query: [("r", "most")], timeout: .seconds(5))
                .throwingOnError()
        }
        XCTAssertEqual(level?.status, 400)
        XCTAssertEqual(level?.json["parameter"] as? String, "r")

        let bucket = await serverError { _ = try await server.client.get(bucket: "no spaces", key: "k") }
        XCTAssertEqual(bucket?.status, 400)
        XCTAssertEqual(bucket?.json["parameter"] as? String, "bucket")

        let emptyKey = await serverError { _ = try await server.client.get(bucket: "b", key: "") }
        XCTAssertEqual(emptyKey?.status, 400)
        XCTAssertEqual(emptyKey?.json["parameter"] as? String, "key")
        XCTAssertTrue(server.service.calls.isEmpty, "bad requests never reach the service")

        server.service.fail(with: .badParameter(name: "w", message: "w=5 exceeds n=3"))
        let fromService = await serverError { try await server.client.put(bucket: "b", key: "k", value: [1]) }
        XCTAssertEqual(fromService?.status, 400)
        XCTAssertEqual(fromService?.message, "w=5 exceeds n=3")
    }

    func testUnknownRouteAndWrongMethod() async throws {
        let server = try await start()
        let unknown = try await server.client.send(method: "GET", path: "/nowhere", timeout: .seconds(5))
        XCTAssertEqual(unknown.status, 404)
        XCTAssertTrue(String(decoding: unknown.body, as: UTF8.self).contains(#""error":"not_found""#))

        let wrong = try await server.client.send(method: "POST", path: "/kv/b/k", body: [1], timeout: .seconds(5))
        XCTAssertEqual(wrong.status, 405)
        XCTAssertEqual(wrong.header("allow"), "GET, HEAD, PUT, DELETE")
        let wrongHealth = try await server.client.send(method: "DELETE", path: "/health", timeout: .seconds(5))
        XCTAssertEqual(wrongHealth.status, 405)
        XCTAssertEqual(wrongHealth.header("allow"), "GET, HEAD")
    }

    func testTooLargeKeyValueAndBody() async throws {
        var limits = Limits()
        limits.valueBytesMax = 100
        limits.httpBodyBytesMax = 200
        let server = try await start(limits: limits)

        let key = await serverError {
            _ = try await server.client.get(bucket: "b", key: Array(repeating: 0x61, count: 1025))
        }
        XCTAssertEqual(key?.status, 413)
        XCTAssertEqual(key?.code, "too_large")
        XCTAssertEqual(key?.json["limit"] as? Int, 1024)

        let value = await serverError {
            try await server.client.put(bucket: "b", key: "k", value: Array(repeating: 1, count: 101))
        }
        XCTAssertEqual(value?.status, 413)
        XCTAssertTrue(value?.message.hasPrefix("value is 101 bytes") ?? false, value?.message ?? "")

        let body = try await server.client.send(
            method: "PUT", path: "/kv/b/k", body: Array(repeating: 1, count: 201), timeout: .seconds(5))
        XCTAssertEqual(body.status, 413)
        XCTAssertEqual(body.header("connection"), "close")
        XCTAssertNil(server.service.stored(bucket: "b", key: Array("k".utf8)), "nothing was stored")

        // Exactly at the limit is fine.
        try await server.client.put(bucket: "b", key: "k", value: Array(repeating: 1, count: 100))
        XCTAssertEqual(server.service.stored(bucket: "b", key: Array("k".utf8))?.first?.value.count, 100)
    }

    func testChunkedBodyOverLimitIs413() async throws {
        var limits = Limits()
        limits.httpBodyBytesMax = 10
        let server = try await start(limits: limits)
        let connection = try await connect(server)
        try await connection.send(
            "PUT /kv/b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n")
        let response = try await connection.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.json?["error"] as? String, "too_large")
        _ = try await connection.readUntilClosed()
        XCTAssertTrue(connection.closedByPeer)
    }

    func testBucketPropsRoundTrip() async throws {
        let server = try await start()
        let initial = try await server.client.bucketProps(bucket: "users")
        XCTAssertEqual(initial, HTTPBucketPropsDocument(bucket: "users", n: 3, r: .quorum, w: .quorum, conflict: .lww))

        let raw = try await server.client.send(
            method: "PUT", path: "/buckets/users/props", headers: [("Content-Type", "application/json")],
            body: Array(#"{"n":5,"r":2,"conflict":"vclock"}"#.utf8), timeout: .seconds(5))
        XCTAssertEqual(raw.status, 200)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(raw.body)) as? [String: Any])
        XCTAssertEqual(json["n"] as? Int, 5)
        XCTAssertEqual(json["r"] as? Int, 2)
        XCTAssertEqual(json["w"] as? String, "quorum")
        XCTAssertEqual(json["conflict"] as? String, "vclock")

        let updated = try await server.client.setBucketProps(bucket: "users", update: BucketPropsUpdate(w: .all))
        XCTAssertEqual(updated, HTTPBucketPropsDocument(bucket: "users", n: 5, r: .count(2), w: .all, conflict: .vclock))

        let bad = try await server.client.send(
            method: "PUT", path: "/buckets/users/props", body: Array(#"{"conflict":"xyz"}"#.utf8), timeout: .seconds(5))
        XCTAssertEqual(bad.status, 400)
        let badJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bad.body)) as? [String: Any])
        XCTAssertEqual(badJSON["message"] as? String, "unknown conflict mode \"xyz\": expected lww or vclock")
        let awaited1 = try await server.client.bucketProps(bucket: "users").conflict
        XCTAssertEqual(awaited1, .vclock, "a bad update changes nothing")
    }

    func testHealth() async throws {
        let server = try await start()
        let raw = try await server.client.send(method: "GET", path: "/health", timeout: .seconds(5))
        XCTAssertEqual(raw.status, 200)
        XCTAssertEqual(raw.header("content-type"), "application/json")
        let report = try await server.client.health()
        XCTAssertEqual(report.peers, [PeerHealth(node: "node-b", address: "127.0.0.1:9002", reachable: true)])
    }

    // MARK: - Binary and encoded keys

    func testBinaryKeyAndValueRoundTrip() async throws {
        let server = try await start()
        let key: [UInt8] = [0x00, 0xFF, 0x2F, 0x25, 0x3F, 0x23, 0x20, 0x2B, 0x0A, 0xC3]
        let value = (0...255).map { UInt8($0) } + [0, 0, 0]
        try await server.client.put(bucket: "bin", key: key, value: value)
        XCTAssertEqual(server.service.lastCall?.key, key)
        let read = try await server.client.get(bucket: "bin", key: key)
        XCTAssertEqual(read.value, value)
        try await server.client.delete(bucket: "bin", key: key)
        let awaited2 = try await server.client.get(bucket: "bin", key: key).found
        XCTAssertFalse(awaited2)
    }

    func testPercentEncodedKeysFromRawRequests() async throws {
        let server = try await start()
        let connection = try await connect(server)
        try await connection.send("PUT /kv/b/a%2Fb%20c%E2%9C%93 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        let awaited3 = try await connection.readResponse().status
        XCTAssertEqual(awaited3, 204)
        XCTAssertEqual(server.service.lastCall?.key, Array("a/b c✓".utf8))
        let read = try await server.client.get(bucket: "b", key: "a/b c✓")
        XCTAssertEqual(read.value, Array("hi".utf8))

        try await connection.send("GET /kv/b/bad%zz HTTP/1.1\r\nHost: x\r\n\r\n")
        let bad = try await connection.readResponse()
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(bad.json?["parameter"] as? String, "key")
    }

    // MARK: - Connections

    func testKeepAliveServesSeveralRequestsOnOneConnection() async throws {
        let server = try await start()
        let connection = try await connect(server)
        try await connection.send("PUT /kv/b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nabc")
        let put = try await connection.readResponse()
        XCTAssertEqual(put.status, 204)
        XCTAssertNil(put.header("connection"))
        try await connection.send("GET /kv/b/k HTTP/1.1\r\nHost: x\r\n\r\n")
        let get = try await connection.readResponse()
        XCTAssertEqual(get.status, 200)
        XCTAssertEqual(get.body, Array("abc".utf8))
        XCTAssertEqual(get.header("content-type"), "text/plain")

        // Pipelined: two requests in one write, answered in order.
        try await connection.send(
            "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /kv/b/missing HTTP/1.1\r\nHost: x\r\n\r\nGET /kv/b/k HTTP/1.1\r\nHost: x\r\n\r\n")
        let awaited4 = try await connection.readResponse().status
        XCTAssertEqual(awaited4, 200)
        let awaited5 = try await connection.readResponse().status
        XCTAssertEqual(awaited5, 404)
        let awaited6 = try await connection.readResponse().body
        XCTAssertEqual(awaited6, Array("abc".utf8))

        // Connection: close is honoured.
        try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let last = try await connection.readResponse()
        XCTAssertEqual(last.status, 200)
        XCTAssertEqual(last.header("connection"), "close")
        let awaited7 = try await connection.readUntilClosed()
        XCTAssertEqual(awaited7, [])
        XCTAssertTrue(connection.closedByPeer)
    }

    func testHTTP10ClosesUnlessKeepAlive() async throws {
        let server = try await start()
        let keepAlive = try await connect(server)
        try await keepAlive.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = try await keepAlive.readResponse()
        XCTAssertEqual(first.header("connection"), "keep-alive")
        try await keepAlive.send("GET /health HTTP/1.0\r\n\r\n")
        let second = try await keepAlive.readResponse()
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(second.header("connection"), "close")
        _ = try await keepAlive.readUntilClosed()
        XCTAssertTrue(keepAlive.closedByPeer)
        await keepAlive.close()
    }

    func testGarbageGets400AndCloseAndServerKeepsServing() async throws {
        let server = try await start()
        for garbage in ["\u{16}\u{03}\u{01}\u{02}\0\u{01}\0\u{01}\u{fc}\u{03}\u{03}garbage\r\n\r\n", "HELLO THERE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /health HTTP/1.1\r\nBad Header\r\n\r\n"] {
            let connection = try await connect(server)
            try await connection.send(garbage)
            let response = try await connection.readResponse()
            XCTAssertEqual(response.status, 400, garbage)
            XCTAssertEqual(response.json?["error"] as? String, "bad_request", garbage)
            XCTAssertEqual(response.header("connection"), "close")
            let awaited8 = try await connection.readUntilClosed()
            XCTAssertEqual(awaited8, [])
            XCTAssertTrue(connection.closedByPeer, "connection closed after \(garbage.debugDescription)")
            await connection.close()
        }
        // Garbage after a good request on the same connection: the good one is answered first.
        let mixed = try await connect(server)
        try await mixed.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n\u{01}\u{02}\u{03} nonsense\r\n\r\n")
        let awaited9 = try await mixed.readResponse().status
        XCTAssertEqual(awaited9, 200)
        let awaited10 = try await mixed.readResponse().status
        XCTAssertEqual(awaited10, 400)
        _ = try await mixed.readUntilClosed()
        XCTAssertTrue(mixed.closedByPeer)
        await mixed.close()

        let awaited11 = try await server.client.health().status
        XCTAssertEqual(awaited11, "ok")
    }

    func testOversizedHeadIs431AndClose() async throws {
        var limits = Limits()
        limits.httpHeaderBytesMax = 1024
        let server = try await start(limits: limits)
        let connection = try await connect(server)
        try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n")
        let response = try await connection.readResponse()
        XCTAssertEqual(response.status, 431)
        XCTAssertEqual(response.json?["error"] as? String, "too_large")
        _ = try await connection.readUntilClosed()
        XCTAssertTrue(connection.closedByPeer)
        await connection.close()

        let longURI = try await connect(server)
        try await longURI.send("GET /kv/b/\(String(repeating: "k", count: 2000)) HTTP/1.1\r\nHost: x\r\n\r\n")
        let awaited12 = try await longURI.readResponse().status
        XCTAssertEqual(awaited12, 431)
        await longURI.close()
        let awaited13 = try await server.client.health().status
        XCTAssertEqual(awaited13, "ok")
    }

    func testExpectContinue() async throws {
        let server = try await start()
        let connection = try await connect(server)
        try await connection.send("PUT /kv/b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        let awaited14 = try await connection.readResponse().status
        XCTAssertEqual(awaited14, 100)
        try await connection.send("data")
        let awaited15 = try await connection.readResponse().status
        XCTAssertEqual(awaited15, 204)
        XCTAssertEqual(server.service.stored(bucket: "b", key: Array("k".utf8))?.first?.value, Array("data".utf8))
    }

    func testHalfClosedClientStillGetsItsAnswer() async throws {
        let server = try await start()
        let connection = try await connect(server)
        try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try await connection.finishSending()
        let awaited16 = try await connection.readResponse().status
        XCTAssertEqual(awaited16, 200)
        _ = try await connection.readUntilClosed()
        XCTAssertTrue(connection.closedByPeer)
        await connection.close()
    }

    func testIdleConnectionIsClosed() async throws {
        let server = try await start(idleTimeout: .milliseconds(200))
        let idle = try await connect(server)
        let awaited17 = try await idle.readUntilClosed()
        XCTAssertEqual(awaited17, [])
        XCTAssertTrue(idle.closedByPeer)
        await idle.close()

        // A half-sent head is closed too (slow client).
        let slow = try await connect(server)
        try await slow.send("GET /health HTTP/1.1\r\nHo")
        _ = try await slow.readUntilClosed()
        XCTAssertTrue(slow.closedByPeer)
        await slow.close()
    }

    func testSlowServiceIsNotCutByIdleTimeout() async throws {
        let server = try await start(idleTimeout: .milliseconds(100))
        server.service.hangReads()
        let read = Task { try await server.client.get(bucket: "b", key: "k") }
        // Wait until the request is with the service, then past several idle periods.
        while server.service.calls.isEmpty { await Task.yield() }
        try await Task.sleep(for: .milliseconds(400))
        server.service.releaseReads()
        let result = try await read.value
        XCTAssertFalse(result.found)
    }

    // MARK: - Client failures

    func testClientReportsUnreachable() async throws {
        let port = try await httpUnusedPort()
        let client = KVHTTPClient(baseURL: "http://127.0.0.1:\(port)")
        do {
            _ = try await client.get(bucket: "b", key: "k")
            XCTFail("expected unreachable")
        } catch {
            guard case .unreachable(let endpoint, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, "http://127.0.0.1:\(port)")
            XCTAssertTrue(reason.lowercased().contains("refused"), reason)
        }
    }

    func testClientTimesOut() async throws {
        let server = try await start()
        server.service.hangReads()
        do {
            _ = try await server.client.send(method: "GET", path: "/kv/b/k", timeout: .milliseconds(300))
            XCTFail("expected a timeout")
        } catch {
            guard case .timedOut = error else { return XCTFail("\(error)") }
        }
    }

    func testClientBoundsResponseSize() async throws {
        let server = try await start()
        try await server.client.put(bucket: "b", key: "k", value: Array(repeating: 7, count: 5000))
        let small = KVHTTPClient(baseURL: "http://127.0.0.1:\(server.port)", maxResponseBytes: 4096)
        do {
            _ = try await small.get(bucket: "b", key: "k")
            XCTFail("expected responseTooLarge")
        } catch {
            XCTAssertEqual(error, .responseTooLarge(limit: 4096))
        }
    }

    func testServerCloseStopsAccepting() async throws {
        let server = try await start()
        let awaited18 = try await server.client.health().status
        XCTAssertEqual(awaited18, "ok")
        let open = try await connect(server)
        await server.stop()
        _ = try await open.readUntilClosed()
        XCTAssertTrue(open.closedByPeer, "open connections are closed")
        await open.close()
        do {
            _ = try await server.client.health()
            XCTFail("expected unreachable after close")
        } catch {
            guard case .unreachable = error else { return XCTFail("\(error)") }
        }
        fixture = nil
    }
}

extension HTTPClientResponse {
    /// Turns a non-2xx answer into the client's server error, for tests on raw `send`.
    func throwingOnError() throws(KVClientError) -> HTTPClientResponse {
        guard (200..<300).contains(status) else { throw KVHTTPClient.serverError(self) }
        return self
    }
}
