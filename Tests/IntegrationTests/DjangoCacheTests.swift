import Foundation
import XCTest

/// Django's cache framework, through django-redis, against a real three-node cluster, as a
/// Django site uses it for its cache and sessions: `scripts/django-cache-check.py` sets
/// with timeouts, gets through every node, adds, touches, reads ttls, gets and sets many
/// (a MULTI/EXEC pipeline), waits for keys to expire on every node, stores a session, and
/// clears the cache (FLUSHDB); it exits non-zero with what differed. Skipped, saying why,
/// only when python3, Django or django-redis is missing (`scripts/setup-test-tools.sh`
/// installs them).
final class DjangoCacheTests: ClusterTestCase {
    /// The cache's database number: bucket `db21`.
    private static let database = 21

    func testDjangoCacheThroughDjangoRedis() async throws {
        let python = try await PythonClients.python(importing: "django, django_redis")
        // w=all: a value written through one node reads back through any other at once.
        let props = try await cluster.client(0).setProps("db\(Self.database)", #"{"w": "all"}"#)
        XCTAssertEqual(props.status, 200, props.text)
        try await eventually("every node has w=all for the cache's bucket", seconds: 30) {
            for index in 0..<3 {
                let response = try await self.cluster.client(index).request("GET", "/buckets/db\(Self.database)/props")
                guard response.json["w"] as? String == "all" else { return false }
            }
            return true
        }
        let ports = (0..<3).map { String(cluster.respPort($0)) }.joined(separator: ",")
        let result = try await RESPTools.run(
            python, [PythonClients.script("django-cache-check.py"), "--ports", ports, "--database", String(Self.database)], timeoutSeconds: 300)
        print(result.output)
        XCTAssertEqual(result.status, 0, "Django cache check failed:\n\(result.output)\n\(result.errors)")
        XCTAssertTrue(result.output.contains("django cache check: ok"), result.output + result.errors)
    }
}
