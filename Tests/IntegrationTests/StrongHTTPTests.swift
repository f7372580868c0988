import Foundation
import QuorumCore
import QuorumNode
import XCTest

/// Strong buckets over HTTP and the `quorumkv` command line on a real three-node cluster
/// (issue #17, docs/strong.md): creation fixed on every member, ETags, `If-Match`,
/// `If-None-Match: *`, 412 with the current ETag, and what strong and eventual buckets
/// refuse. The props tests need no consensus; the others need the SQLite Paxos rows.
final class StrongHTTPTests: ClusterTestCase {
    private var curl: Curl!
    private var cli: CLIRunner!

    override func setUp() async throws {
        try await super.setUp()
        curl = try Curl(base: cluster.endpoint(0))
        cli = try CLIRunner()
    }

    private func quorumkv(_ arguments: [String], node: Int = 0) async throws -> CLIRunner.Run {
        try await cli.run(arguments + ["--endpoint", cluster.endpoint(node)])
    }

    private func createStrong(_ bucket: String) async throws {
        let created = try await curl.request("PUT", "/buckets/\(bucket)/props", body: #"{"consistency":"strong"}"#)
        XCTAssertEqual(created.status, 200, created.description)
        XCTAssertEqual(created.json["consistency"] as? String, "strong", created.description)
    }

    /// A new cluster's stores start empty, so each catches up before it votes on strong
    /// keys (`PaxosCatchUpDriver`: every member's clock read, a floor saved); strong
    /// requests answer 503 until a majority of a key's primaries have. Waits until a read
    /// of a key nobody wrote answers 404 through every node.
    private func waitUntilCaughtUp(_ bucket: String) async throws {
        try await eventually("every node's store has caught up and votes on strong keys", seconds: StrongHTTPBounds.catchUpSeconds) {
            for node in 0..<3 {
                let probe = try await Curl(base: self.cluster.endpoint(node)).request("GET", "/kv/\(bucket)/catch-up-probe")
                guard probe.status == 404 else { return false }
            }
            return true
        }
    }

    // MARK: - Props (no consensus needed)

    func testStrongCreationIsFixedAndEveryMemberHasIt() async throws {
        try await createStrong("accounts")
        for node in 0..<3 {
            let props = try await KVHTTPClient(baseURL: cluster.endpoint(node)).bucketProps(bucket: "accounts")
            XCTAssertEqual(props.consistency, .strong, "node \(node) adopted the props before the creation was acknowledged")
        }
        let again = try await curl.request("PUT", "/buckets/accounts/props", body: #"{"consistency":"strong","n":3}"#)
        XCTAssertEqual(again.status, 200, "repeating the creation is no change: \(again)")

        let refusals: [(body: String, parameter: String)] = [
            (#"{"n":2}"#, "n"), (#"{"ttl_seconds":60}"#, "ttl_seconds"), (#"{"datatype":"counter"}"#, "datatype"),
            (#"{"consistency":"eventual"}"#, "consistency"),
        ]
        for refusal in refusals {
            let response = try await curl.request("PUT", "/buckets/accounts/props", body: refusal.body)
            XCTAssertEqual(response.status, 400, "\(refusal.body): \(response)")
            XCTAssertEqual(response.json["parameter"] as? String, refusal.parameter, "\(refusal.body): \(response)")
        }
        let rw = try await curl.request("PUT", "/buckets/accounts/props", body: #"{"r":"all"}"#)
        XCTAssertEqual(rw.status, 200, "r and w are accepted (and unused): \(rw)")
        XCTAssertEqual(rw.json["consistency"] as? String, "strong")

        _ = try await curl.request("PUT", "/buckets/plain/props", body: #"{"conflict":"vclock"}"#)
        let late = try await curl.request("PUT", "/buckets/plain/props", body: #"{"consistency":"strong"}"#)
        XCTAssertEqual(late.status, 400, late.description)
        XCTAssertTrue((late.json["message"] as? String ?? "").contains("fixed when it is created"), late.description)
        let plain = try await curl.request("GET", "/buckets/plain/props")
        XCTAssertEqual(plain.json["consistency"] as? String, "eventual")
    }

    func testEventualBucketsRefuseIfMatchAndStrongBucketsRefusePerRequestLevels() async throws {
        let ifMatch = try await curl.request("PUT", "/kv/plain/k", headers: [#"If-Match: "abc""#], body: "v")
        XCTAssertEqual(ifMatch.status, 400, ifMatch.description)
        XCTAssertTrue((ifMatch.json["message"] as? String ?? "").contains("strong bucket"), ifMatch.description)

        try await createStrong("accounts")
        for query in ["w=2", "r=all", "n=2"] {
            let response = try await curl.request("PUT", "/kv/accounts/k?\(query)", body: "v")
            XCTAssertEqual(response.status, 400, "\(query): \(response)")
        }
        let ttl = try await curl.request("PUT", "/kv/accounts/k?ttl=60", body: "v")
        XCTAssertEqual(ttl.status, 400, ttl.description)
    }

    func testCLICreatesAndShowsAStrongBucket() async throws {
        let created = try await quorumkv(["bucket", "create", "--bucket", "locks", "--consistency", "strong", "--json"])
        XCTAssertEqual(created.status, 0, created.description)
        XCTAssertEqual(created.json["consistency"] as? String, "strong", created.description)
        let shown = try await quorumkv(["bucket", "show", "--bucket", "locks"], node: 2)
        XCTAssertEqual(shown.status, 0, shown.description)
        XCTAssertTrue(shown.text.contains("consistency=strong"), shown.description)
        let changed = try await quorumkv(["bucket", "create", "--bucket", "locks", "--n", "2"])
        XCTAssertEqual(changed.status, 2, "a refused change is a usage error: \(changed)")
        XCTAssertTrue(changed.stderr.contains("error: bad_parameter:") && changed.stderr.contains("n (3) is fixed"), changed.stderr)
        let bad = try await quorumkv(["bucket", "create", "--bucket", "x", "--consistency", "linearizable"])
        XCTAssertEqual(bad.status, 2, bad.description)
    }

    // MARK: - Reads and writes (need the storage side of strong buckets)

    func testETagsAndConditionalWritesAcrossNodes() async throws {
        try await createStrong("accounts")
        try await waitUntilCaughtUp("accounts")
        let absent = try await curl.request("GET", "/kv/accounts/alice")
        XCTAssertEqual(absent.status, 404, absent.description)

        let created = try await curl.request("PUT", "/kv/accounts/alice", headers: ["If-None-Match: *", "Content-Type: text/plain"], body: "100")
        XCTAssertEqual(created.status, 204, created.description)
        let first = try XCTUnwrap(created.header("ETag"), created.description)

        let other = try Curl(base: cluster.endpoint(2))
        let read = try await other.request("GET", "/kv/accounts/alice")
        XCTAssertEqual(read.status, 200, read.description)
        XCTAssertEqual(read.text, "100")
        XCTAssertEqual(read.header("Content-Type"), "text/plain")
        XCTAssertEqual(read.header("ETag"), first, "another node reads the same commit")

        let replaced = try await other.request("PUT", "/kv/accounts/alice", headers: ["If-Match: \(first)"], body: "90")
        XCTAssertEqual(replaced.status, 204, replaced.description)
        let second = try XCTUnwrap(replaced.header("ETag"))
        XCTAssertNotEqual(second, first)

        let stale = try await curl.request("PUT", "/kv/accounts/alice", headers: ["If-Match: \(first)"], body: "80")
        XCTAssertEqual(stale.status, 412, stale.description)
        XCTAssertEqual(stale.header("ETag"), second, "412 carries the current ETag")
        XCTAssertEqual(stale.json["error"] as? String, "precondition_failed")
        let taken = try await curl.request("PUT", "/kv/accounts/alice", headers: ["If-None-Match: *"], body: "1")
        XCTAssertEqual(taken.status, 412, taken.description)

        let deleted = try await curl.request("DELETE", "/kv/accounts/alice", headers: ["If-Match: \(second)"])
        XCTAssertEqual(deleted.status, 204, deleted.description)
        let gone = try await other.request("GET", "/kv/accounts/alice")
        XCTAssertEqual(gone.status, 404, gone.description)
        XCTAssertNil(gone.header("ETag"))
        let staleDelete = try await curl.request("DELETE", "/kv/accounts/alice", headers: ["If-Match: \(second)"])
        XCTAssertEqual(staleDelete.status, 412, staleDelete.description)
        XCTAssertNil(staleDelete.header("ETag"), "no value, no ETag")
    }

    func testCLIConditionalWrites() async throws {
        let created = try await quorumkv(["bucket", "create", "--bucket", "locks", "--consistency", "strong"])
        XCTAssertEqual(created.status, 0, created.description)
        try await waitUntilCaughtUp("locks")
        let take = try await quorumkv(["put", "job", "me", "--bucket", "locks", "--if-absent", "--json"])
        XCTAssertEqual(take.status, 0, take.description)
        let tag = try XCTUnwrap(take.json["etag"] as? String, take.description)
        let again = try await quorumkv(["put", "job", "you", "--bucket", "locks", "--if-absent"], node: 1)
        XCTAssertEqual(again.status, 6, "a failed condition exits 6: \(again)")
        XCTAssertTrue(again.stderr.contains("error: precondition_failed:"), again.stderr)

        let read = try await quorumkv(["get", "job", "--bucket", "locks", "--json"], node: 2)
        XCTAssertEqual(read.json["etag"] as? String, tag, read.description)
        let verbose = try await quorumkv(["get", "job", "--bucket", "locks", "-v"])
        XCTAssertEqual(verbose.text, "me")
        XCTAssertTrue(verbose.stderr.contains("etag: \(tag)"), verbose.stderr)

        let moved = try await quorumkv(["put", "job", "you", "--bucket", "locks", "--if-match", tag, "-v"])
        XCTAssertEqual(moved.status, 0, moved.description)
        XCTAssertTrue(moved.stderr.contains("etag: "), moved.stderr)
        let stale = try await quorumkv(["delete", "job", "--bucket", "locks", "--if-match", tag])
        XCTAssertEqual(stale.status, 6, stale.description)
        let both = try await quorumkv(["put", "job", "x", "--bucket", "locks", "--if-match", tag, "--if-absent"])
        XCTAssertEqual(both.status, 2, both.description)
    }
}

/// The bounds of these tests, in one place.
private enum StrongHTTPBounds {
    /// A new cluster's catch-up: a few gossip rounds once every node is up.
    static let catchUpSeconds = 30.0
}
