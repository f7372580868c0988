import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import QuorumCore

/// A small HTTP/1.1 client for a QuorumKV node's API, used by the CLI and by tests.
///
/// Each call opens a connection, sends one request (`Connection: close`) and reads one
/// response, bounded in size (`maxResponseBytes`) and time (`timeout` covers connect,
/// send and receive). Errors are `KVClientError`.
public final class KVHTTPClient: Sendable {
    public let baseURL: String
    /// Largest response body accepted.
    public let maxResponseBytes: Int
    /// Added to a request's own `timeout` option to get the HTTP timeout, so the server
    /// can answer `quorum_not_met` before the client gives up.
    public let timeoutSlack: TimeAmount
    private let group: any EventLoopGroup
    private let endpoint: Result<Endpoint, KVClientError>
    /// The `Authorization` header sent with every request (Basic or Bearer), if any.
    private let authorization: String?
    /// Trust for `https://` URLs; the system's roots when nil.
    private let tls: NIOSSLContext?

    struct Endpoint: Sendable, Equatable {
        var host: String
        var port: Int
        /// `https://`: the connection opens with a TLS handshake.
        var usesTLS = false

        /// `Host` header value: IPv6 literals in brackets.
        var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public init(
        baseURL: String, group: (any EventLoopGroup)? = nil, maxResponseBytes: Int = 64 * 1024 * 1024,
        timeoutSlack: TimeAmount = .seconds(3), authorization: String? = nil, tls: NIOSSLContext? = nil
    ) {
        self.authorization = authorization
        self.tls = tls
        self.baseURL = baseURL
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.maxResponseBytes = maxResponseBytes
        self.timeoutSlack = timeoutSlack
        self.endpoint = Self.parse(baseURL: baseURL)
    }

    /// Parses `http://host:port`, `host:port`, `http://[::1]:8081/`, `https://host:port`;
    /// port 80 (443 for https) when absent.
    static func parse(baseURL: String) -> Result<Endpoint, KVClientError> {
        var rest = Substring(baseURL.trimmingCharacters(in: .whitespaces))
        var usesTLS = false
        if rest.lowercased().hasPrefix("http://") {
            rest = rest.dropFirst("http://".count)
        } else if rest.lowercased().hasPrefix("https://") {
            rest = rest.dropFirst("https://".count)
            usesTLS = true
        } else if rest.contains("://") {
            return .failure(.invalidEndpoint(baseURL))
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else { return .failure(.invalidEndpoint(baseURL)) }
        let host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(.invalidEndpoint(baseURL)) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(.invalidEndpoint(baseURL)) }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        var port = usesTLS ? 443 : 80
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                return .failure(.invalidEndpoint(baseURL))
            }
            port = number
        }
        guard !host.isEmpty else { return .failure(.invalidEndpoint(baseURL)) }
        return .success(Endpoint(host: String(host), port: port, usesTLS: usesTLS))
    }

    /// An `Authorization: Basic` value for a user and password.
    public static func basicAuthorization(user: String, password: [UInt8]) -> String {
        "Basic " + Data(Array(user.utf8) + [UInt8(ascii: ":")] + password).base64EncodedString()
    }

    /// The path of a key: `/kv/{bucket}/{key}` with each segment percent-encoded.
    public static func kvPath(bucket: String, key: [UInt8]) -> String {
        "/kv/\(PercentEncoding.encodePathSegment(bucket.utf8))/\(PercentEncoding.encodePathSegment(key))"
    }

    public static func kvPath(bucket: String, key: String) -> String {
        kvPath(bucket: bucket, key: Array(key.utf8))
    }

    /// Sends one request. `path` is sent as given (already encoded); `query` items are encoded here.
    public func send(
        method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8]? = nil, timeout: TimeAmount = .seconds(5)
    ) async throws(KVClientError) -> HTTPClientResponse {
        let endpoint = try endpoint.get()
        var uri = path.isEmpty ? "/" : path
        if !query.isEmpty {
            uri += "?" + query.map {
                "\(PercentEncoding.encodeQueryComponent($0.0))=\(PercentEncoding.encodeQueryComponent($0.1))"
            }.joined(separator: "&")
        }
        var requestHeaders = HTTPHeaders()
        requestHeaders.add(name: "Host", value: endpoint.hostHeader)
        if let authorization, !headers.contains(where: { $0.0.lowercased() == "authorization" }) {
            requestHeaders.add(name: "Authorization", value: authorization)
        }
        requestHeaders.add(name: "User-Agent", value: "quorumkv-client")
        requestHeaders.add(name: "Connection", value: "close")
        for (name, value) in headers { requestHeaders.add(name: name, value: value) }
        if let body {
            requestHeaders.replaceOrAdd(name: "Content-Length", value: String(body.count))
        } else if method == "PUT" || method == "POST" {
            requestHeaders.replaceOrAdd(name: "Content-Length", value: "0")
        }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri, headers: requestHeaders)

        let deadline = NIODeadline.now() + timeout
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: HTTPClientResponse.self)
        let maxBytes = maxResponseBytes
        let description = "\(endpoint.usesTLS ? "https" : "http")://\(endpoint.hostHeader)"
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = endpoint.usesTLS ? try tls ?? Self.defaultTLSContext() : nil
        } catch {
            throw .unreachable(endpoint: description, reason: "no TLS client context: \(error)")
        }
        // SNI and hostname checks take names; an IP literal is checked against IP SANs only.
        let serverHostname = Self.isIPAddress(endpoint.host) ? nil : endpoint.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tlsContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname))
                    }
                    try pipeline.addHandler(HTTPRequestEncoder())
                    try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(
                        HTTPClientResponseHandler(
                            head: head, body: body, promise: promise, maxBytes: maxBytes, deadline: deadline,
                            timeoutMilliseconds: timeout.nanoseconds / 1_000_000, endpoint: description))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            promise.fail(error)
            throw .unreachable(endpoint: description, reason: Self.describe(error))
        }
        do {
            let response = try await promise.futureResult.get()
            channel.close(promise: nil)
            return response
        } catch let error as KVClientError {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            throw .badResponse(Self.describe(error))
        }
    }

    /// Where the CLI takes the CA for `https://` endpoints: a PEM file named by this variable
    /// (a development CA from `quorumkv cert init`), else the system's trusted CAs.
    public static let caCertificateEnvironmentVariable = "QUORUMKV_CACERT"

    private static func defaultTLSContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path = ProcessInfo.processInfo.environment[caCertificateEnvironmentVariable], !path.isEmpty {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw KVClientError.invalidEndpoint("\(caCertificateEnvironmentVariable)=\(path) is not a readable PEM CA file")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            let reasons = (error.dnsAAAAError.map { [String(describing: $0)] } ?? [])
                + (error.dnsAError.map { [String(describing: $0)] } ?? [])
                + error.connectionErrors.map { describe($0.error) }
            var unique: [String] = []
            for reason in reasons where !unique.contains(reason) { unique.append(reason) }
            return unique.isEmpty ? "connection failed" : unique.joined(separator: "; ")
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout(let amount): return "connect timed out after \(amount.nanoseconds / 1_000_000) ms"
            default: return String(describing: error)
            }
        }
        return String(describing: error)
    }

    // MARK: - Typed calls

    /// The HTTP timeout for a request with these options: the server's timeout plus slack.
    func httpTimeout(_ options: RequestOptions) -> TimeAmount {
        .milliseconds(Int64(options.timeoutMilliseconds ?? Limits.defaults.requestTimeoutMillisecondsDefault)) + timeoutSlack
    }

    /// GET a key: 200 → one sibling, 300 → several, 404 → none (not an error).
    public func get(bucket: String, key: [UInt8], options: RequestOptions = RequestOptions()) async throws(KVClientError)
        -> ClientReadResult
    {
        let response = try await send(
            method: "GET", path: Self.kvPath(bucket: bucket, key: key), query: options.queryItems,
            timeout: httpTimeout(options))
        switch response.status {
        case 200, 300:
            return try Self.readResult(response)
        case 404 where Self.errorDocument(response)?.error == "not_found":
            return ClientReadResult(siblings: [], context: response.header(HTTPResponder.contextHeader) ?? "", etag: nil)
        default:
            throw Self.serverError(response)
        }
    }

    /// The versions in a 200 (one value) or 300 (siblings as JSON) answer; none otherwise.
    static func readResult(_ response: HTTPClientResponse) throws(KVClientError) -> ClientReadResult {
        let context = response.header(HTTPResponder.contextHeader) ?? ""
        switch response.status {
        case 200:
            let sibling = ClientSibling(
                value: response.body, contentType: response.header("Content-Type") ?? HTTPResponder.defaultContentType)
            return ClientReadResult(siblings: [sibling], context: context, etag: ClientETag.token(response))
        case 300:
            let document: HTTPSiblingsDocument
            do {
                document = try JSONDecoder().decode(HTTPSiblingsDocument.self, from: Data(response.body))
            } catch {
                throw .badResponse("300 body is not a siblings document: \(error)")
            }
            var siblings: [ClientSibling] = []
            for entry in document.siblings {
                guard let value = entry.bytes else { throw .badResponse("sibling value has encoding \(entry.encoding)") }
                siblings.append(
                    ClientSibling(
                        value: value, contentType: entry.contentType, timestampMilliseconds: entry.timestampMilliseconds,
                        actor: entry.actor))
            }
            return ClientReadResult(siblings: siblings, context: document.context.isEmpty ? context : document.context)
        default:
            return ClientReadResult(siblings: [], context: context)
        }
    }

    public func get(bucket: String, key: String, options: RequestOptions = RequestOptions()) async throws(KVClientError)
        -> ClientReadResult
    {
        try await get(bucket: bucket, key: Array(key.utf8), options: options)
    }

    /// PUT a value. `context` is a token from an earlier read (nil for a blind write).
    /// `conditions.ifNoneMatch` sends `If-None-Match: *` (create only: a key that has a
    /// value fails with 412 `precondition_failed`); `conditions.returnBody` asks for the
    /// key's versions after the write, in the result's `siblings`. On a strong bucket
    /// `ifMatch` (an ETag token from a read or write, or `*`) sends `If-Match`: 412
    /// `precondition_failed` unless the key still holds that value; the result's `etag`
    /// is the new value's.
    @discardableResult
    public func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String = "application/octet-stream",
        context: String? = nil, options: RequestOptions = RequestOptions(), conditions: WriteConditions = WriteConditions(),
        ttlSeconds: UInt64? = nil, ifMatch: String? = nil
    ) async throws(KVClientError) -> ClientWriteResult {
        var headers = [("Content-Type", contentType)]
        if let context, !context.isEmpty { headers.append((HTTPResponder.contextHeader, context)) }
        if conditions.ifNoneMatch { headers.append((HTTPConditionalHeaders.ifNoneMatch, "*")) }
        if let ifMatch { headers.append((HTTPConditionalHeaders.ifMatch, ClientETag.header(ifMatch))) }
        let query = options.queryItems + (conditions.returnBody ? [(HTTPRoute.returnBodyParameter, "true")] : [])
            + (ttlSeconds.map { [(HTTPRoute.ttlParameter, String($0))] } ?? [])
        let response = try await send(
            method: "PUT", path: Self.kvPath(bucket: bucket, key: key), query: query, headers: headers,
            body: value, timeout: httpTimeout(options))
        guard (200..<400).contains(response.status) else { throw Self.serverError(response) }
        let read = try Self.readResult(response)
        return ClientWriteResult(context: read.context, siblings: read.siblings, etag: ClientETag.token(response))
    }

    @discardableResult
    public func put(
        bucket: String, key: String, value: [UInt8], contentType: String = "application/octet-stream",
        context: String? = nil, options: RequestOptions = RequestOptions(), conditions: WriteConditions = WriteConditions(),
        ttlSeconds: UInt64? = nil, ifMatch: String? = nil
    ) async throws(KVClientError) -> ClientWriteResult {
        try await put(
            bucket: bucket, key: Array(key.utf8), value: value, contentType: contentType, context: context, options: options,
            conditions: conditions, ttlSeconds: ttlSeconds, ifMatch: ifMatch)
    }

    /// DELETE a key (writes a tombstone; deleting an absent key succeeds). On a strong
    /// bucket `ifMatch` deletes only if the key still holds that value (else 412).
    @discardableResult
    public func delete(
        bucket: String, key: [UInt8], context: String? = nil, options: RequestOptions = RequestOptions(), ifMatch: String? = nil
    ) async throws(KVClientError) -> ClientWriteResult {
        var headers: [(String, String)] = []
        if let context, !context.isEmpty { headers.append((HTTPResponder.contextHeader, context)) }
        if let ifMatch { headers.append((HTTPConditionalHeaders.ifMatch, ClientETag.header(ifMatch))) }
        let response = try await send(
            method: "DELETE", path: Self.kvPath(bucket: bucket, key: key), query: options.queryItems, headers: headers,
            timeout: httpTimeout(options))
        guard (200..<300).contains(response.status) else { throw Self.serverError(response) }
        return ClientWriteResult(context: response.header(HTTPResponder.contextHeader) ?? "")
    }

    @discardableResult
    public func delete(
        bucket: String, key: String, context: String? = nil, options: RequestOptions = RequestOptions(), ifMatch: String? = nil
    ) async throws(KVClientError) -> ClientWriteResult {
        try await delete(bucket: bucket, key: Array(key.utf8), context: context, options: options, ifMatch: ifMatch)
    }

    public func bucketProps(bucket: String, timeout: TimeAmount = .seconds(5)) async throws(KVClientError)
        -> HTTPBucketPropsDocument
    {
        let response = try await send(method: "GET", path: Self.propsPath(bucket), timeout: timeout)
        return try Self.decode(HTTPBucketPropsDocument.self, from: response)
    }

    public func setBucketProps(bucket: String, update: BucketPropsUpdate, timeout: TimeAmount = .seconds(10))
        async throws(KVClientError) -> HTTPBucketPropsDocument
    {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(update))
        } catch {
            throw .badResponse("could not encode props: \(error)")
        }
        let response = try await send(
            method: "PUT", path: Self.propsPath(bucket), headers: [("Content-Type", "application/json")], body: body,
            timeout: timeout)
        return try Self.decode(HTTPBucketPropsDocument.self, from: response)
    }

    public func health(timeout: TimeAmount = .seconds(5)) async throws(KVClientError) -> HealthReport {
        let response = try await send(method: "GET", path: "/health", timeout: timeout)
        return try Self.decode(HealthReport.self, from: response)
    }

    /// One page of a bucket's keys (`limit` 1...1000, the server's default when nil);
    /// pass the page's `next` as `cursor` for the following one.
    public func listKeys(bucket: String, limit: Int? = nil, cursor: String? = nil, timeout: TimeAmount = .seconds(10))
        async throws(KVClientError) -> HTTPKeyPageDocument
    {
        var query: [(String, String)] = []
        if let limit { query.append(("limit", String(limit))) }
        if let cursor { query.append(("cursor", cursor)) }
        let response = try await send(method: "GET", path: Self.keysPath(bucket), query: query, timeout: timeout)
        return try Self.decode(HTTPKeyPageDocument.self, from: response)
    }

    /// `GET /status`: the node's view of the ring, its peers and its work.
    public func status(timeout: TimeAmount = .seconds(5)) async throws(KVClientError) -> NodeStatus {
        let response = try await send(method: "GET", path: "/status", timeout: timeout)
        return try Self.decode(NodeStatus.self, from: response)
    }

    /// `GET /ring`: partition ownership.
    public func ring(timeout: TimeAmount = .seconds(5)) async throws(KVClientError) -> RingReport {
        let response = try await send(method: "GET", path: "/ring", timeout: timeout)
        return try Self.decode(RingReport.self, from: response)
    }

    /// `POST /cluster/join`: makes this (alone, empty) node join the cluster of `seed`, a
    /// member's peer address. Reaching a seed that is starting may take up to 30 s.
    public func joinCluster(seed: String, timeout: TimeAmount = .seconds(40)) async throws(KVClientError) -> MembershipChange {
        let response = try await send(method: "POST", path: "/cluster/join", query: [("seed", seed)], timeout: timeout)
        return try Self.decode(MembershipChange.self, from: response)
    }

    /// `POST /cluster/leave`: makes this node hand its partitions off and leave.
    public func leaveCluster(timeout: TimeAmount = .seconds(10)) async throws(KVClientError) -> MembershipChange {
        let response = try await send(method: "POST", path: "/cluster/leave", timeout: timeout)
        return try Self.decode(MembershipChange.self, from: response)
    }

    /// `POST /buckets/{bucket}/truncate`, or `POST /cluster/truncate` when `bucket` is nil:
    /// answers once every member hides what the bucket held. It waits on every member, so
    /// its timeout is longer than a key request's.
    public func truncate(bucket: String?, timeout: TimeAmount = .seconds(60)) async throws(KVClientError) -> TruncationReport {
        let path = bucket.map { "/buckets/\($0)/truncate" } ?? "/cluster/truncate"
        let response = try await send(method: "POST", path: path, timeout: timeout)
        return try Self.decode(TruncationReport.self, from: response)
    }

    /// `GET /metrics`: the Prometheus text exposition.
    public func metrics(timeout: TimeAmount = .seconds(5)) async throws(KVClientError) -> String {
        let response = try await send(method: "GET", path: "/metrics", timeout: timeout)
        guard response.status == 200 else { throw Self.serverError(response) }
        return String(decoding: response.body, as: UTF8.self)
    }

    // MARK: - Helpers

    static func propsPath(_ bucket: String) -> String {
        "/buckets/\(PercentEncoding.encodePathSegment(bucket.utf8))/props"
    }

    /// `/buckets/{bucket}/keys`.
    public static func keysPath(_ bucket: String) -> String {
        "/buckets/\(PercentEncoding.encodePathSegment(bucket.utf8))/keys"
    }

    static func decode<T: Decodable>(_ type: T.Type, from response: HTTPClientResponse) throws(KVClientError) -> T {
        guard (200..<300).contains(response.status) else { throw serverError(response) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw .badResponse("unexpected \(T.self) body: \(error)")
        }
    }

    static func errorDocument(_ response: HTTPClientResponse) -> HTTPErrorDocument? {
        try? JSONDecoder().decode(HTTPErrorDocument.self, from: Data(response.body))
    }

    /// A non-success response as `KVClientError.server`, with the server's code and
    /// message when the body is the API's JSON error.
    public static func serverError(_ response: HTTPClientResponse) -> KVClientError {
        if let document = errorDocument(response) {
            return .server(status: response.status, code: document.error, message: document.message, body: response.body)
        }
        let text = String(decoding: response.body.prefix(512), as: UTF8.self)
        return .server(
            status: response.status, code: "http_\(response.status)",
            message: text.isEmpty ? "HTTP status \(response.status)" : text, body: response.body)
    }
}

/// Writes the request when connected, gathers the response, and completes the promise
/// once: with the response, or with an error on timeout, oversize or early close.
private final class HTTPClientResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let body: [UInt8]?
    private let promise: EventLoopPromise<HTTPClientResponse>
    private let maxBytes: Int
    private let deadline: NIODeadline
    private let endpoint: String
    private let timeoutMilliseconds: Int64
    private var responseHead: HTTPResponseHead?
    private var responseBody: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var done = false

    init(
        head: HTTPRequestHead, body: [UInt8]?, promise: EventLoopPromise<HTTPClientResponse>, maxBytes: Int,
        deadline: NIODeadline, timeoutMilliseconds: Int64, endpoint: String
    ) {
        self.timeoutMilliseconds = timeoutMilliseconds
        self.head = head
        self.body = body
        self.promise = promise
        self.maxBytes = maxBytes
        self.deadline = deadline
        self.endpoint = endpoint
    }

    func channelActive(context: ChannelHandlerContext) {
        let promise = self.promise
        let channel = context.channel
        let milliseconds = timeoutMilliseconds
        let endpoint = self.endpoint
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(KVClientError.timedOut(endpoint: endpoint, milliseconds: milliseconds))
            channel.close(promise: nil)
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // Informational answers (100 Continue) come before the real one.
            responseHead = (100..<200).contains(head.status.code) ? nil : head
            responseBody = context.channel.allocator.buffer(capacity: 0)
        case .body(var chunk):
            guard responseHead != nil else { return }
            if (responseBody?.readableBytes ?? 0) + chunk.readableBytes > maxBytes {
                complete(context: context, .failure(KVClientError.responseTooLarge(limit: maxBytes)))
                return
            }
            responseBody?.writeBuffer(&chunk)
        case .end:
            guard let responseHead else { return }
            let bytes = responseBody.map { Array($0.readableBytesView) } ?? []
            let response = HTTPClientResponse(
                status: Int(responseHead.status.code), headers: responseHead.headers.map { ($0.name, $0.value) },
                body: bytes)
            complete(context: context, .success(response))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(context: context, .failure(KVClientError.badResponse("connection closed before a complete response")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(context: context, .failure(KVClientError.badResponse(KVHTTPClient.describe(error))))
    }

    private func complete(context: ChannelHandlerContext, _ result: Result<HTTPClientResponse, any Error>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.completeWith(result)
        context.close(promise: nil)
    }
}
