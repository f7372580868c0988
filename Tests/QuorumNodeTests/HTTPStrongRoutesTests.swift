import Foundation
import NIOHTTP1
import QuorumCore
import QuorumNode
import XCTest

/// `/kv` on a strong bucket (issue #17, docs/strong.md): ETags, `If-Match`,
/// `If-None-Match: *`, 412 with the current ETag, and what an eventual bucket refuses.
/// Through the real server with the fake service, whose `strong` commits like the real
/// coordinator; `StrongHTTPTests` (IntegrationTests) runs the same against real nodes.
final class HTTPStrongRoutesTests: XCTestCase {
    private var fixture: HTTPTestServer!

    override func tearDown() async throws {
        await fixture?.stop()
        fixture = nil
    }

    private func start() async throws -> HTTPTestServer {
        fixture = try await HTTPTestServer.start()
        fixture.service.makeStrong("accounts")
        return fixture
    }

    private func send(
        _ method: String, _ key: String, bucket: String = "accounts", headers: [(String, String)] = [], body: String? = nil,
        query: [(String, String)] = []
    ) async throws -> HTTPClientResponse {
        try await fixture.client.send(
            method: method, path: KVHTTPClient.kvPath(bucket: bucket, key: key), query: query, headers: headers,
            body: body.map { Array($0.utf8) })
    }

    private func json(_ response: HTTPClientResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    private func etag(_ response: HTTPClientResponse, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let value = try XCTUnwrap(response.header("ETag"), "no ETag on \(response.status)", file: file, line: line)
        XCTAssertTrue(value.hasPrefix("\"") && value.hasSuffix("\"") && value.count > 2, "ETag \(value) is not quoted", file: file, line: line)
        return value
    }

    func testReadAnswersTheValueWithItsETag() async throws {
        let server = try await start()
        let absent = try await send("GET", "alice")
        XCTAssertEqual(absent.status, 404)
        XCTAssertNil(absent.header("ETag"))
        XCTAssertEqual(try json(absent)["error"] as? String, "not_found")

        let write = try await send("PUT", "alice", headers: [("Content-Type", "text/plain")], body: "100")
        XCTAssertEqual(write.status, 204)
        let written = try etag(write)

        let read = try await send("GET", "alice")
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.body, Array("100".utf8))
        XCTAssertEqual(read.header("Content-Type"), "text/plain")
        XCTAssertEqual(try etag(read), written, "a read answers the ETag the write answered")
        XCTAssertNil(read.header("X-Context"), "strong keys have ETags, not contexts")

        let head = try await send("HEAD", "alice")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(try etag(head), written)
        XCTAssertEqual(
            server.service.strongOperations, [.read, .write(.value(bytes: Array("100".utf8), contentType: "text/plain")), .read, .read])
        XCTAssertEqual(server.service.calls.filter { $0.operation == "get" || $0.operation == "put" }, [], "no eventual request")
    }

    func testIfMatchReplacesOnlyTheValueRead() async throws {
        _ = try await start()
        let first = try etag(try await send("PUT", "alice", body: "100"))
        let second = try await send("PUT", "alice", headers: [("If-Match", first)], body: "90")
        XCTAssertEqual(second.status, 204)
        let secondTag = try etag(second)
        XCTAssertNotEqual(secondTag, first, "every write has a new ETag")

        let stale = try await send("PUT", "alice", headers: [("If-Match", first)], body: "80")
        XCTAssertEqual(stale.status, 412)
        XCTAssertEqual(try etag(stale), secondTag, "412 carries the current ETag")
        let document = try json(stale)
        XCTAssertEqual(document["error"] as? String, "precondition_failed")
        XCTAssertTrue((document["message"] as? String ?? "").contains(secondTag), "\(document)")
        let kept = try await send("GET", "alice")
        XCTAssertEqual(kept.body, Array("90".utf8), "the failed condition wrote nothing")

        let retried = try await send("PUT", "alice", headers: [("If-Match", secondTag)], body: "80")
        XCTAssertEqual(retried.status, 204)
        let unquoted = try await send("PUT", "alice", headers: [("If-Match", String(try etag(retried).dropFirst().dropLast()))], body: "70")
        XCTAssertEqual(unquoted.status, 204, "a token without its quotes is taken too")
    }

    func testIfNoneMatchStarCreatesOnly() async throws {
        let server = try await start()
        let created = try await send("PUT", "lock", headers: [("If-None-Match", "*")], body: "me")
        XCTAssertEqual(created.status, 204)
        let tag = try etag(created)
        XCTAssertEqual(server.service.strongOperations.last, .compareAndSet(.ifAbsent, .value(bytes: Array("me".utf8), contentType: "application/octet-stream")))
        let taken = try await send("PUT", "lock", headers: [("If-None-Match", "*")], body: "you")
        XCTAssertEqual(taken.status, 412)
        XCTAssertEqual(try etag(taken), tag)

        let releasedWrong = try await send("DELETE", "lock", headers: [("If-Match", "\"\(StrongETag(ballot: PaxosBallot(timestamp: .zero, node: "x")).token)\"")])
        XCTAssertEqual(releasedWrong.status, 412)
        let released = try await send("DELETE", "lock", headers: [("If-Match", tag)])
        XCTAssertEqual(released.status, 204)
        XCTAssertNil(released.header("ETag"), "a deleted key has no ETag")
        let again = try await send("PUT", "lock", headers: [("If-None-Match", "*")], body: "you")
        XCTAssertEqual(again.status, 204, "a deleted key holds no value: create-only succeeds")

        let deletedTwice = try await send("DELETE", "lock", headers: [("If-Match", tag)])
        XCTAssertEqual(deletedTwice.status, 412)
    }

    func testIfMatchStarNeedsAValueAndAFailedConditionOnAnAbsentKeyHasNoETag() async throws {
        _ = try await start()
        let absent = try await send("PUT", "nobody", headers: [("If-Match", "*")], body: "x")
        XCTAssertEqual(absent.status, 412)
        XCTAssertNil(absent.header("ETag"), "no value, no ETag")
        XCTAssertTrue((try json(absent)["message"] as? String ?? "").contains("holds no value"))
        _ = try await send("PUT", "nobody", body: "x")
        let present = try await send("PUT", "nobody", headers: [("If-Match", "*")], body: "y")
        XCTAssertEqual(present.status, 204)
    }

    func testUnconditionalDeleteAndReturnBody() async throws {
        _ = try await start()
        let body = try await send("PUT", "k", headers: [("Content-Type", "text/plain")], body: "v", query: [("returnbody", "true")])
        XCTAssertEqual(body.status, 200)
        XCTAssertEqual(body.body, Array("v".utf8))
        _ = try etag(body)
        let deleted = try await send("DELETE", "k")
        XCTAssertEqual(deleted.status, 204)
        XCTAssertEqual(fixture.service.strongOperations.last, .delete)
        let gone = try await send("GET", "k")
        XCTAssertEqual(gone.status, 404)
    }

    func testBadConditionsAre400() async throws {
        _ = try await start()
        let cases: [(method: String, headers: [(String, String)], parameter: String)] = [
            ("PUT", [("If-Match", "\"not-a-token\"")], "If-Match"),
            ("PUT", [("If-Match", "W/\"abc\"")], "If-Match"),
            ("PUT", [("If-Match", "\"a\", \"b\"")], "If-Match"),
            ("PUT", [("If-None-Match", "\"abc\"")], "If-None-Match"),
            ("PUT", [("If-Match", "*"), ("If-None-Match", "*")], "If-Match"),
            ("DELETE", [("If-None-Match", "*")], "If-None-Match"),
            ("DELETE", [("If-Match", "garbage!")], "If-Match"),
            ("PUT", [("X-Context", "ctx-1")], "X-Context"),
            ("PUT", [("X-TTL", "60")], "X-TTL"),
        ]
        for bad in cases {
            let response = try await send(bad.method, "k", headers: bad.headers, body: bad.method == "PUT" ? "v" : nil)
            XCTAssertEqual(response.status, 400, "\(bad)")
            XCTAssertEqual(try json(response)["parameter"] as? String, bad.parameter, "\(bad)")
        }
        let ttl = try await send("PUT", "k", body: "v", query: [("ttl", "60")])
        XCTAssertEqual(ttl.status, 400)
        XCTAssertTrue((try json(ttl)["message"] as? String ?? "").contains("no expiry"))
        XCTAssertEqual(fixture.service.strongOperations, [], "nothing reached the service")
    }

    /// The driver's refusals and failures keep their status: `bad_parameter` (per-request
    /// n/r/w) is 400, `unavailable` is 503 with the message saying whether it may have applied.
    func testServiceFailuresMapToTheirStatus() async throws {
        let server = try await start()
        server.service.fail(with: .badParameter(name: "w", message: "a strong bucket takes no per-request w"))
        let refused = try await send("PUT", "k", body: "v", query: [("w", "2")])
        XCTAssertEqual(refused.status, 400)
        XCTAssertEqual(try json(refused)["parameter"] as? String, "w")
        server.service.fail(with: .unavailable(message: "2 of 3 primaries unreachable; the write may have been applied"))
        let unavailable = try await send("PUT", "k", body: "v")
        XCTAssertEqual(unavailable.status, 503)
        XCTAssertEqual(try json(unavailable)["error"] as? String, "unavailable")
        XCTAssertTrue((try json(unavailable)["message"] as? String ?? "").contains("may have been applied"))
        let read = try await send("GET", "k")
        XCTAssertEqual(read.status, 503)
    }

    /// ETag conditions on an eventual bucket: 400 saying they need a strong bucket.
    func testEventualBucketsRefuseETagConditions() async throws {
        _ = try await start()
        for headers in [[("If-Match", "\"abc\"")], [("If-Match", "*")], [("If-None-Match", "\"abc\"")]] {
            let response = try await send("PUT", "k", bucket: "plain", headers: headers, body: "v")
            XCTAssertEqual(response.status, 400, "\(headers)")
            XCTAssertTrue((try json(response)["message"] as? String ?? "").contains("strong bucket"), "\(headers)")
        }
        let delete = try await send("DELETE", "k", bucket: "plain", headers: [("If-Match", "\"abc\"")])
        XCTAssertEqual(delete.status, 400)
        XCTAssertTrue((try json(delete)["message"] as? String ?? "").contains("strong bucket"))
        let create = try await send("PUT", "k", bucket: "plain", headers: [("If-None-Match", "*")], body: "v")
        XCTAssertEqual(create.status, 204, "create-only stays what it was on eventual buckets")
        XCTAssertNil(create.header("ETag"))
        XCTAssertEqual(fixture.service.strongOperations, [])
    }

    /// The client keeps ETags without their quotes and sends them back as `If-Match`.
    func testClientCarriesETags() async throws {
        let server = try await start()
        let written = try await server.client.put(bucket: "accounts", key: "bob", value: Array("5".utf8))
        let tag = try XCTUnwrap(written.etag)
        XCTAssertFalse(tag.contains("\""))
        let read = try await server.client.get(bucket: "accounts", key: "bob")
        XCTAssertEqual(read.etag, tag)
        let next = try await server.client.put(bucket: "accounts", key: "bob", value: Array("6".utf8), ifMatch: tag)
        XCTAssertNotEqual(next.etag, tag)
        do {
            _ = try await server.client.put(bucket: "accounts", key: "bob", value: Array("7".utf8), ifMatch: tag)
            XCTFail("a stale ETag must fail")
        } catch {
            XCTAssertEqual(error.serverCode, "precondition_failed")
        }
        try await server.client.delete(bucket: "accounts", key: "bob", ifMatch: next.etag)
        let gone = try await server.client.get(bucket: "accounts", key: "bob")
        XCTAssertFalse(gone.found)
        XCTAssertNil(gone.etag)
        let plain = try await server.client.put(bucket: "plain", key: "k", value: [1])
        XCTAssertNil(plain.etag)
    }

    func testPropsShowAndAcceptConsistency() async throws {
        let server = try await start()
        let shown = try await server.client.bucketProps(bucket: "accounts")
        XCTAssertEqual(shown.consistency, .strong)
        let raw = try await fixture.client.send(method: "GET", path: "/buckets/plain/props")
        XCTAssertEqual(try json(raw)["consistency"] as? String, "eventual")
        let created = try await fixture.client.send(
            method: "PUT", path: "/buckets/fresh/props", headers: [("Content-Type", "application/json")],
            body: Array(#"{"consistency":"strong","n":3}"#.utf8))
        XCTAssertEqual(created.status, 200)
        XCTAssertEqual(try json(created)["consistency"] as? String, "strong")
        XCTAssertEqual(server.service.consistency(of: "fresh"), .strong)
        let bad = try await fixture.client.send(
            method: "PUT", path: "/buckets/fresh/props", body: Array(#"{"consistency":"linearizable"}"#.utf8))
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(try json(bad)["parameter"] as? String, "consistency")
    }

    /// The ETags in docs/http.md and docs/strong.md are ones a node would issue.
    func testTheDocumentedETagsParse() throws {
        let first = try HTTPStrongHeaders.parse("\"AAABolC-LAsAAAAABW5vZGUx\"", header: "If-Match")
        XCTAssertEqual(first.ballot, PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1_796_650_970_123, logical: 0), node: "node1"))
        let second = try HTTPStrongHeaders.parse("\"AAABolC-MUAAAAAABW5vZGUy\"", header: "If-Match")
        XCTAssertEqual(second.ballot.node, "node2")
        XCTAssertGreaterThan(second.ballot, first.ballot)
    }

    func testPropsDocumentWithoutConsistencyIsEventual() throws {
        let old = #"{"bucket":"b","n":3,"r":"quorum","w":"quorum","conflict":"lww"}"#
        XCTAssertEqual(try JSONDecoder().decode(HTTPBucketPropsDocument.self, from: Data(old.utf8)).consistency, .eventual)
        XCTAssertEqual(try HTTPBucketPropsUpdateDecoder.decode(Array(#"{"consistency":"Strong"}"#.utf8)).consistency, .strong)
    }
}
