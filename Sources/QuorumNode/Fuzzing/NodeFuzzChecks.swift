import NIOHTTP1
@_spi(Fuzzing) import QuorumCore

/// The decode-and-check functions behind the `FuzzRESP` and `FuzzHTTP` libFuzzer targets
/// and their corpus replay tests (see `CoreFuzzChecks` for the conventions). SPI: only
/// the fuzz package and the tests import it.
@_spi(Fuzzing) public enum NodeFuzzChecks {
    // MARK: - RESP

    /// Limits the RESP target parses under: small, so short inputs reach every bound
    /// (the same ones `RESPFuzzTests` uses).
    public static var respLimits: RESPLimits {
        var limits = RESPLimits()
        limits.inlineBytesMax = 256
        limits.bulkBytesMax = 512
        limits.arrayCountMax = 16
        limits.commandBytesMax = 2048
        return limits
    }

    /// `FuzzRESP`: the bytes as one client's stream.
    ///
    /// - The parser says the same whether the stream arrives at once or in small reads
    ///   (the read size comes from byte 0, so the fuzzer varies it too).
    /// - Every command it gives stays within its bounds, goes through `RESPCommand.parse`
    ///   and, written back as a RESP array, parses to the same words.
    /// - Its buffer stays bounded while it has not failed.
    public static func checkRESP(_ input: [UInt8]) throws(FuzzCheckFailure) {
        let limits = respLimits
        let whole = feedRESP(input, readBytes: max(1, input.count), limits: limits)
        let readBytes = 1 + Int(input.first ?? 0) % 13
        let cut = feedRESP(input, readBytes: readBytes, limits: limits)
        guard whole.commands == cut.commands, whole.failed == cut.failed else {
            throw FuzzCheckFailure(
                "whole stream gave \(whole.commands.count) commands (failed: \(whole.failed)), reads of \(readBytes) bytes "
                    + "gave \(cut.commands.count) (failed: \(cut.failed))")
        }
        let wordBytesMax = max(limits.bulkBytesMax, limits.inlineBytesMax)
        // `arrayCountMax` bounds a multibulk array; an inline command's words are bounded
        // by its line (`inlineBytesMax`), as in Redis.
        let wordsMax = max(limits.arrayCountMax, limits.inlineBytesMax)
        for words in whole.commands {
            guard !words.isEmpty, words.count <= wordsMax, words.allSatisfy({ $0.count <= wordBytesMax }) else {
                throw FuzzCheckFailure("a command of \(words.count) words past the parser's bounds came out")
            }
            _ = try? RESPCommand.parse(words, limits: .defaults)
            var again = RESPParser()
            again.append(respArray(words))
            guard again.next() == .command(words), again.isIdle else {
                throw FuzzCheckFailure("command \(words) written as a RESP array does not parse back")
            }
        }
        guard whole.failed || whole.bufferedBytes <= limits.commandBytesMax + limits.inlineBytesMax + 64 else {
            throw FuzzCheckFailure("the parser holds \(whole.bufferedBytes) bytes without failing")
        }
    }

    private static func feedRESP(
        _ input: [UInt8], readBytes: Int, limits: RESPLimits
    ) -> (commands: [[[UInt8]]], failed: Bool, bufferedBytes: Int) {
        var parser = RESPParser(limits: limits)
        var commands: [[[UInt8]]] = []
        var offset = 0
        while offset < input.count {
            let end = min(input.count, offset + readBytes)
            parser.append(input[offset..<end])
            offset = end
            while true {
                switch parser.next() {
                case .needMoreData: break
                case .command(let words):
                    commands.append(words)
                    continue
                case .error:
                    return (commands, true, parser.bufferedBytes)
                }
                break
            }
        }
        return (commands, false, parser.bufferedBytes)
    }

    static func respArray(_ words: [[UInt8]]) -> [UInt8] {
        var bytes = Array("*\(words.count)\r\n".utf8)
        for word in words { bytes += Array("$\(word.count)\r\n".utf8) + word + [0x0D, 0x0A] }
        return bytes
    }

    // MARK: - HTTP

    /// Methods the HTTP target picks from with byte 0: every one a route takes, and two it doesn't.
    public static let httpMethods = ["GET", "PUT", "DELETE", "POST", "HEAD", "PATCH"]

    /// `FuzzHTTP`: the request decoding that is QuorumKV's own, after NIOHTTP1 has parsed
    /// the head (NIO's parser is fuzzed upstream). Input: byte 0 picks the method, then
    /// the URI up to a newline, then `Name: value` header lines up to an empty line, then
    /// the body. Lines whose name NIO's parser would refuse are skipped.
    ///
    /// - The router's two entry points agree (`HTTPAPI` relies on it).
    /// - A key route's bucket and key, percent-encoded again, route to the same ones.
    /// - Conditional headers, `X-Context`, a props body and a key-page cursor go through
    ///   their decoders; a decoded token survives encode and decode.
    public static func checkHTTP(_ data: [UInt8]) throws(FuzzCheckFailure) {
        guard let selector = data.first else { return }
        let method = httpMethods[Int(selector) % httpMethods.count]
        var lines = data.dropFirst().split(separator: 0x0A, maxSplits: 64, omittingEmptySubsequences: false)[...]
        let uri = String(decoding: lines.popFirst() ?? [], as: UTF8.self)
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        while let line = lines.popFirst() {
            if line.isEmpty {
                body = Array(lines.joined(separator: [0x0A]))
                break
            }
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false)
            // NIO's parser passes on only token names (ASCII); `HTTPHeaders.add` traps on others.
            guard parts[0].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { continue }
            headers.add(
                name: String(decoding: parts[0], as: UTF8.self),
                value: String(decoding: parts.count > 1 ? parts[1] : [], as: UTF8.self))
        }
        try checkRoute(method: method, uri: uri, headers: headers, body: body)
    }

    static func checkRoute(method: String, uri: String, headers: HTTPHeaders, body: [UInt8]) throws(FuzzCheckFailure) {
        let endpoint = Result { () throws(HTTPRouteError) -> HTTPEndpoint in try HTTPRoute.endpoint(method: method, uri: uri) }
        let route = Result { () throws(HTTPRouteError) -> HTTPRoute in try HTTPRoute.parse(method: method, uri: uri) }
        switch (endpoint, route) {
        case (.success(let endpoint), .success(let route)):
            guard route.endpoint == endpoint else {
                throw FuzzCheckFailure("\(method) \(uri): endpoint \(endpoint) but route \(route)")
            }
        case (.success, .failure(.invalid)), (.failure, .failure):
            if case .failure(let routeError) = route, case .failure(let endpointError) = endpoint, routeError != endpointError {
                throw FuzzCheckFailure("\(method) \(uri): endpoint refused with \(endpointError), route with \(routeError)")
            }
        case (.success(let endpoint), .failure(let error)):
            throw FuzzCheckFailure("\(method) \(uri): endpoint \(endpoint) but the route refused it as unroutable: \(error)")
        case (.failure(let error), .success(let route)):
            throw FuzzCheckFailure("\(method) \(uri): route \(route) but the endpoint refused it: \(error)")
        }
        guard case .success(let route) = route else { return }
        if let context = headers.first(name: HTTPResponder.contextHeader) {
            try CoreFuzzChecks.checkContextToken(context.trimmingCharacters(in: " \t"))
        }
        switch route {
        case .getKey(let bucket, let key, _), .deleteKey(let bucket, let key, _), .putKey(let bucket, let key, _, _, _):
            try checkKeyPath(method: method, bucket: bucket, key: key)
            if case .putKey(_, _, _, let returnBody, _) = route {
                _ = try? HTTPConditionalHeaders.putConditions(headers: headers, returnBody: returnBody)
            }
            if case .deleteKey = route { _ = try? HTTPConditionalHeaders.checkDelete(headers: headers) }
        case .setBucketProps:
            if let update = try? HTTPBucketPropsUpdateDecoder.decode(body), let n = update.n {
                guard n >= 1, n <= Limits.defaults.replicasMax else { throw FuzzCheckFailure("props body gave n = \(n)") }
            }
        case .listKeys(_, let cursor?, let limit):
            guard limit >= 1, limit <= Limits.defaults.keyPageMax else { throw FuzzCheckFailure("key page of \(limit)") }
            try CoreFuzzChecks.checkKeyCursor(cursor)
        default:
            break
        }
    }

    /// The bucket and key a key route decoded, percent-encoded the way clients do, route
    /// to the same bucket and key.
    static func checkKeyPath(method: String, bucket: String, key: [UInt8]) throws(FuzzCheckFailure) {
        let uri = "/kv/" + PercentEncoding.encodePathSegment(bucket.utf8) + "/" + PercentEncoding.encodePathSegment(key)
        let again = try? HTTPRoute.parse(method: method, uri: uri)
        switch again {
        case .getKey(bucket, key, _), .deleteKey(bucket, key, _), .putKey(bucket, key, _, _, _): return
        default: throw FuzzCheckFailure("\(method) \(uri) does not route back to bucket \(bucket), key \(key): \(String(describing: again))")
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view = view.dropFirst() }
        while let last = view.last, set.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
