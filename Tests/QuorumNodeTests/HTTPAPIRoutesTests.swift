import Metrics
import NIOHTTP1
import QuorumCore
import QuorumNode
import XCTest

/// Create-only writes, returnbody, key listing, /status, /ring, /metrics, the status
/// page and HEAD: routing on its own, then through the real server with the fake service.
final class HTTPAPIRoutesTests: XCTestCase {
    private var fixture: HTTPTestServer!
    private var connections: [RawHTTPConnection] = []

    override func tearDown() async throws {
        for connection in connections { await connection.close() }
        connections = []
        await fixture?.stop()
        fixture = nil
    }

    private func start() async throws -> HTTPTestServer {
        fixture = try await HTTPTestServer.start()
        return fixture
    }

    private func route(_ method: String, _ uri: String) -> Result<HTTPRoute, HTTPRouteError> {
        do {
            return .success(try HTTPRoute.parse(method: method, uri: uri))
        } catch {
            return .failure(error)
        }
    }

    private func badParameter(_ method: String, _ uri: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        guard case .failure(.invalid(.badParameter(let name, _))) = route(method, uri) else {
            XCTFail("\(method) \(uri) should be a bad parameter, got \(route(method, uri))", file: file, line: line)
            return nil
        }
        return name
    }

    private func json(_ response: HTTPClientResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    // MARK: - Routing

    func testEveryEndpointParsesFromAnExampleRequest() throws {
        let examples: [HTTPEndpoint.Resource: String] = [
            .key: "/kv/b/k", .typedKey: "/types/b/k", .bucketProps: "/buckets/b/props", .bucketKeys: "/buckets/b/keys", .health: "/health",
            .status: "/status", .ring: "/ring", .metrics: "/metrics", .root: "/",
            .clusterJoin: "/cluster/join?seed=127.0.0.1:9081", .clusterLeave: "/cluster/leave",
            .bucketTruncate: "/buckets/b/truncate", .clusterTruncate: "/cluster/truncate", .aclReload: "/admin/acl/reload",
        ]
        for endpoint in HTTPEndpoint.allCases {
            let uri = try XCTUnwrap(examples[endpoint.resource])
            XCTAssertEqual(try route(endpoint.method, uri).get().endpoint, endpoint, "\(endpoint.method) \(uri)")
            XCTAssertEqual(try HTTPRoute.endpoint(method: endpoint.method, uri: uri), endpoint)
            XCTAssertTrue(HTTPEndpoint.allowedMethods(of: endpoint.resource).contains(endpoint.method))
            if endpoint.method == "GET" {
                XCTAssertEqual(try route("HEAD", uri).get().endpoint, endpoint, "HEAD \(uri) is a GET without the body")
            }
        }
        XCTAssertEqual(Set(HTTPEndpoint.allCases.map(\.operationLabel)).count, HTTPEndpoint.allCases.count)
        XCTAssertEqual(
            Set(HTTPEndpoint.allCases.map { "\($0.method) \($0.pathTemplate)" }).count, HTTPEndpoint.allCases.count,
            "one endpoint per method and path")
    }

    func testJoinNeedsASeedAndLeaveTakesNoParameters() {
        XCTAssertEqual(route("POST", "/cluster/join?seed=10.0.0.1:9081"), .success(.joinCluster(seed: "10.0.0.1:9081")))
        XCTAssertEqual(route("POST", "/cluster/leave"), .success(.leaveCluster))
        for bad in ["/cluster/join", "/cluster/join?seed=", "/cluster/join?node=a:1", "/cluster/join?seed=a:1&seed=b:2"] {
            guard case .failure(.invalid(.badParameter(let name, _))) = route("POST", bad) else {
                return XCTFail("\(bad) must be a bad parameter")
            }
            XCTAssertEqual(name, "seed", bad)
        }
        guard case .failure(.invalid(.badParameter)) = route("POST", "/cluster/leave?now=1") else {
            return XCTFail("leave takes no query")
        }
        guard case .failure(.methodNotAllowed(let allowed)) = route("GET", "/cluster/leave") else {
            return XCTFail("leave is POST only")
        }
        XCTAssertEqual(allowed, ["POST"])
    }

    func testKeyListingParameters() {
        XCTAssertEqual(route("GET", "/buckets/b/keys"), .success(.listKeys(bucket: "b", cursor: nil, limit: 100)))
        XCTAssertEqual(
            route("GET", "/buckets/b/keys?limit=1000&cursor=AQ-_"), .success(.listKeys(bucket: "b", cursor: "AQ-_", limit: 1000)))
        XCTAssertEqual(route("GET", "/buckets/b/keys?LIMIT=1"), .success(.listKeys(bucket: "b", cursor: nil, limit: 1)))
        for uri in ["/buckets/b/keys?limit=0", "/buckets/b/keys?limit=1001", "/buckets/b/keys?limit=ten", "/buckets/b/keys?limit=",
            "/buckets/b/keys?limit=5&limit=6"]
        {
            XCTAssertEqual(badParameter("GET", uri), "limit", uri)
        }
        XCTAssertEqual(badParameter("GET", "/buckets/b/keys?cursor="), "cursor")
        XCTAssertEqual(badParameter("GET", "/buckets/b/keys?cursor=a&cursor=b"), "cursor")
        XCTAssertEqual(badParameter("GET", "/buckets/b/keys?r=2"), "r")
        XCTAssertEqual(badParameter("GET", "/buckets/bad%20bucket/keys"), "bucket")
        XCTAssertEqual(route("PUT", "/buckets/b/keys"), .failure(.methodNotAllowed(allowed: ["GET", "HEAD"])))
        var small = Limits()
        small.keyPageMax = 10
        XCTAssertEqual(
            try? HTTPRoute.parse(method: "GET", uri: "/buckets/b/keys", limits: small), .listKeys(bucket: "b", cursor: nil, limit: 10),
            "the default page never exceeds the limit")
    }

    func testReturnBodyParameter() {
        XCTAssertEqual(
            route("PUT", "/kv/b/k?returnbody=true&w=2"),
            .success(.putKey(bucket: "b", key: Array("k".utf8), options: RequestOptions(w: .count(2)), returnBody: true)))
        XCTAssertEqual(
            route("PUT", "/kv/b/k?ReturnBody=FALSE"),
            .success(.putKey(bucket: "b", key: Array("k".utf8), options: RequestOptions(), returnBody: false)))
        XCTAssertEqual(badParameter("PUT", "/kv/b/k?returnbody=yes"), "returnbody")
        XCTAssertEqual(badParameter("PUT", "/kv/b/k?returnbody=true&returnbody=true"), "returnbody")
        XCTAssertEqual(badParameter("GET", "/kv/b/k?returnbody=true"), "returnbody")
        XCTAssertEqual(badParameter("DELETE", "/kv/b/k?returnbody=false"), "returnbody")
    }

    func testStatusRoutesTakeNoQuery() {
        XCTAssertEqual(route("GET", "/status"), .success(.status))
        XCTAssertEqual(route("GET", "/ring"), .success(.ring))
        XCTAssertEqual(route("GET", "/metrics"), .success(.metrics))
        XCTAssertEqual(route("GET", "/"), .success(.statusPage))
        XCTAssertEqual(route("GET", "/?x=1#frag"), .failure(.invalid(.badParameter(name: "x", message: "unknown query parameter \"x\"; this route takes none"))))
        XCTAssertEqual(badParameter("GET", "/metrics?name=x"), "name")
        XCTAssertEqual(route("POST", "/"), .failure(.methodNotAllowed(allowed: ["GET", "HEAD"])))
    }

    func testConditionalHeaders() throws {
        func conditions(_ headers: [(String, String)], returnBody: Bool = false) throws(KVError) -> WriteConditions {
            try HTTPConditionalHeaders.putConditions(headers: HTTPHeaders(headers), returnBody: returnBody)
        }
        XCTAssertEqual(try conditions([]), WriteConditions())
        XCTAssertEqual(try conditions([("If-None-Match", "*")], returnBody: true), WriteConditions(ifNoneMatch: true, returnBody: true))
        XCTAssertEqual(try conditions([("if-none-match", " * ")]), WriteConditions(ifNoneMatch: true))
        XCTAssertEqual(try conditions([("If-None-Match", "")]), WriteConditions(), "an empty list states nothing")
        for bad in [[("If-None-Match", "\"abc\"")], [("If-None-Match", "*, \"x\"")], [("If-None-Match", "W/\"x\"")], [("If-Match", "*")]] {
            XCTAssertThrowsError(try conditions(bad), "\(bad)") { error in
                guard case .badParameter(let name, let message)? = error as? KVError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, bad[0].0)
                XCTAssertTrue(message.contains("supported"), message)
            }
        }
        XCTAssertThrowsError(try HTTPConditionalHeaders.checkDelete(headers: HTTPHeaders([("If-None-Match", "*")])))
        XCTAssertNoThrow(try HTTPConditionalHeaders.checkDelete(headers: HTTPHeaders([("X-Context", "c")])))
    }

    // MARK: - Through the server

    func testCreateOnlyWrites() async throws {
        let server = try await start()
        let create = [("If-None-Match", "*"), ("Content-Type", "text/plain")]
        let first = try await server.client.send(method: "PUT", path: "/kv/b/once", headers: create, body: Array("1".utf8))
        XCTAssertEqual(first.status, 204)
        XCTAssertEqual(server.service.lastCall?.conditions, WriteConditions(ifNoneMatch: true))
        let second = try await server.client.send(method: "PUT", path: "/kv/b/once", headers: create, body: Array("2".utf8))
        XCTAssertEqual(second.status, 412)
        XCTAssertEqual(try json(second)["error"] as? String, "precondition_failed")
        let kept = try await server.client.get(bucket: "b", key: "once")
        XCTAssertEqual(kept.value, Array("1".utf8), "the refused write changed nothing")

        try await server.client.delete(bucket: "b", key: "once")
        let again = try await server.client.put(bucket: "b", key: "once", value: [3], conditions: WriteConditions(ifNoneMatch: true))
        XCTAssertEqual(again.siblings, [])

        let etag = try await server.client.send(
            method: "PUT", path: "/kv/b/once", headers: [("If-None-Match", "\"v1\"")], body: [4])
        XCTAssertEqual(etag.status, 400)
        XCTAssertEqual(try json(etag)["parameter"] as? String, "If-None-Match")
        let ifMatch = try await server.client.send(method: "PUT", path: "/kv/b/once", headers: [("If-Match", "*")], body: [4])
        XCTAssertEqual(ifMatch.status, 400)
        let deleteCreate = try await server.client.send(method: "DELETE", path: "/kv/b/once", headers: [("If-None-Match", "*")])
        XCTAssertEqual(deleteCreate.status, 400)
        let getWithTag = try await server.client.send(method: "GET", path: "/kv/b/once", headers: [("If-None-Match", "\"x\"")])
        XCTAssertEqual(getWithTag.status, 200, "no ETag matches, so a conditional GET is a plain GET")
    }

    func testReturnBodyAnswersTheValueOrTheSiblings() async throws {
        let server = try await start()
        let plain = try await server.client.send(
            method: "PUT", path: "/kv/b/k", query: [("returnbody", "true")], headers: [("Content-Type", "text/plain")],
            body: Array("hello".utf8))
        XCTAssertEqual(plain.status, 200)
        XCTAssertEqual(plain.body, Array("hello".utf8))
        XCTAssertEqual(plain.header("content-type"), "text/plain")
        XCTAssertEqual(server.service.lastCall?.conditions, WriteConditions(returnBody: true))
        let without = try await server.client.send(method: "PUT", path: "/kv/b/k", query: [("returnbody", "false")], body: [1])
        XCTAssertEqual(without.status, 204)

        _ = try await server.client.setBucketProps(bucket: "carts", update: BucketPropsUpdate(conflict: .vclock))
        let first = try await server.client.put(
            bucket: "carts", key: "c", value: Array("milk".utf8), contentType: "text/plain",
            conditions: WriteConditions(returnBody: true))
        XCTAssertEqual(first.siblings.map(\.value), [Array("milk".utf8)])
        XCTAssertEqual(first.context, "ctx-1")
        let raw = try await server.client.send(
            method: "PUT", path: "/kv/carts/c", query: [("returnbody", "true")], body: Array("eggs".utf8))
        XCTAssertEqual(raw.status, 300)
        XCTAssertEqual(raw.header("x-context"), "ctx-2")
        let siblings = try XCTUnwrap(try json(raw)["siblings"] as? [[String: Any]])
        XCTAssertEqual(Set(siblings.compactMap { $0["value"] as? String }), ["milk", "eggs"])
        let typed = try await server.client.put(
            bucket: "carts", key: "c", value: Array("bread".utf8), conditions: WriteConditions(returnBody: true))
        XCTAssertEqual(typed.siblings.count, 3)
        XCTAssertEqual(typed.context, "ctx-3")
    }

    func testKeyListingPagesThroughEveryKey() async throws {
        let server = try await start()
        var written: Set<[UInt8]> = []
        for index in 0..<25 {
            let key = Array("key-\(index)".utf8)
            try await server.client.put(bucket: "list", key: key, value: [1])
            written.insert(key)
        }
        let binary: [UInt8] = [0xFF, 0x00, 0x2F]
        try await server.client.put(bucket: "list", key: binary, value: [1])
        written.insert(binary)
        try await server.client.put(bucket: "list", key: "gone", value: [1])
        try await server.client.delete(bucket: "list", key: "gone")

        var seen: [[UInt8]] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await server.client.listKeys(bucket: "list", limit: 7, cursor: cursor)
            XCTAssertLessThanOrEqual(page.keys.count + page.keysBase64.count, 7)
            seen += try XCTUnwrap(page.allKeys)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 100
        XCTAssertEqual(pages, 4)
        XCTAssertEqual(seen.count, written.count, "every key exactly once")
        XCTAssertEqual(Set(seen), written, "deleted keys are absent")
        XCTAssertEqual(server.service.lastCall?.limit, 7)

        let raw = try await server.client.send(method: "GET", path: "/buckets/list/keys", query: [("limit", "1000")])
        XCTAssertEqual(raw.status, 200)
        XCTAssertEqual(raw.header("content-type"), "application/json")
        let body = try json(raw)
        XCTAssertTrue(body["next"] is NSNull, "the last page's next is null, not missing")
        XCTAssertEqual(body["keys_base64"] as? [String], ["/wAv"])
        XCTAssertEqual((body["keys"] as? [String])?.count, 25)

        let badCursor = try await server.client.send(method: "GET", path: "/buckets/list/keys", query: [("cursor", "nonsense")])
        XCTAssertEqual(badCursor.status, 400)
        XCTAssertEqual(try json(badCursor)["parameter"] as? String, "cursor")
        let badLimit = try await server.client.send(method: "GET", path: "/buckets/list/keys", query: [("limit", "5000")])
        XCTAssertEqual(badLimit.status, 400)
        XCTAssertEqual(try json(badLimit)["parameter"] as? String, "limit")
    }

    func testStatusRingAndStatusPage() async throws {
        let server = try await start()
        let raw = try await server.client.send(method: "GET", path: "/status")
        XCTAssertEqual(raw.status, 200)
        let body = try json(raw)
        for key in ["node", "version", "uptime_seconds", "ring", "peers", "hints_pending", "anti_entropy", "storage", "requests_in_flight", "repair"] {
            XCTAssertNotNil(body[key], "status has \(key)")
        }
        let status = try await server.client.status()
        XCTAssertEqual(status.node, "node-a")
        XCTAssertEqual(status.ring.partitionCount, 8)

        let ring = try await server.client.ring()
        XCTAssertEqual(ring, server.service.ringReport())
        let ringJSON = try json(try await server.client.send(method: "GET", path: "/ring"))
        XCTAssertEqual(ringJSON["partition_count"] as? Int, 8)
        XCTAssertEqual((ringJSON["owners"] as? [String])?.count, 8)

        let page = try await server.client.send(method: "GET", path: "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("content-type"), "text/html; charset=utf-8")
        let html = String(decoding: page.body, as: UTF8.self)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("node-a") && html.contains("node-b"))
        XCTAssertTrue(html.contains("node-&lt;c&gt;") && !html.contains("node-<c>"), "node ids are escaped")
        XCTAssertEqual(html.components(separatedBy: "class=\"cell\"").count - 1, 8, "one cell per partition")
        XCTAssertTrue(html.contains("class=\"down\""), "a down peer is shown")
        XCTAssertFalse(html.contains("<script"))
    }

    func testHeadIsGetWithoutBody() async throws {
        let server = try await start()
        try await server.client.put(bucket: "b", key: "k", value: Array("12345".utf8), contentType: "text/plain")
        fixture = server
        let connection = try await RawHTTPConnection(port: server.port)
        connections.append(connection)
        try await connection.send("HEAD /kv/b/k HTTP/1.1\r\nHost: x\r\n\r\nHEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /kv/b/k HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try await connection.readResponse(headOnly: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-length"), "5")
        XCTAssertEqual(head.header("content-type"), "text/plain")
        let missing = try await connection.readResponse(headOnly: true)
        XCTAssertEqual(missing.status, 404)
        let get = try await connection.readResponse()
        XCTAssertEqual(get.body, Array("12345".utf8), "the HEAD answers carried no body bytes")
    }

    // MARK: - Metrics

    /// The value of one sample (`name{labels}`) in a Prometheus text exposition.
    private func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    func testMetricsCountRequestsLatencyAndQuorumFailures() async throws {
        let server = try await start()
        try await server.client.put(bucket: "b", key: "k", value: [1], options: RequestOptions(w: .quorum))
        _ = try await server.client.get(bucket: "b", key: "k", options: RequestOptions(r: .count(2)))
        _ = try await server.client.get(bucket: "b", key: "missing")
        _ = try await server.client.send(method: "GET", path: "/kv/b/k", query: [("r", "999")])  // the fake lets it through
        _ = try await server.client.send(method: "GET", path: "/kv/b/k", query: [("r", "most")])  // 400 from the router
        _ = try await server.client.send(method: "GET", path: "/nowhere")
        server.service.fail(
            with: .quorumNotMet(operation: .write, needed: 2, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        _ = try await server.client.send(method: "DELETE", path: "/kv/b/k")
        server.service.fail(with: nil)

        let response = try await server.client.send(method: "GET", path: "/metrics")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        let text = String(decoding: response.body, as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            #"quorumkv_http_requests_total{operation="put",status="204"} 1"#,
            #"quorumkv_http_requests_total{operation="get",status="200"} 2"#,
            #"quorumkv_http_requests_total{operation="get",status="404"} 1"#,
            #"quorumkv_http_requests_total{operation="get",status="400"} 1"#,
            #"quorumkv_http_requests_total{operation="unrouted",status="404"} 1"#,
            #"quorumkv_http_requests_total{operation="delete",status="503"} 1"#,
            #"quorumkv_quorum_failures_total{operation="delete"} 1"#,
            #"quorumkv_quorum_failures_total{operation="get"} 0"#,
            #"quorumkv_request_duration_seconds_count{operation="put",consistency="quorum"} 1"#,
            #"quorumkv_request_duration_seconds_count{operation="get",consistency="2"} 1"#,
            #"quorumkv_request_duration_seconds_count{operation="get",consistency="default"} 1"#,
            #"quorumkv_request_duration_seconds_count{operation="get",consistency="invalid"} 1"#,
            #"quorumkv_request_duration_seconds_bucket{operation="delete",consistency="default",le="+Inf"} 1"#,
            "# TYPE quorumkv_request_duration_seconds histogram",
        ] {
            XCTAssertTrue(lines.contains(expected), "missing \(expected) in:\n\(text)")
        }
        XCTAssertEqual(sample(text, "quorumkv_requests_in_flight"), 0)
        XCTAssertNil(sample(text, #"quorumkv_request_duration_seconds_count{operation="get",consistency="most"}"#))
        // The scrape itself shows up in the next one.
        let next = try await server.client.metrics()
        XCTAssertTrue(next.contains(#"quorumkv_http_requests_total{operation="metrics",status="200"} 1"#), next)
    }

    func testMalformedRequestsAreCounted() async throws {
        let server = try await start()
        let connection = try await RawHTTPConnection(port: server.port)
        connections.append(connection)
        try await connection.send("NOT HTTP AT ALL\r\n\r\n")
        let awaitedStatus = try await connection.readResponse().status
        XCTAssertEqual(awaitedStatus, 400)
        let text = try await server.client.metrics()
        XCTAssertTrue(text.contains(#"quorumkv_http_requests_total{operation="malformed",status="400"} 1"#), text)
    }

    func testInFlightGaugeCoversRequestsWithTheService() async throws {
        let server = try await start()
        server.service.hangReads()
        let read = Task { try await server.client.get(bucket: "b", key: "k") }
        while server.service.calls.isEmpty { await Task.yield() }
        let during = try await server.client.metrics()
        XCTAssertEqual(sample(during, "quorumkv_requests_in_flight"), 1, during)
        server.service.releaseReads()
        _ = try await read.value
        let after = try await server.client.metrics()
        XCTAssertEqual(sample(after, "quorumkv_requests_in_flight"), 0, after)
    }

    func testServersInOneProcessKeepSeparateCounts() async throws {
        let first = try await start()
        let second = try await HTTPTestServer.start()
        _ = try await first.client.health()
        _ = try await first.client.health()
        _ = try await second.client.health()
        let firstText = try await first.client.metrics()
        let secondText = try await second.client.metrics()
        await second.stop()
        XCTAssertTrue(firstText.contains(#"operation="health",status="200"} 2"#), firstText)
        XCTAssertTrue(secondText.contains(#"operation="health",status="200"} 1"#), secondText)
    }

    func testProcessMetricsBootstrapIsIdempotentAndExported() async throws {
        let registry = ProcessMetrics.bootstrap()
        XCTAssertTrue(ProcessMetrics.bootstrap() === registry, "a second bootstrap returns the first registry")
        XCTAssertTrue(ProcessMetrics.registry === registry)
        Counter(label: "quorumkv_test_library_events_total").increment()
        let text = String(decoding: NodeMetrics().exposition(), as: UTF8.self)
        XCTAssertTrue(text.contains("quorumkv_test_library_events_total 1"), text)
    }

    func testConsistencyLabelIsBounded() {
        XCTAssertEqual(NodeMetrics.consistencyLabel(nil, replicasMax: 16), "default")
        XCTAssertEqual(NodeMetrics.consistencyLabel(.quorum, replicasMax: 16), "quorum")
        XCTAssertEqual(NodeMetrics.consistencyLabel(.count(16), replicasMax: 16), "16")
        XCTAssertEqual(NodeMetrics.consistencyLabel(.count(17), replicasMax: 16), "invalid")
    }
}
