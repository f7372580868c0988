import Foundation
import QuorumCore
import QuorumNode
import XCTest

/// The HTTP API on a real three-node cluster, through `KVHTTPClient`/`TestClient` and
/// through `curl`: create-only writes, returnbody, key listing across partitions,
/// /status, /ring, /metrics, the status page, and every error status SPEC.md names
/// (500 excepted: it needs a failing disk; `HTTPServerTests` covers it).
final class HTTPAPITests: ClusterTestCase {
    private var curl: Curl!

    override func setUp() async throws {
        try await super.setUp()
        curl = try Curl(base: cluster.endpoint(0))
    }

    // MARK: - Writes

    func testCreateOnlyWrites() async throws {
        let path = KVHTTPClient.kvPath(bucket: "default", key: "once")
        let first = try await curl.request("PUT", path, headers: ["If-None-Match: *", "Content-Type: text/plain"], body: "first")
        XCTAssertEqual(first.status, 204, first.description)
        let second = try await curl.request("PUT", path, headers: ["If-None-Match: *"], body: "second")
        XCTAssertEqual(second.status, 412, second.description)
        XCTAssertEqual(second.json["error"] as? String, "precondition_failed")
        let kept = try await cluster.client(1).get("once")
        XCTAssertEqual(kept.text, "first", "the refused write changed nothing")

        let deleted = try await cluster.client(2).delete("once")
        XCTAssertEqual(deleted.status, 204)
        let again = try await KVHTTPClient(baseURL: cluster.endpoint(1)).put(
            bucket: "default", key: "once", value: Array("third".utf8), conditions: WriteConditions(ifNoneMatch: true))
        XCTAssertEqual(again.context, "")
        let read = try await cluster.client(0).get("once")
        XCTAssertEqual(read.text, "third", "after a delete the key can be created again")

        let etag = try await curl.request("PUT", path, headers: ["If-None-Match: \"v1\""], body: "x")
        XCTAssertEqual(etag.status, 400, etag.description)
        XCTAssertEqual(etag.json["parameter"] as? String, "If-None-Match")
    }

    func testReturnBodyAnswersTheValueAndTheSiblings() async throws {
        let plain = try await curl.request(
            "PUT", "/kv/default/rb?returnbody=true", headers: ["Content-Type: text/plain"], body: "hello")
        XCTAssertEqual(plain.status, 200, plain.description)
        XCTAssertEqual(plain.text, "hello")
        XCTAssertEqual(plain.header("content-type"), "text/plain")

        let props = try await cluster.client(0).setProps("carts", #"{"conflict":"vclock"}"#)
        XCTAssertEqual(props.status, 200, props.text)
        let client = KVHTTPClient(baseURL: cluster.endpoint(0))
        let first = try await client.put(
            bucket: "carts", key: "c", value: Array("milk".utf8), contentType: "text/plain",
            conditions: WriteConditions(returnBody: true))
        XCTAssertEqual(first.siblings.map(\.value), [Array("milk".utf8)])
        XCTAssertFalse(first.context.isEmpty, "vclock writes return their context")

        let blind = try await curl.request("PUT", "/kv/carts/c?returnbody=true", body: "eggs")
        XCTAssertEqual(blind.status, 300, blind.description)
        XCTAssertNotNil(blind.header("x-context"))
        let values = (blind.json["siblings"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
        XCTAssertEqual(Set(values), ["milk", "eggs"])

        let resolved = try await client.put(
            bucket: "carts", key: "c", value: Array("milk,eggs".utf8), context: blind.header("x-context"),
            conditions: WriteConditions(returnBody: true))
        XCTAssertEqual(resolved.siblings.map(\.value), [Array("milk,eggs".utf8)], "the context resolved both siblings")
    }

    // MARK: - Key listing

    func testKeyListingPagesThroughEveryPartition() async throws {
        let keys = (0..<250).map { "item-\($0)" }
        let deleted = Set(keys.prefix(10))
        let writers = [cluster.client(0), cluster.client(1), cluster.client(2)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, key) in keys.enumerated() {
                if index >= 16 { try await group.next() }  // at most 16 writes in flight
                group.addTask {
                    let response = try await writers[index % 3].put(key, "v", bucket: "listing", query: [("w", "all")])
                    guard response.status == 204 else { throw HarnessError("write \(key): \(response.text)") }
                }
            }
            try await group.waitForAll()
        }
        for key in deleted {
            let response = try await cluster.client(0).delete(key, bucket: "listing", query: [("w", "all")])
            XCTAssertEqual(response.status, 204)
        }

        let client = KVHTTPClient(baseURL: cluster.endpoint(1))
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await client.listKeys(bucket: "listing", limit: 40, cursor: cursor)
            XCTAssertLessThanOrEqual(page.keys.count, 40)
            XCTAssertEqual(page.keysBase64, [])
            seen += page.keys
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 50
        XCTAssertNil(cursor, "the listing ends")
        XCTAssertEqual(seen.count, keys.count - deleted.count, "every key exactly once")
        XCTAssertEqual(Set(seen), Set(keys).subtracting(deleted), "deleted keys are absent")
        XCTAssertGreaterThanOrEqual(pages, 6)

        let first = try await curl.request("GET", "/buckets/listing/keys?limit=5")
        XCTAssertEqual(first.status, 200, first.description)
        XCTAssertEqual((first.json["keys"] as? [String])?.count, 5)
        let next = try XCTUnwrap(first.json["next"] as? String)
        let second = try await curl.request("GET", "/buckets/listing/keys?limit=5&cursor=\(next)")
        XCTAssertEqual(second.status, 200)
        XCTAssertTrue(Set(second.json["keys"] as? [String] ?? []).isDisjoint(with: first.json["keys"] as? [String] ?? []))
        let empty = try await curl.request("GET", "/buckets/nothing-here/keys")
        XCTAssertEqual(empty.status, 200)
        XCTAssertEqual(empty.json["keys"] as? [String], [])
        XCTAssertTrue(empty.json["next"] is NSNull)
    }

    // MARK: - Status, ring, metrics, page

    func testStatusRingMetricsAndStatusPage() async throws {
        let status = try await curl.request("GET", "/status")
        XCTAssertEqual(status.status, 200, status.description)
        XCTAssertEqual(status.json["node"] as? String, "node1")
        let peers = status.json["peers"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(peers.compactMap { $0["node"] as? String }), ["node2", "node3"])
        XCTAssertNotNil(status.json["hints_pending"])
        XCTAssertNotNil(status.json["anti_entropy"])
        let typed = try await KVHTTPClient(baseURL: cluster.endpoint(2)).status()
        XCTAssertEqual(typed.node, "node3")

        let ring = try await curl.request("GET", "/ring")
        XCTAssertEqual(ring.status, 200)
        XCTAssertEqual(ring.json["partition_count"] as? Int, 64)
        XCTAssertEqual(ring.json["members"] as? [String], ["node1", "node2", "node3"])
        XCTAssertEqual((ring.json["owners"] as? [String])?.count, 64)
        let ownership = ring.json["ownership"] as? [String: Int] ?? [:]
        XCTAssertEqual(ownership.values.reduce(0, +), 64)
        let fromAnother = try await KVHTTPClient(baseURL: cluster.endpoint(1)).ring()
        XCTAssertEqual(fromAnother.owners, ring.json["owners"] as? [String], "every node computes the same ring")

        _ = try await cluster.client(0).put("m", "1", query: [("w", "quorum")])
        _ = try await cluster.client(0).get("m", query: [("r", "2")])
        _ = try await cluster.client(0).get("missing-key")
        let metrics = try await curl.request("GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") ?? false, metrics.description)
        for expected in [
            #"quorumkv_http_requests_total{operation="put",status="204"} 1"#,
            #"quorumkv_http_requests_total{operation="get",status="404"} 1"#,
            #"quorumkv_request_duration_seconds_count{operation="put",consistency="quorum"} 1"#,
            #"quorumkv_request_duration_seconds_count{operation="get",consistency="2"} 1"#,
            "# TYPE quorumkv_requests_in_flight gauge",
            "# TYPE quorumkv_quorum_failures_total counter",
        ] {
            XCTAssertTrue(metrics.text.contains(expected), "missing \(expected):\n\(metrics.text)")
        }

        let page = try await curl.request("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("content-type"), "text/html; charset=utf-8")
        for node in ["node1", "node2", "node3"] { XCTAssertTrue(page.text.contains(node), "page mentions \(node)") }
        XCTAssertEqual(page.text.components(separatedBy: "class=\"cell\"").count - 1, 64, "one cell per partition")

        let head = try await curl.request("HEAD", "/status")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
    }

    // MARK: - Errors

    func testEveryErrorStatusInTheSpec() async throws {
        let badParameter = try await curl.request("GET", "/kv/default/k?r=most")
        XCTAssertEqual(badParameter.status, 400, badParameter.description)
        XCTAssertEqual(badParameter.json["error"] as? String, "bad_parameter")
        XCTAssertEqual(badParameter.json["parameter"] as? String, "r")
        let impossible = try await curl.request("PUT", "/kv/default/k?w=5", body: "v")
        XCTAssertEqual(impossible.status, 400, impossible.description)

        let notFound = try await curl.request("GET", "/kv/default/never-written")
        XCTAssertEqual(notFound.status, 404)
        XCTAssertEqual(notFound.json["error"] as? String, "not_found")
        let noRoute = try await curl.request("GET", "/no/such/route")
        XCTAssertEqual(noRoute.status, 404)
        let wrongMethod = try await curl.request("POST", "/kv/default/k", body: "v")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.header("allow"), "GET, HEAD, PUT, DELETE")

        _ = try await curl.request("PUT", "/kv/default/exists", body: "v")
        let precondition = try await curl.request("PUT", "/kv/default/exists", headers: ["If-None-Match: *"], body: "w")
        XCTAssertEqual(precondition.status, 412)
        XCTAssertEqual(precondition.json["error"] as? String, "precondition_failed")

        let longKey = String(repeating: "k", count: 1025)
        let tooLarge = try await curl.request("GET", "/kv/default/\(longKey)")
        XCTAssertEqual(tooLarge.status, 413, tooLarge.description)
        XCTAssertEqual(tooLarge.json["error"] as? String, "too_large")
        XCTAssertEqual(tooLarge.json["limit"] as? Int, 1024)

        cluster.signal(1, SIGSTOP)
        cluster.signal(2, SIGSTOP)
        defer {
            cluster.signal(1, SIGCONT)
            cluster.signal(2, SIGCONT)
        }
        let unavailable = try await curl.request("PUT", "/kv/default/frozen?timeout=500", body: "v")
        XCTAssertEqual(unavailable.status, 503, unavailable.description)
        XCTAssertEqual(unavailable.json["error"] as? String, "quorum_not_met")
        XCTAssertEqual(unavailable.json["needed"] as? Int, 2)
        XCTAssertNotNil(unavailable.json["acked"])
        let unavailableRead = try await curl.request("GET", "/kv/default/frozen?timeout=500&r=2")
        XCTAssertEqual(unavailableRead.status, 503)
        XCTAssertNotNil(unavailableRead.json["replied"])

        let metrics = try await KVHTTPClient(baseURL: cluster.endpoint(0)).metrics()
        XCTAssertTrue(metrics.contains(#"quorumkv_quorum_failures_total{operation="put"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"quorumkv_quorum_failures_total{operation="get"} 1"#), metrics)
    }
}

/// `curl` as a user runs it, one request per process, bounded in time.
struct Curl {
    struct Response: CustomStringConvertible {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var description: String { "\(status) \(text)" }
    }

    static let executable = "/usr/bin/curl"
    /// Longest a request may take, curl's `--max-time`.
    static let maxSeconds = 15
    let base: String

    init(base: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw HarnessError("curl is missing at \(Self.executable); run scripts/setup.sh (or apt-get install curl)")
        }
        self.base = base
    }

    /// Sends one request; `path` is sent as given (already encoded).
    func request(_ method: String, _ path: String, headers: [String] = [], body: String? = nil) async throws -> Response {
        var arguments = ["-sS", "-i", "--http1.1", "--max-time", String(Self.maxSeconds), "-H", "Expect:"]
        arguments += method == "HEAD" ? ["-I"] : ["-X", method]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["--data-binary", body] }
        arguments.append(base + path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }
        let output = await Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        let stderr = String(decoding: await errors.value, as: UTF8.self)
        await Task.detached { process.waitUntilExit() }.value
        guard process.terminationStatus == 0 else {
            throw HarnessError("curl \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(stderr)")
        }
        return try Self.parse(Array(output))
    }

    /// Splits `curl -i` output into the final response's status, headers and body.
    static func parse(_ output: [UInt8]) throws -> Response {
        var rest = output[...]
        let separator = Array("\r\n\r\n".utf8)
        while true {
            guard let end = rest.firstRange(of: separator) else { throw HarnessError("curl printed no response head") }
            let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            rest = rest[end.upperBound...]
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
                throw HarnessError("bad status line in \(head)")
            }
            if (100..<200).contains(status) { continue }
            let headers = lines.compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            return Response(status: status, headers: headers, body: Array(rest))
        }
    }
}
