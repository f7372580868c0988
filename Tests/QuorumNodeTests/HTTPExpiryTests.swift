import NIOHTTP1
import QuorumCore
import XCTest

@testable import QuorumNode

/// Expiry over HTTP without a network: the `ttl` parameter and `X-TTL` header of a PUT,
/// the remaining time a GET answers, a bucket's `ttl_seconds`, and the shell's `PUTEX`.
final class HTTPExpiryTests: XCTestCase {
    func testTheTTLParameterIsParsedOnPutOnly() throws {
        XCTAssertEqual(
            try HTTPRoute.parse(method: "PUT", uri: "/kv/b/k?ttl=30&w=2"),
            .putKey(bucket: "b", key: Array("k".utf8), options: RequestOptions(w: .count(2)), returnBody: false, ttlSeconds: 30))
        for bad in ["0", "-1", "x", "1.5", "3153600001"] {
            XCTAssertThrowsError(try HTTPRoute.parse(method: "PUT", uri: "/kv/b/k?ttl=\(bad)"), bad) { error in
                guard case .invalid(.badParameter(let name, let message)) = error as? HTTPRouteError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "ttl")
                XCTAssertTrue(message.contains("whole number of seconds from 1 to 3153600000"), message)
            }
        }
        XCTAssertThrowsError(try HTTPRoute.parse(method: "GET", uri: "/kv/b/k?ttl=5"))
        XCTAssertThrowsError(try HTTPRoute.parse(method: "PUT", uri: "/kv/b/k?ttl=5&ttl=6"))
    }

    func testTheHeaderAndTheParameterMustAgree() throws {
        let limits = Limits.defaults
        XCTAssertEqual(try HTTPExpiryHeaders.ttlSeconds(parameter: nil, headers: HTTPHeaders([("X-TTL", " 40 ")]), limits: limits), 40)
        XCTAssertEqual(try HTTPExpiryHeaders.ttlSeconds(parameter: 40, headers: HTTPHeaders([("X-TTL", "40")]), limits: limits), 40)
        XCTAssertNil(try HTTPExpiryHeaders.ttlSeconds(parameter: nil, headers: HTTPHeaders(), limits: limits))
        XCTAssertThrowsError(try HTTPExpiryHeaders.ttlSeconds(parameter: 40, headers: HTTPHeaders([("X-TTL", "41")]), limits: limits))
        XCTAssertThrowsError(try HTTPExpiryHeaders.ttlSeconds(parameter: nil, headers: HTTPHeaders([("X-TTL", "soon")]), limits: limits))
    }

    func testAReadAnswersTheRemainingTimeRoundedUp() {
        let version = Sibling(
            dot: Dot(actor: "a", counter: 1), value: Array("v".utf8), contentType: "text/plain", isTombstone: false,
            timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0),
            expiry: ExpiryRegister(deadlineMilliseconds: 10_000, stamp: .zero))
        let response = HTTPResponder.read(ReadResult(siblings: [version], context: "", replies: 1), nowMilliseconds: 8_001)
        XCTAssertEqual(response.header("X-TTL"), "2")
        var plain = version
        plain.expiry = .none
        XCTAssertNil(HTTPResponder.read(ReadResult(siblings: [plain], context: "", replies: 1), nowMilliseconds: 0).header("X-TTL"))
        let written = HTTPResponder.writeReturningBody(WriteResult(context: "", acks: 2, siblings: [version]), nowMilliseconds: 8_001)
        XCTAssertEqual(written.header("X-TTL"), "2", "a PUT with returnbody answers like a GET of the key")
    }

    func testBucketPropsTakeADefaultTTL() throws {
        XCTAssertEqual(try HTTPBucketPropsUpdateDecoder.decode(Array(#"{"ttl_seconds":60}"#.utf8)).ttlSeconds, 60)
        XCTAssertEqual(try HTTPBucketPropsUpdateDecoder.decode(Array(#"{"ttl_seconds":0}"#.utf8)).ttlSeconds, 0, "0 removes it")
        XCTAssertThrowsError(try HTTPBucketPropsUpdateDecoder.decode(Array(#"{"ttl_seconds":-1}"#.utf8)))
        XCTAssertThrowsError(try HTTPBucketPropsUpdateDecoder.decode(Array(#"{"ttl_seconds":"1h"}"#.utf8)))
        let document = HTTPBucketPropsDocument(bucket: "s", props: BucketProps(ttlSeconds: 60))
        XCTAssertTrue(String(decoding: HTTPJSON.encode(document), as: UTF8.self).contains(#""ttl_seconds":60"#))
    }

    func testTheShellWritesWithATTL() throws {
        XCTAssertEqual(try ShellCommandParser.parse("PUTEX session 30 token value"), .put(key: "session", value: "token value", ttlSeconds: 30))
        XCTAssertEqual(try ShellCommandParser.parse(#"setex k 5 "quoted v""#), .put(key: "k", value: "quoted v", ttlSeconds: 5))
        XCTAssertThrowsError(try ShellCommandParser.parse("PUTEX k soon v"))
        XCTAssertThrowsError(try ShellCommandParser.parse("PUTEX k 5"))
    }
}
