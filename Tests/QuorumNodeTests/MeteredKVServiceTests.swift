import QuorumCore
import XCTest

@testable import QuorumNode

/// Key requests that reach the node through the metered service (the RESP server's path)
/// show in the same request metrics as HTTP's: counted by outcome, timed by consistency.
final class MeteredKVServiceTests: XCTestCase {
    func testGetsPutsAndFailuresAreCountedAndTimed() async throws {
        let fake = HTTPFakeKVService()
        let metrics = NodeMetrics()
        let service = MeteredKVService(base: fake, metrics: metrics, limits: .defaults)
        var options = RequestOptions()
        options.w = .count(2)
        _ = try await service.put(bucket: "b", key: Array("k".utf8), value: Array("v".utf8), contentType: "text/plain", context: nil, options: options)
        _ = try await service.get(bucket: "b", key: Array("k".utf8), options: RequestOptions())
        _ = try await service.get(bucket: "b", key: Array("absent".utf8), options: RequestOptions())
        fake.fail(with: .quorumNotMet(operation: .read, needed: 2, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        do {
            _ = try await service.get(bucket: "b", key: Array("k".utf8), options: RequestOptions())
            XCTFail("the fake was told to fail")
        } catch {
            XCTAssertEqual(error.code, "quorum_not_met")
        }

        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        for line in [
            #"quorumkv_http_requests_total{operation="put",status="204"} 1"#,
            #"quorumkv_http_requests_total{operation="get",status="200"} 1"#,
            #"quorumkv_http_requests_total{operation="get",status="404"} 1"#,
            #"quorumkv_http_requests_total{operation="get",status="503"} 1"#,
            #"quorumkv_quorum_failures_total{operation="get"} 1"#,
            #"quorumkv_request_duration_seconds_count{operation="put",consistency="2"} 1"#,
            #"quorumkv_request_duration_seconds_count{operation="get",consistency="default"} 3"#,
            "quorumkv_requests_in_flight 0",
        ] {
            XCTAssertTrue(text.contains(line), "missing \(line) in:\n\(text)")
        }
        XCTAssertEqual(metrics.recent.summaries().map(\.operation).sorted(), ["get", "put"])
    }
}
