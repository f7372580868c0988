import NIOHTTP1
import QuorumCore
import QuorumNode
import XCTest

/// Routing, query parsing and rendering, without sockets.
final class HTTPRoutingTests: XCTestCase {
    private func route(_ method: String, _ uri: String, limits: Limits = .defaults) -> Result<HTTPRoute, HTTPRouteError> {
        do {
            return .success(try HTTPRoute.parse(method: method, uri: uri, limits: limits))
        } catch {
            return .failure(error)
        }
    }

    private func invalid(_ method: String, _ uri: String, limits: Limits = .defaults) -> KVError? {
        if case .failure(.invalid(let error)) = route(method, uri, limits: limits) { return error }
        return nil
    }

    func testKVRoutesWithOptions() {
        XCTAssertEqual(
            route("GET", "/kv/users/alice?r=quorum&n=3&pr=1&timeout=500"),
            .success(
                .getKey(
                    bucket: "users", key: Array("alice".utf8),
                    options: RequestOptions(n: 3, r: .quorum, pr: .count(1), timeoutMilliseconds: 500))))
        XCTAssertEqual(
            route("PUT", "/kv/b/k?W=ALL&pw=two"),
            .success(.putKey(bucket: "b", key: Array("k".utf8), options: RequestOptions(w: .all, pw: .two), returnBody: false)))
        XCTAssertEqual(
            route("DELETE", "/kv/b/k"), .success(.deleteKey(bucket: "b", key: Array("k".utf8), options: RequestOptions())))
    }

    func testKeysArePercentDecodedBytes() {
        XCTAssertEqual(
            route("GET", "/kv/b/a%2Fb%20c%00%FF+"),
            .success(.getKey(bucket: "b", key: [0x61, 0x2F, 0x62, 0x20, 0x63, 0x00, 0xFF, 0x2B], options: RequestOptions())))
        // An unescaped slash stays part of the key.
        XCTAssertEqual(
            route("GET", "/kv/b/users/42"),
            .success(.getKey(bucket: "b", key: Array("users/42".utf8), options: RequestOptions())))
        XCTAssertEqual(invalid("GET", "/kv/b/bad%zz")?.code, "bad_parameter")
        XCTAssertEqual(invalid("GET", "/kv/b/bad%4")?.code, "bad_parameter")
    }

    func testEmptyAndOversizedKeys() {
        XCTAssertEqual(invalid("GET", "/kv/b/"), .badParameter(name: "key", message: "key must not be empty"))
        XCTAssertEqual(invalid("GET", "/kv/b")?.code, "bad_parameter")
        var limits = Limits()
        limits.keyBytesMax = 4
        XCTAssertEqual(invalid("GET", "/kv/b/abcde", limits: limits), .tooLarge(what: "key", bytes: 5, limit: 4))
        XCTAssertNotNil(try? route("GET", "/kv/b/abcd", limits: limits).get())
        XCTAssertNotNil(try? route("GET", "/kv/b/%61%62%63%64", limits: limits).get(), "the limit counts decoded bytes")
    }

    func testBadBucketNames() {
        for uri in ["/kv/bad%20name/k", "/kv/caf%C3%A9/k", "/kv//k", "/kv/\(String(repeating: "x", count: 65))/k"] {
            guard case .badParameter(let name, _)? = invalid("GET", uri) else {
                XCTFail("\(uri) should be a bad bucket")
                continue
            }
            XCTAssertEqual(name, "bucket")
        }
        XCTAssertEqual(invalid("GET", "/buckets/b%21/props")?.code, "bad_parameter")
    }

    func testQueryErrorsNameTheParameter() {
        let unknown = invalid("GET", "/kv/b/k?consistency=all")
        guard case .badParameter(let name, let message)? = unknown else { return XCTFail("\(String(describing: unknown))") }
        XCTAssertEqual(name, "consistency")
        XCTAssertTrue(message.contains("unknown query parameter"), message)

        guard case .badParameter("r", let levelMessage)? = invalid("GET", "/kv/b/k?r=most") else { return XCTFail() }
        XCTAssertTrue(levelMessage.contains("\"most\""), levelMessage)
        guard case .badParameter("n", _)? = invalid("GET", "/kv/b/k?n=three") else { return XCTFail() }
        guard case .badParameter("timeout", _)? = invalid("GET", "/kv/b/k?timeout=1s") else { return XCTFail() }
        guard case .badParameter("w", _)? = invalid("PUT", "/kv/b/k?w=1&w=2") else { return XCTFail() }
        guard case .badParameter("r", _)? = invalid("GET", "/kv/b/k?r=") else { return XCTFail() }
        guard case .badParameter("pretty", _)? = invalid("GET", "/health?pretty") else { return XCTFail() }
        // Empty items are ignored.
        XCTAssertNotNil(try? route("GET", "/kv/b/k?&r=1&").get())
    }

    func testOtherRoutesAndMethods() {
        XCTAssertEqual(route("GET", "/health"), .success(.health))
        XCTAssertEqual(route("GET", "/buckets/b/props"), .success(.getBucketProps(bucket: "b")))
        XCTAssertEqual(route("PUT", "/buckets/b/props"), .success(.setBucketProps(bucket: "b")))
        XCTAssertEqual(route("POST", "/kv/b/k"), .failure(.methodNotAllowed(allowed: ["GET", "HEAD", "PUT", "DELETE"])))
        XCTAssertEqual(route("DELETE", "/buckets/b/props"), .failure(.methodNotAllowed(allowed: ["GET", "HEAD", "PUT"])))
        XCTAssertEqual(route("PUT", "/health"), .failure(.methodNotAllowed(allowed: ["GET", "HEAD"])))
        XCTAssertEqual(route("HEAD", "/kv/b/k"), .success(.getKey(bucket: "b", key: Array("k".utf8), options: RequestOptions())))
        for uri in [
            "/kv", "/nope", "/buckets/b", "/buckets/b/props/x", "/buckets/b/keys/x", "/health/x", "/status/", "/ring/x",
            "/metrics/x", "//", "*", "http://h/kv/b/k", "",
        ] {
            guard case .failure(.unknownRoute) = route("GET", uri) else {
                XCTFail("\(uri) should be an unknown route")
                continue
            }
        }
    }

    func testPercentEncodingRoundTrip() {
        let every = (0...255).map { UInt8($0) }
        let encoded = PercentEncoding.encodePathSegment(every)
        XCTAssertFalse(encoded.contains("/"))
        XCTAssertEqual(PercentEncoding.decode(encoded.utf8), every)
        XCTAssertEqual(PercentEncoding.encodePathSegment(Array("a b/c~".utf8)), "a%20b%2Fc~")
        XCTAssertEqual(PercentEncoding.decode("a+b".utf8, plusAsSpace: true), Array("a b".utf8))
        XCTAssertEqual(KVHTTPClient.kvPath(bucket: "b", key: "x/y?z#"), "/kv/b/x%2Fy%3Fz%23")
    }

    func testErrorStatuses() {
        let cases: [(KVError, UInt)] = [
            (.badParameter(name: "r", message: "m"), 400), (.tooLarge(what: "value", bytes: 2, limit: 1), 413),
            (.notFound, 404), (.preconditionFailed(message: "m"), 412), (.siblingLimit(limit: 64), 412),
            (.quorumNotMet(operation: .read, needed: 2, answered: 1, primariesNeeded: 0, primariesAnswered: 0), 503),
            (.overloaded(message: "busy"), 503), (.internalError(message: "disk"), 500),
        ]
        for (error, status) in cases {
            let response = HTTPResponder.error(error)
            XCTAssertEqual(response.status.code, status, "\(error)")
            XCTAssertEqual(response.header("Content-Type"), "application/json")
            XCTAssertEqual(response.header("Content-Length"), String(response.body.count))
            let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            XCTAssertEqual(json?["error"] as? String, error.code)
            XCTAssertEqual(json?["message"] as? String, error.message)
        }
        XCTAssertEqual(HTTPResponder.error(.overloaded(message: "busy")).header("Retry-After"), "1")
    }

    func testQuorumErrorsCarryCounts() throws {
        let write = HTTPResponder.error(
            .quorumNotMet(operation: .write, needed: 3, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        let writeJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(write.body)) as? [String: Any])
        XCTAssertEqual(writeJSON["needed"] as? Int, 3)
        XCTAssertEqual(writeJSON["acked"] as? Int, 1)
        XCTAssertNil(writeJSON["replied"])
        XCTAssertNil(writeJSON["primaries_needed"])

        let read = HTTPResponder.error(
            .quorumNotMet(operation: .read, needed: 2, answered: 0, primariesNeeded: 2, primariesAnswered: 1))
        let readJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(read.body)) as? [String: Any])
        XCTAssertEqual(readJSON["replied"] as? Int, 0)
        XCTAssertNil(readJSON["acked"])
        XCTAssertEqual(readJSON["primaries_needed"] as? Int, 2)
        XCTAssertEqual(readJSON["primaries_answered"] as? Int, 1)

        let bad = HTTPResponder.error(.badParameter(name: "w", message: "m"))
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(bad.body)) as? [String: Any])?["parameter"] as? String, "w")
    }

    private func sibling(_ value: [UInt8], actor: String = "a", type: String = "text/plain", ms: UInt64 = 1) -> Sibling {
        Sibling(
            dot: Dot(actor: actor, counter: 1), value: value, contentType: type, isTombstone: false,
            timestamp: HLCTimestamp(physicalMilliseconds: ms, logical: 0))
    }

    func testReadRendering() throws {
        let none = HTTPResponder.read(ReadResult(siblings: [], context: "", replies: 2))
        XCTAssertEqual(none.status, .notFound)
        XCTAssertNil(none.header("X-Context"))
        XCTAssertEqual(HTTPResponder.read(ReadResult(siblings: [], context: "tomb", replies: 2)).header("X-Context"), "tomb")

        let one = HTTPResponder.read(
            ReadResult(siblings: [sibling([1, 2, 3], type: "", ms: 784_111_777_000)], context: "c1", replies: 2))
        XCTAssertEqual(one.status, .ok)
        XCTAssertEqual(one.body, [1, 2, 3])
        XCTAssertEqual(one.header("Content-Type"), "application/octet-stream")
        XCTAssertEqual(one.header("X-Context"), "c1")
        XCTAssertEqual(one.header("Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT")

        let many = HTTPResponder.read(
            ReadResult(
                siblings: [sibling(Array("héllo".utf8), actor: "n1", ms: 5), sibling([0xFF, 0x00], actor: "n2", type: "x/y", ms: 6)],
                context: "c2", replies: 3))
        XCTAssertEqual(many.status, .multipleChoices)
        XCTAssertEqual(many.header("Content-Type"), "application/json")
        XCTAssertEqual(many.header("X-Context"), "c2")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(many.body)) as? [String: Any])
        XCTAssertEqual(json["context"] as? String, "c2")
        let entries = try XCTUnwrap(json["siblings"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0]["value"] as? String, "héllo")
        XCTAssertEqual(entries[0]["encoding"] as? String, "utf8")
        XCTAssertEqual(entries[0]["actor"] as? String, "n1")
        XCTAssertEqual(entries[0]["timestamp_ms"] as? Int, 5)
        XCTAssertEqual(entries[0]["content_type"] as? String, "text/plain")
        XCTAssertEqual(entries[1]["value"] as? String, "/wA=")
        XCTAssertEqual(entries[1]["encoding"] as? String, "base64")
        let decoded = try JSONDecoder().decode(HTTPSiblingsDocument.self, from: Data(many.body))
        XCTAssertEqual(decoded.siblings.map(\.bytes), [Array("héllo".utf8), [0xFF, 0x00]])
    }

    func testWriteRendering() {
        let blind = HTTPResponder.write(WriteResult(context: "", acks: 2))
        XCTAssertEqual(blind.status, .noContent)
        XCTAssertNil(blind.header("X-Context"))
        XCTAssertNil(blind.header("Content-Length"), "no Content-Length on 204 (RFC 9110)")
        XCTAssertEqual(HTTPResponder.write(WriteResult(context: "v", acks: 2)).header("X-Context"), "v")
    }

    func testPropsUpdateDecoding() throws {
        func decode(_ text: String) throws(KVError) -> BucketPropsUpdate {
            try HTTPBucketPropsUpdateDecoder.decode(Array(text.utf8))
        }
        XCTAssertEqual(
            try decode(#"{"n":5,"r":2,"w":"ALL","conflict":"vclock"}"#),
            BucketPropsUpdate(n: 5, r: .count(2), w: .all, conflict: .vclock))
        XCTAssertEqual(try decode("{}"), BucketPropsUpdate())
        XCTAssertThrowsError(try decode(#"{"conflict":"xyz"}"#)) { error in
            XCTAssertEqual(
                error as? KVError,
                .badParameter(name: "conflict", message: "unknown conflict mode \"xyz\": expected lww or vclock"))
        }
        XCTAssertThrowsError(try decode(#"{"replicas":3}"#)) { error in
            guard case .badParameter("replicas", let message)? = error as? KVError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("unknown bucket property"), message)
        }
        for bad in [#"{"n":true}"#, #"{"n":2.5}"#, #"{"n":0}"#, #"{"n":99}"#, #"{"r":"most"}"#, #"{"w":-1}"#, "[1]", "", "{"] {
            XCTAssertThrowsError(try decode(bad), bad) { error in
                XCTAssertEqual((error as? KVError)?.code, "bad_parameter", bad)
            }
        }
    }

    func testBucketPropsDocument() throws {
        let response = HTTPResponder.bucketProps(bucket: "b", props: BucketProps(n: 5, r: .count(2), w: .quorum, conflict: .vclock))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        XCTAssertEqual(json["bucket"] as? String, "b")
        XCTAssertEqual(json["n"] as? Int, 5)
        XCTAssertEqual(json["r"] as? Int, 2)
        XCTAssertEqual(json["w"] as? String, "quorum")
        XCTAssertEqual(json["conflict"] as? String, "vclock")
    }

    func testRouteErrorRendering() {
        let notAllowed = HTTPResponder.routeError(.methodNotAllowed(allowed: ["GET", "PUT"]))
        XCTAssertEqual(notAllowed.status, .methodNotAllowed)
        XCTAssertEqual(notAllowed.header("Allow"), "GET, PUT")
        let unknown = HTTPResponder.routeError(.unknownRoute(path: "/x"))
        XCTAssertEqual(unknown.status, .notFound)
        XCTAssertTrue(String(decoding: unknown.body, as: UTF8.self).contains(#""error":"not_found""#))
    }

    func testAPIWithoutSockets() async throws {
        let service = HTTPFakeKVService()
        var limits = Limits()
        limits.valueBytesMax = 8
        let put = await HTTPAPI.respond(
            to: HTTPAPIRequest(
                method: "PUT", uri: "/kv/b/k?w=2", headers: HTTPHeaders([("X-Context", "abc")]), body: [1, 2, 3]),
            service: service, limits: limits)
        XCTAssertEqual(put.status, .noContent)
        XCTAssertEqual(
            service.lastCall,
            .init(
                operation: "put", bucket: "b", key: Array("k".utf8), context: "abc",
                contentType: "application/octet-stream", options: RequestOptions(w: .count(2)),
                conditions: WriteConditions()))
        let tooBig = await HTTPAPI.respond(
            to: HTTPAPIRequest(method: "PUT", uri: "/kv/b/k", body: Array(repeating: 0, count: 9)), service: service,
            limits: limits)
        XCTAssertEqual(tooBig.status, .payloadTooLarge)
        let get = await HTTPAPI.respond(to: HTTPAPIRequest(method: "GET", uri: "/kv/b/k"), service: service, limits: limits)
        XCTAssertEqual(get.status, .ok)
        XCTAssertEqual(get.body, [1, 2, 3])
    }

    func testClientEndpointParsingAndQuery() async {
        XCTAssertEqual(
            RequestOptions(n: 3, r: .quorum, w: .count(2), pr: .one, pw: .all, timeoutMilliseconds: 10).queryItems.map { "\($0.0)=\($0.1)" },
            ["n=3", "r=quorum", "w=2", "pr=one", "pw=all", "timeout=10"])
        for bad in ["https://", "https://h:1/path", "ftp://x", "http://", "http://h:0", "http://h:99999", "http://h:1/path", "http://h:x"] {
            do {
                _ = try await KVHTTPClient(baseURL: bad).send(method: "GET", path: "/health", timeout: .seconds(1))
                XCTFail("\(bad) should be invalid")
            } catch {
                XCTAssertEqual(error, .invalidEndpoint(bad))
            }
        }
    }

    func testHTTPDate() {
        XCTAssertEqual(HTTPDate.format(milliseconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(milliseconds: 951_782_400_000), "Tue, 29 Feb 2000 00:00:00 GMT")
    }
}
