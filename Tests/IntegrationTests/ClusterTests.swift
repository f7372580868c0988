import Foundation
import XCTest

/// A real three-node cluster: separate processes, loopback sockets, SQLite files.
/// One cluster serves the tests that don't stop nodes, to keep the suite fast.
final class ClusterTests: ClusterTestCase {
    func testEveryWriteAndReadQuorumForNThree() async throws {
        for w in 1...3 {
            for r in 1...3 {
                let key = "wr-\(w)-\(r)"
                let writer = cluster.client((w + r) % 3)
                let reader = cluster.client((w + r + 1) % 3)
                let put = try await writer.put(key, "value \(w)\(r)", query: [("w", String(w))])
                XCTAssertEqual(put.status, 204, "w=\(w): \(put.text)")
                if w + r > 3 {
                    // Overlapping quorums: the read must see the acknowledged write at once.
                    let read = try await reader.get(key, query: [("r", String(r))])
                    XCTAssertEqual(read.status, 200, "w=\(w) r=\(r)")
                    XCTAssertEqual(read.text, "value \(w)\(r)")
                } else {
                    // No overlap: the value may be stale for a moment, but it arrives.
                    try await eventually("w=\(w) r=\(r) reads the write") {
                        try await reader.get(key, query: [("r", String(r))]).text == "value \(w)\(r)"
                    }
                }
            }
        }
        let named = try await cluster.client(0).put("named", "x", query: [("w", "ALL"), ("n", "3")])
        XCTAssertEqual(named.status, 204)
        let quorum = try await cluster.client(1).get("named", query: [("r", "quorum")])
        XCTAssertEqual(quorum.text, "x")
    }

    func testConcurrentBlindWritesInAVClockBucketBecomeSiblingsAndAContextResolvesThem() async throws {
        let props = try await cluster.client(0).setProps("carts", #"{"conflict": "vclock"}"#)
        XCTAssertEqual(props.status, 200, props.text)
        try await eventually("every node knows the bucket is vclock") {
            for index in 0..<3 {
                let response = try await self.cluster.client(index).request("GET", "/buckets/carts/props")
                guard response.json["conflict"] as? String == "vclock" else { return false }
            }
            return true
        }
        // Blind writes through different coordinators, each led by a different replica.
        let (client0, client1) = (cluster.client(0), cluster.client(1))
        async let first = client0.put("cart", "apples", bucket: "carts", query: [("w", "3")])
        async let second = client1.put("cart", "pears", bucket: "carts", query: [("w", "3")])
        let (one, two) = try await (first, second)
        XCTAssertEqual(one.status, 204)
        XCTAssertEqual(two.status, 204)
        let third = try await cluster.client(2).put("cart", "plums", bucket: "carts", query: [("w", "3")])
        XCTAssertEqual(third.status, 204)

        let read = try await cluster.client(2).get("cart", bucket: "carts", query: [("r", "3")])
        XCTAssertEqual(read.status, 300, read.text)
        XCTAssertEqual(read.siblingValues, ["apples", "pears", "plums"])
        let context = try XCTUnwrap(read.header("X-Context"))

        let resolve = try await cluster.client(0).put("cart", "apples+pears+plums", bucket: "carts", query: [("w", "3")], context: context)
        XCTAssertEqual(resolve.status, 204)
        for index in 0..<3 {
            let after = try await cluster.client(index).get("cart", bucket: "carts", query: [("r", "3")])
            XCTAssertEqual(after.status, 200)
            XCTAssertEqual(after.text, "apples+pears+plums")
        }
    }

    func testLastWriterWinsKeepsTheNewestAndDeletesStayDeleted() async throws {
        for (index, value) in ["first", "second", "third"].enumerated() {
            let put = try await cluster.client(index).put("lww", value, query: [("w", "2")])
            XCTAssertEqual(put.status, 204)
        }
        for index in 0..<3 {
            let read = try await cluster.client(index).get("lww", query: [("r", "2")])
            XCTAssertEqual(read.status, 200)
            XCTAssertEqual(read.text, "third", "the newest write wins and there are no siblings")
        }
        let deleted = try await cluster.client(1).delete("lww", query: [("w", "3")])
        XCTAssertEqual(deleted.status, 204)
        for index in 0..<3 {
            let read = try await cluster.client(index).get("lww", query: [("r", "3")])
            XCTAssertEqual(read.status, 404)
            XCTAssertEqual(read.json["error"] as? String, "not_found")
        }
        // A vclock delete with the context also stays deleted.
        _ = try await cluster.client(0).setProps("docs", #"{"conflict": "vclock"}"#)
        try await eventually("node 2 knows docs is vclock") {
            try await self.cluster.client(1).request("GET", "/buckets/docs/props").json["conflict"] as? String == "vclock"
        }
        _ = try await cluster.client(0).put("doc", "draft", bucket: "docs", query: [("w", "3")])
        let read = try await cluster.client(1).get("doc", bucket: "docs", query: [("r", "3")])
        let remove = try await cluster.client(2).delete("doc", bucket: "docs", query: [("w", "3")], context: read.header("X-Context"))
        XCTAssertEqual(remove.status, 204)
        let gone = try await cluster.client(0).get("doc", bucket: "docs", query: [("r", "3")])
        XCTAssertEqual(gone.status, 404)
    }

    func testBadInputGetsClearErrorsAndLeavesDataIntact() async throws {
        let client = cluster.client(0)
        let kept = try await client.put("keep", "safe", query: [("w", "3")])
        XCTAssertEqual(kept.status, 204)

        let longKey = String(repeating: "k", count: 1025)
        let tooLongKey = try await client.put(longKey, "v")
        XCTAssertEqual(tooLongKey.status, 413)
        XCTAssertEqual(tooLongKey.json["error"] as? String, "too_large")

        let big = [UInt8](repeating: 65, count: 16 * 1024 * 1024 + 1)
        let tooBig = try await client.request("PUT", "/kv/default/keep", body: big)
        XCTAssertEqual(tooBig.status, 413)

        let badWord = try await client.get("keep", query: [("r", "most")])
        XCTAssertEqual(badWord.status, 400)
        XCTAssertEqual(badWord.json["error"] as? String, "bad_parameter")
        XCTAssertTrue((badWord.json["message"] as? String ?? "").contains("r"), badWord.text)

        let wOverN = try await client.put("keep", "clobbered", query: [("w", "3"), ("n", "2")])
        XCTAssertEqual(wOverN.status, 400)
        XCTAssertTrue((wOverN.json["message"] as? String ?? "").contains("n=2"), wOverN.text)

        let badMode = try await client.setProps("weird", #"{"conflict": "crdt"}"#)
        XCTAssertEqual(badMode.status, 400)
        XCTAssertTrue(badMode.text.contains("lww") && badMode.text.contains("vclock"), badMode.text)

        let badContext = try await client.put("keep", "clobbered", context: "!!not-a-context!!")
        XCTAssertEqual(badContext.status, 400)

        // Malformed HTTP on a raw socket: an error answer, then the server still serves.
        let httpReply = try RawSocket.exchange(port: cluster.nodes[0].httpPort, send: Array("GARBAGE \u{1}\u{2} NOT-HTTP\r\n\r\n".utf8))
        XCTAssertTrue(httpReply.hasPrefix("HTTP/1.1 400"), httpReply)

        // A malformed node-to-node frame closes that connection and nothing else.
        let frameReply = try RawSocket.exchange(port: cluster.nodes[0].peerPort, send: [0xFF, 0xFF, 0xFF, 0xFF, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])
        XCTAssertEqual(frameReply, "", "the peer port answers garbage by closing")

        for index in 0..<3 {
            let read = try await cluster.client(index).get("keep", query: [("r", "3")])
            XCTAssertEqual(read.status, 200)
            XCTAssertEqual(read.text, "safe")
        }
    }
}

/// A blocking TCP exchange for malformed-input tests: send bytes, read until the peer closes.
enum RawSocket {
    static func exchange(port: Int, send bytes: [UInt8], timeoutSeconds: Int = 10) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw HarnessError("could not connect to port \(port)") }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 {
                if count < 0 { throw HarnessError("the server neither answered nor closed within \(timeoutSeconds) s") }
                break
            }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
