import QuorumCore
import QuorumNode

/// The shared seeded generator: the same seed gives the same cases.
typealias HTTPFuzzRandom = SplitMix64

/// Requests for the HTTP fuzz tests: valid ones for every route, then mutated
/// (truncated, bytes changed, inserted or dropped, huge headers, bad chunked encoding,
/// bad percent-encoding, odd lengths), or plain random bytes. Each case is split into a
/// few writes so the decoder sees requests arrive in pieces.
struct HTTPFuzzGenerator {
    /// Sizes the cases aim past: the server under test should run with these limits.
    let headBytesMax: Int
    let bodyBytesMax: Int

    /// Buckets the generator writes to; tests keep their own data elsewhere.
    static let buckets = ["b", "default", "carts", "x.y_z-1"]

    struct Case {
        /// The bytes, in the writes they are sent as.
        var writes: [[UInt8]]
        /// What was done, for the failure message.
        var recipe: [String]

        var bytes: [UInt8] { writes.flatMap { $0 } }
    }

    func next(using rng: inout HTTPFuzzRandom) -> Case {
        var recipe: [String] = []
        var bytes: [UInt8]
        if Int.random(in: 0..<10, using: &rng) == 0 {
            bytes = randomBytes(count: Int.random(in: 0...512, using: &rng), using: &rng)
            recipe.append("random bytes")
        } else {
            bytes = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let (request, name) = validRequest(using: &rng)
                bytes += request
                recipe.append(name)
            }
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let name: String
                (bytes, name) = mutate(bytes, using: &rng)
                recipe.append(name)
            }
        }
        return Case(writes: split(bytes, using: &rng), recipe: recipe)
    }

    // MARK: - Valid requests

    private func validRequest(using rng: inout HTTPFuzzRandom) -> (bytes: [UInt8], name: String) {
        let bucket = Self.buckets.randomElement(using: &rng)!
        let key = randomKey(using: &rng)
        var headers = [("Host", "fuzz")]
        var body: [UInt8] = []
        let method: String
        let target: String
        switch Int.random(in: 0..<12, using: &rng) {
        case 0, 1:
            method = "GET"
            target = "/kv/\(bucket)/\(key)" + query(["r=quorum", "n=2", "timeout=500", "pr=1", "r=all"], using: &rng)
        case 2, 3, 4:
            method = "PUT"
            target = "/kv/\(bucket)/\(key)" + query(["w=2", "returnbody=true", "returnbody=false", "pw=one"], using: &rng)
            body = randomBytes(count: Int.random(in: 0...64, using: &rng), using: &rng)
            headers.append(("Content-Type", ["text/plain", "application/json", "x/y; q=1"].randomElement(using: &rng)!))
            if Bool.random(using: &rng) { headers.append(("If-None-Match", ["*", "\"etag\"", "*, *"].randomElement(using: &rng)!)) }
            if Bool.random(using: &rng) { headers.append(("X-Context", ["ctx-1", "", "%%%", "AAAA"].randomElement(using: &rng)!)) }
        case 5:
            method = "DELETE"
            target = "/kv/\(bucket)/\(key)" + query(["w=all", "timeout=100"], using: &rng)
        case 6:
            method = Bool.random(using: &rng) ? "GET" : "PUT"
            target = "/buckets/\(bucket)/props"
            if method == "PUT" {
                body = Array([#"{"n":3}"#, #"{"conflict":"vclock"}"#, #"{"w":"all","r":1}"#, "[]", "{"].randomElement(using: &rng)!.utf8)
            }
        case 7:
            method = "GET"
            target = "/buckets/\(bucket)/keys" + query(["limit=2", "limit=1000", "cursor=fake-1", "cursor=%zz"], using: &rng)
        case 8:
            method = "GET"
            target = ["/health", "/status", "/ring", "/metrics", "/"].randomElement(using: &rng)!
        case 9:
            method = ["POST", "PATCH", "OPTIONS", "TRACE", "DELETE", "PUT"].randomElement(using: &rng)!
            target = ["/", "/health", "/nowhere", "/kv/b", "/buckets/b/keys", "*"].randomElement(using: &rng)!
        case 10:
            method = "GET"
            target = "/kv/\(bucket)/" + badPercentEncoding(using: &rng)
        default:
            method = "GET"
            target = "/" + String(decoding: randomBytes(count: Int.random(in: 0...40, using: &rng), using: &rng).map { $0 % 0x5F + 0x20 }, as: UTF8.self)
                .filter { $0 != "\r" && $0 != "\n" && $0 != " " }
        }
        let chunked = !body.isEmpty && Int.random(in: 0..<4, using: &rng) == 0
        if chunked {
            headers.append(("Transfer-Encoding", "chunked"))
        } else if method == "PUT" || !body.isEmpty {
            headers.append(("Content-Length", String(body.count)))
        }
        var text = "\(method) \(target) HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if chunked {
            var rest = body[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...max(1, rest.count), using: &rng)
                bytes += Array("\(String(size, radix: 16))\r\n".utf8) + rest.prefix(size) + Array("\r\n".utf8)
                rest = rest.dropFirst(size)
            }
            bytes += Array("0\r\n\r\n".utf8)
        } else {
            bytes += body
        }
        return (bytes, "\(method) \(target.prefix(60))\(chunked ? " chunked" : "")")
    }

    private func query(_ items: [String], using rng: inout HTTPFuzzRandom) -> String {
        let chosen = items.filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }
        return chosen.isEmpty ? "" : "?" + chosen.joined(separator: "&")
    }

    private func randomKey(using rng: inout HTTPFuzzRandom) -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return "k\(Int.random(in: 0..<20, using: &rng))"
        case 1: return PercentEncoding.encodePathSegment(randomBytes(count: Int.random(in: 1...24, using: &rng), using: &rng))
        case 2: return "a/b/c%2F\(Int.random(in: 0..<5, using: &rng))"
        default: return String(repeating: "k", count: Int.random(in: 1...1100, using: &rng))
        }
    }

    private func badPercentEncoding(using rng: inout HTTPFuzzRandom) -> String {
        ["%", "%4", "%zz", "%%", "a%2", "%G0", "%C3%28", "%00", "%FF%FE"].randomElement(using: &rng)!
    }

    // MARK: - Mutations

    private func mutate(_ input: [UInt8], using rng: inout HTTPFuzzRandom) -> ([UInt8], String) {
        var bytes = input
        let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            bytes = Array(bytes.prefix(at))
            return (bytes, "truncate at \(at)")
        case 1:
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            return (bytes, "change bytes")
        case 2:
            bytes.insert(contentsOf: randomBytes(count: Int.random(in: 1...16, using: &rng), using: &rng), at: at)
            return (bytes, "insert bytes at \(at)")
        case 3:
            bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &rng)))
            return (bytes, "drop bytes at \(at)")
        case 4:
            let size = Int.random(in: headBytesMax / 2...headBytesMax * 3, using: &rng)
            let header = Array("X-Huge: \(String(repeating: "h", count: size))\r\n".utf8)
            return (insertAfterRequestLine(bytes, header), "huge header \(size)")
        case 5:
            let lines = ["zz\r\n", "-1\r\n", "FFFFFFFFFFFFFFFFFF\r\n", "5\r\nab\r\n", "3;ext=\u{1}\r\nabc\r\n", "\r\n\r\n"]
            let chunk = lines.randomElement(using: &rng)!
            let head = insertAfterRequestLine(bytes, Array("Transfer-Encoding: chunked\r\n".utf8))
            return (head + Array(chunk.utf8), "bad chunk \(chunk.debugDescription)")
        case 6:
            let values = ["-1", "abc", "99999999999999999999", String(bodyBytesMax + 1), "1, 2", "0x10"]
            let value = values.randomElement(using: &rng)!
            return (insertAfterRequestLine(bytes, Array("Content-Length: \(value)\r\n".utf8)), "content-length \(value)")
        case 7:
            guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return (bytes, "no request line") }
            let bad = Array("/kv/b/\(badPercentEncoding(using: &rng))".utf8)
            bytes.insert(contentsOf: bad, at: space + 1)
            return (bytes, "bad percent-encoding")
        case 8:
            let range = at..<min(bytes.count, at + Int.random(in: 1...64, using: &rng))
            bytes.insert(contentsOf: bytes[range], at: range.upperBound)
            return (bytes, "duplicate \(range)")
        default:
            let header = Array("Expect: 100-continue\r\nConnection: \(["close", "keep-alive", "upgrade"].randomElement(using: &rng)!)\r\n".utf8)
            return (insertAfterRequestLine(bytes, header), "expect/connection headers")
        }
    }

    private func insertAfterRequestLine(_ bytes: [UInt8], _ insert: [UInt8]) -> [UInt8] {
        guard let end = bytes.firstRange(of: Array("\r\n".utf8)) else { return bytes + insert }
        var result = bytes
        result.insert(contentsOf: insert, at: end.upperBound)
        return result
    }

    // MARK: - Pieces

    private func randomBytes(count: Int, using rng: inout HTTPFuzzRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    private func split(_ bytes: [UInt8], using rng: inout HTTPFuzzRandom) -> [[UInt8]] {
        guard bytes.count > 1 else { return [bytes] }
        let cuts = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Int.random(in: 1..<bytes.count, using: &rng) }
        var writes: [[UInt8]] = []
        var start = 0
        for cut in Set(cuts).sorted() {
            writes.append(Array(bytes[start..<cut]))
            start = cut
        }
        writes.append(Array(bytes[start...]))
        return writes
    }
}
