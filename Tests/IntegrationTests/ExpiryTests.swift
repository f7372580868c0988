import Foundation
import XCTest

/// Expiry with real processes: Redis's expiry commands and replies through `redis-cli`,
/// HTTP's `ttl`, and, under SIGKILL and SIGSTOP, no expired key read back from any node
/// at any r while hints and anti-entropy run, until the expired versions are purged.
final class ExpiryTests: XCTestCase {
    private var cluster: ClusterHarness!

    override func setUp() async throws {
        // Frequent anti-entropy and a short grace, so repair and purges happen within the test.
        cluster = try await ClusterHarness(
            nodes: 3, extraArguments: ["--tombstone-grace", "3000", "--anti-entropy-interval", "100"])
    }

    override func tearDown() async throws {
        cluster?.shutdown()
    }

    private func cli(_ node: Int, _ arguments: String...) async throws -> String {
        try await RESPTools.redisCLI(port: cluster.respPort(node), arguments).output
    }

    private func integer(_ output: String) -> Int? { Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) }

    // MARK: RESP

    // Remaining times are checked within 10–15 s of the ttl: a loaded machine may take
    // seconds between two commands.

    func testRedisExpiryCommandsAnswerAsRedisDoes() async throws {
        _ = try RESPTools.tool("redis-cli")
        try await eventually("node 1 answers PING on its RESP port", seconds: 15) { try await self.cli(0, "PING") == "PONG\n" }
        let set = try await cli(0, "SET", "session", "v1", "EX", "100", "W", "3")
        XCTAssertEqual(set, "OK\n")
        let ttlText = try await cli(1, "TTL", "session")
        let ttl = try XCTUnwrap(integer(ttlText))
        XCTAssertTrue((90...100).contains(ttl), "TTL \(ttl)")
        let pttlText = try await cli(2, "PTTL", "session")
        let pttl = try XCTUnwrap(integer(pttlText))
        XCTAssertTrue((85_000...100_000).contains(pttl), "PTTL \(pttl)")
        let expireTimeText = try await cli(0, "EXPIRETIME", "session")
        let expireTime = try XCTUnwrap(integer(expireTimeText))
        XCTAssertEqual(Double(expireTime), Date().timeIntervalSince1970 + 100, accuracy: 15)
        let missingTTL = try await cli(0, "TTL", "missing")
        XCTAssertEqual(missingTTL, "-2\n")

        // PERSIST removes it once; then the key has no ttl.
        let persisted = try await cli(1, "PERSIST", "session")
        XCTAssertEqual(persisted, "1\n")
        let noTTL = try await cli(2, "TTL", "session")
        XCTAssertEqual(noTTL, "-1\n")
        let persistAgain = try await cli(0, "PERSIST", "session")
        XCTAssertEqual(persistAgain, "0\n")

        // EXPIRE's NX XX GT LT are judged on what the read found.
        let xxWithout = try await cli(0, "EXPIRE", "session", "50", "XX")
        XCTAssertEqual(xxWithout, "0\n")
        let nxWithout = try await cli(0, "EXPIRE", "session", "50", "NX")
        XCTAssertEqual(nxWithout, "1\n")
        let nxWith = try await cli(1, "EXPIRE", "session", "70", "NX")
        XCTAssertEqual(nxWith, "0\n")
        let gt = try await cli(2, "EXPIRE", "session", "200", "GT")
        XCTAssertEqual(gt, "1\n")
        let ltNo = try await cli(0, "PEXPIRE", "session", "300000", "LT")
        XCTAssertEqual(ltNo, "0\n")
        let ttlAfterGTText = try await cli(0, "TTL", "session")
        let ttlAfterGT = try XCTUnwrap(integer(ttlAfterGTText))
        XCTAssertTrue((185...200).contains(ttlAfterGT), "TTL \(ttlAfterGT)")
        let incompatible = try await cli(0, "EXPIRE", "session", "5", "NX", "XX")
        XCTAssertEqual(incompatible.trimmingCharacters(in: .whitespacesAndNewlines), "ERR NX and XX, GT or LT options at the same time are not compatible")
        let expireMissing = try await cli(0, "EXPIRE", "missing", "5")
        XCTAssertEqual(expireMissing, "0\n")

        // SET without KEEPTTL clears the ttl; with KEEPTTL it keeps it.
        _ = try await cli(1, "SET", "session", "v2", "W", "3")
        let cleared = try await cli(0, "TTL", "session")
        XCTAssertEqual(cleared, "-1\n")
        _ = try await cli(0, "SETEX", "session", "100", "v3")
        _ = try await cli(2, "SET", "session", "v4", "KEEPTTL", "W", "3")
        let keptText = try await cli(1, "TTL", "session")
        let kept = try XCTUnwrap(integer(keptText))
        XCTAssertTrue((85...100).contains(kept), "TTL after KEEPTTL \(kept)")
        let value = try await cli(1, "GET", "session")
        XCTAssertEqual(value, "v4\n")

        // GETEX reads and changes the ttl.
        let getex = try await cli(0, "GETEX", "session", "PERSIST")
        XCTAssertEqual(getex, "v4\n")
        let afterGetex = try await cli(2, "TTL", "session")
        XCTAssertEqual(afterGetex, "-1\n")

        // Errors in Redis's words.
        let zero = try await cli(0, "SET", "k", "v", "EX", "0")
        XCTAssertEqual(zero.trimmingCharacters(in: .whitespacesAndNewlines), "ERR invalid expire time in 'set' command")
        let word = try await cli(0, "SET", "k", "v", "PX", "soon")
        XCTAssertEqual(word.trimmingCharacters(in: .whitespacesAndNewlines), "ERR value is not an integer or out of range")
        let setexZero = try await cli(0, "SETEX", "k", "-5", "v")
        XCTAssertEqual(setexZero.trimmingCharacters(in: .whitespacesAndNewlines), "ERR invalid expire time in 'setex' command")
        let both = try await cli(0, "SET", "k", "v", "EX", "5", "PX", "5000")
        XCTAssertEqual(both.trimmingCharacters(in: .whitespacesAndNewlines), "ERR syntax error")

        // A short ttl: the key is gone from every node once it passed.
        _ = try await cli(0, "PSETEX", "short", "300", "soon-gone")
        try await eventually("the short-lived key reads absent on every node", seconds: 20) {
            for node in 0..<3 where try await self.cli(node, "GET", "short") != "\n" { return false }
            return true
        }
        let gone = try await cli(1, "TTL", "short")
        XCTAssertEqual(gone, "-2\n")
        // EXPIRE with a past time expires at once, as Redis deletes the key.
        let past = try await cli(0, "EXPIRE", "session", "-1")
        XCTAssertEqual(past, "1\n")
        let deleted = try await cli(2, "GET", "session", "R", "3")
        XCTAssertEqual(deleted, "\n")
    }

    // MARK: HTTP

    func testHTTPTTLParameterHeaderAndBucketDefault() async throws {
        let client = cluster.client(0)
        let put = try await client.put("h1", "v", query: [("ttl", "100"), ("w", "3")])
        XCTAssertEqual(put.status, 204, put.text)
        let read = try await cluster.client(1).get("h1")
        XCTAssertEqual(read.text, "v")
        let remaining = try XCTUnwrap(read.header("X-TTL").flatMap { Int($0) })
        XCTAssertTrue((90...100).contains(remaining), "X-TTL \(remaining)")

        let viaHeader = try await client.request(
            "PUT", "/kv/default/h2", headers: [("Content-Type", "text/plain"), ("X-TTL", "50")], body: Array("v".utf8))
        XCTAssertEqual(viaHeader.status, 204, viaHeader.text)
        let h2 = try await cluster.client(2).get("h2")
        XCTAssertNotNil(h2.header("X-TTL"))
        let plain = try await client.put("h3", "v")
        XCTAssertEqual(plain.status, 204)
        let h3 = try await client.get("h3")
        XCTAssertNil(h3.header("X-TTL"), "no ttl, no header")

        for bad in ["0", "soon", "-3", "99999999999999"] {
            let response = try await client.put("h4", "v", query: [("ttl", bad)])
            XCTAssertEqual(response.status, 400, "ttl=\(bad): \(response.text)")
            XCTAssertEqual(response.json["error"] as? String, "bad_parameter")
            XCTAssertTrue((response.json["message"] as? String ?? "").contains("whole number of seconds"), response.text)
        }
        let onGet = try await client.get("h1", query: [("ttl", "5")])
        XCTAssertEqual(onGet.status, 400, onGet.text)

        // A bucket's default ttl applies to writes that give none.
        let props = try await client.setProps("sessions", #"{"ttl_seconds":60}"#)
        XCTAssertEqual(props.status, 200, props.text)
        XCTAssertEqual(props.json["ttl_seconds"] as? Int, 60)
        try await eventually("every node has the sessions props") {
            for node in 0..<3 {
                let read = try await self.cluster.client(node).request("GET", "/buckets/sessions/props")
                if read.json["ttl_seconds"] as? Int != 60 { return false }
            }
            return true
        }
        _ = try await cluster.client(1).put("s1", "v", bucket: "sessions", query: [("w", "3")])
        let s1 = try await cluster.client(2).get("s1", bucket: "sessions")
        let defaultTTL = try XCTUnwrap(s1.header("X-TTL").flatMap { Int($0) })
        XCTAssertTrue((45...60).contains(defaultTTL), "X-TTL \(defaultTTL)")
        let badProps = try await client.setProps("sessions", #"{"ttl_seconds":"long"}"#)
        XCTAssertEqual(badProps.status, 400, badProps.text)
    }

    // MARK: Faults

    /// Keys written with short ttls while a replica is killed and another frozen: after
    /// their deadlines, no read at r = 1, 2 or 3 on any node returns one, while the killed
    /// node restarts, the frozen one thaws, hints are delivered and anti-entropy runs;
    /// the keys without a ttl stay; and the expired versions are purged everywhere.
    func testNoExpiredKeyIsReadBackThroughKillsFreezesHintsAndAntiEntropy() async throws {
        let ttlSeconds = 3
        var expiring: [String] = []
        var started = Date()
        func write(_ key: String, w: Int, via node: Int, ttl: Bool) async throws {
            let response = try await cluster.client(node).put(
                key, "value-\(key)", query: (ttl ? [("ttl", String(ttlSeconds))] : []) + [("w", String(w)), ("timeout", "5000")])
            XCTAssertEqual(response.status, 204, "\(key): \(response.text)")
            if ttl { expiring.append(key) }
        }
        let kept = (0..<6).map { "kept-\($0)" }
        for key in kept { try await write(key, w: 3, via: 0, ttl: false) }
        started = Date()
        // Batch A: every replica takes it.
        for index in 0..<8 { try await write("a-\(index)", w: 3, via: index % 3, ttl: true) }
        // Batch B: node 3 killed; the coordinator keeps hints for it.
        cluster.signal(2, SIGKILL)
        for index in 0..<8 { try await write("b-\(index)", w: 2, via: index % 2, ttl: true) }
        // Batch C: node 2 frozen too; only node 1 takes it, hints for both others.
        cluster.signal(1, SIGSTOP)
        var thawed = false
        defer { if !thawed { cluster.signal(1, SIGCONT) } }
        for index in 0..<8 { try await write("c-\(index)", w: 1, via: 0, ttl: true) }
        let lastWrite = Date()

        // Until every deadline passed (by the coordinators' clocks, this machine's), the
        // keys are still readable at r=1 from node 1.
        try await eventually("every ttl key reads absent on node 1", seconds: Double(ttlSeconds) + 30) {
            for key in expiring {
                let response = try await self.cluster.client(0).get(key, query: [("r", "1"), ("timeout", "1000")])
                if response.status != 404 { return false }
            }
            return true
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), Double(ttlSeconds) - 0.5, "not before the ttl")
        _ = lastWrite

        // Bring the replicas back: the frozen one holds batches A and B in full, the killed
        // one missed B and C and gets them as hints after their deadlines.
        cluster.signal(1, SIGCONT)
        thawed = true
        try await cluster.restart(2)

        var violations: [String] = []
        func sweep() async throws {
            for node in 0..<3 {
                for r in 1...3 {
                    for key in expiring {
                        let response = try await cluster.client(node).get(key, query: [("r", String(r)), ("timeout", "2000")])
                        if response.status == 200 { violations.append("node \(node + 1) r=\(r) \(key): \(response.text)") }
                    }
                }
            }
        }
        // Read every expired key everywhere while hints drain and anti-entropy repairs,
        // until every expired version is purged from every store.
        try await eventually("the expired versions are purged from every replica", seconds: 150) {
            try await sweep()
            for node in 0..<3 {
                let status = try await self.cluster.client(node).request("GET", "/status").json
                let keys = (status["storage"] as? [String: Any])?["keys"] as? Int ?? -1
                let hints = status["hints_pending"] as? Int ?? -1
                if keys != kept.count || hints != 0 { return false }
            }
            return true
        }
        try await sweep()
        XCTAssertEqual(violations, [], "expired keys read back")
        for key in kept {
            for node in 0..<3 {
                let response = try await cluster.client(node).get(key, query: [("r", "3")])
                XCTAssertEqual(response.text, "value-\(key)", "\(key) has no ttl and stays, node \(node + 1)")
            }
        }
        var expiredCount = 0
        var purgedCount = 0
        for node in 0..<3 {
            let status = try await cluster.client(node).request("GET", "/status").json
            expiredCount += (status["expiry"] as? [String: Any])?["versions_expired"] as? Int ?? 0
            purgedCount += (status["anti_entropy"] as? [String: Any])?["expired_purged"] as? Int ?? 0
        }
        XCTAssertGreaterThan(expiredCount, 0, "replicas stripped expired versions")
        // At least once each: a hint delivered after a purge brings back the stripped form
        // (harmless: it is a tombstone), which a later pass purges again.
        XCTAssertGreaterThanOrEqual(purgedCount, expiring.count, "every expired key purged")
        let metrics = try await cluster.client(0).request("GET", "/metrics").text
        XCTAssertTrue(metrics.contains("quorumkv_expired_versions_total"), "metrics name the expirations")
        XCTAssertTrue(metrics.contains("quorumkv_expired_purged_total"))
    }
}
