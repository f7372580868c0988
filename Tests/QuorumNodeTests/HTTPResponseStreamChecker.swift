import Foundation

/// Checks that bytes a server wrote are a sequence of well-formed HTTP/1.1 responses as
/// QuorumKV writes them: a status line, `Name: value` headers, and a body of exactly
/// `Content-Length` bytes (none for 1xx and 204). Error answers carry the API's JSON
/// `{"error": …, "message": …}`.
enum HTTPResponseStreamChecker {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
    }

    enum Failure: Error, CustomStringConvertible {
        case malformed(String)

        var description: String {
            switch self {
            case .malformed(let text): return text
            }
        }
    }

    static func parse(_ bytes: [UInt8]) throws(Failure) -> [Response] {
        var responses: [Response] = []
        var rest = bytes[...]
        let separator = Array("\r\n\r\n".utf8)
        while !rest.isEmpty {
            guard let end = rest.firstRange(of: separator) else {
                throw .malformed("a response head is cut off: \(String(decoding: rest.prefix(200), as: UTF8.self).debugDescription)")
            }
            let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            rest = rest[end.upperBound...]
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3,
                let status = Int(parts[1]), (100...599).contains(status)
            else { throw .malformed("bad status line \(statusLine.debugDescription)") }
            var headers: [(String, String)] = []
            for line in lines {
                guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                    line[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
                else { throw .malformed("bad header line \(line.debugDescription)") }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
            if header("transfer-encoding") != nil { throw .malformed("QuorumKV never answers chunked") }
            var body: [UInt8] = []
            if status >= 200 && status != 204 {
                guard let lengthText = header("content-length"), let length = Int(lengthText), length >= 0 else {
                    throw .malformed("\(status) without a valid Content-Length")
                }
                guard rest.count >= length else { throw .malformed("\(status) body is cut off: \(rest.count) of \(length) bytes") }
                body = Array(rest.prefix(length))
                rest = rest.dropFirst(length)
            } else if header("content-length") != nil && status != 204 {
                throw .malformed("\(status) has a Content-Length")
            }
            if status >= 400 {
                let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
                guard json?["error"] is String, json?["message"] is String else {
                    throw .malformed("\(status) body is not an API error: \(String(decoding: body.prefix(200), as: UTF8.self))")
                }
            }
            responses.append(Response(status: status, headers: headers, body: body))
        }
        return responses
    }
}
