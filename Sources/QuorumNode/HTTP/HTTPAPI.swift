import NIOHTTP1
import QuorumCore

/// One complete HTTP request as the API sees it: no channel, body already gathered.
public struct HTTPAPIRequest: Sendable {
    public var method: String
    public var uri: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, uri: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }
}

/// Routes a request to the `KVService`, renders the answer and records it in the node's
/// metrics. Independent of NIO channels, so the whole API can be tested by calling
/// `respond` directly.
public enum HTTPAPI {
    /// Largest `PUT /buckets/{bucket}/props` body: a handful of fields.
    public static let propsBodyBytesMax = 64 * 1024

    /// The `operation` label of requests that matched no route (404, 405).
    public static let unroutedOperation = "unrouted"

    /// - Parameter access: the node's users, for `POST /admin/acl/reload` and the `/metrics`
    ///   lines about logins; `service` is already the caller's guarded one.
    public static func respond(
        to request: HTTPAPIRequest, service: any KVService, limits: Limits, metrics: NodeMetrics? = nil,
        access: AccessControl? = nil
    ) async -> HTTPResponse {
        let endpoint: HTTPEndpoint
        do {
            endpoint = try HTTPRoute.endpoint(method: request.method, uri: request.uri)
        } catch {
            let response = HTTPResponder.routeError(error)
            metrics?.recordResponse(operation: unroutedOperation, status: response.status.code)
            return forMethod(request.method, response)
        }
        let operation = endpoint.operationLabel
        let tracksInFlight = [.getKey, .putKey, .deleteKey, .getType, .updateType, .resetType, .listKeys].contains(endpoint)
        if tracksInFlight { metrics?.requestStarted() }
        let started = ContinuousClock.now
        var route: HTTPRoute?
        let response: HTTPResponse
        do throws(KVError) {
            let parsed = try parse(request, limits: limits)
            route = parsed
            response = try await perform(
                parsed, request: request, service: service, limits: limits, metrics: metrics, access: access)
        } catch {
            if case .quorumNotMet = error { metrics?.recordQuorumFailure(operation: operation) }
            response = HTTPResponder.error(error)
        }
        if tracksInFlight { metrics?.requestFinished() }
        if let metrics, let route, let consistency = consistencyLabel(route, limits: limits) {
            metrics.recordDuration(operation: operation, consistency: consistency, duration: ContinuousClock.now - started)
        }
        metrics?.recordResponse(operation: operation, status: response.status.code)
        return forMethod(request.method, response)
    }

    /// The route, with a route error turned into the `KVError` it carries.
    private static func parse(_ request: HTTPAPIRequest, limits: Limits) throws(KVError) -> HTTPRoute {
        do {
            return try HTTPRoute.parse(method: request.method, uri: request.uri, limits: limits)
        } catch {
            switch error {
            case .invalid(let kvError): throw kvError
            case .unknownRoute, .methodNotAllowed:
                // `endpoint(method:uri:)` matched already; the two share one table.
                throw .internalError(message: "the router matched \(request.method) \(request.uri) and then did not")
            }
        }
    }

    private static func perform(
        _ route: HTTPRoute, request: HTTPAPIRequest, service: any KVService, limits: Limits, metrics: NodeMetrics?,
        access: AccessControl?
    ) async throws(KVError) -> HTTPResponse {
        switch route {
        case .getKey(let bucket, let key, let options) where service.consistency(of: bucket) == .strong:
            return try await HTTPStrongRequests.get(bucket: bucket, key: key, options: options, service: service)
        case .putKey(let bucket, let key, let options, let returnBody, let ttlParameter) where service.consistency(of: bucket) == .strong:
            guard request.body.count <= limits.valueBytesMax else {
                throw .tooLarge(what: "value", bytes: request.body.count, limit: limits.valueBytesMax)
            }
            return try await HTTPStrongRequests.put(
                bucket: bucket, key: key, request: request, options: options, returnBody: returnBody, ttlParameter: ttlParameter,
                service: service)
        case .deleteKey(let bucket, let key, let options) where service.consistency(of: bucket) == .strong:
            return try await HTTPStrongRequests.delete(bucket: bucket, key: key, request: request, options: options, service: service)
        case .getKey(let bucket, let key, let options):
            return HTTPResponder.read(
                try await service.get(bucket: bucket, key: key, options: options), nowMilliseconds: WallClock.nowMilliseconds())
        case .putKey(let bucket, let key, let options, let returnBody, let ttlParameter):
            guard request.body.count <= limits.valueBytesMax else {
                throw .tooLarge(what: "value", bytes: request.body.count, limit: limits.valueBytesMax)
            }
            var conditions = try HTTPConditionalHeaders.putConditions(headers: request.headers, returnBody: returnBody)
            if let ttl = try HTTPExpiryHeaders.ttlSeconds(parameter: ttlParameter, headers: request.headers, limits: limits) {
                // Relative to absolute here, by this node's clock: the coordinator's.
                conditions.expiry = .at(milliseconds: WallClock.nowMilliseconds() + ttl * 1000)
            }
            let contentType = request.headers.first(name: "Content-Type").flatMap { $0.isEmpty ? nil : $0 }
            let result = try await service.put(
                bucket: bucket, key: key, value: request.body,
                contentType: contentType ?? HTTPResponder.defaultContentType,
                context: context(of: request), options: options, conditions: conditions)
            return returnBody
                ? HTTPResponder.writeReturningBody(result, nowMilliseconds: WallClock.nowMilliseconds()) : HTTPResponder.write(result)
        case .deleteKey(let bucket, let key, let options):
            try HTTPConditionalHeaders.checkDelete(headers: request.headers)
            let result = try await service.delete(bucket: bucket, key: key, context: context(of: request), options: options)
            return HTTPResponder.write(result)
        case .getType(let bucket, let key, let members, let options):
            let result = try await service.readType(
                bucket: bucket, key: key, members: members.map { MemberSelection.listed($0) } ?? MemberSelection.all, options: options)
            return try HTTPResponder.typedRead(result, selected: members != nil)
        case .updateType(let bucket, let key, let options):
            // The body's shape depends on the bucket's type ("remove" names set elements or
            // map fields), and the props are this node's own: no request to other nodes.
            guard let datatype = try await service.bucketProps(bucket: bucket).datatype else {
                throw .wrongType(message: HTTPTypedOperationDecoder.untypedBucketMessage(bucket))
            }
            let operation = try HTTPTypedOperationDecoder.decode(request.body, datatype: datatype, limits: limits)
            let result = try await service.updateType(bucket: bucket, key: key, operation: operation, options: options)
            return HTTPResponder.json(.ok, HTTPTypedUpdateDocument(result))
        case .resetType(let bucket, let key, let options):
            let result = try await service.updateType(bucket: bucket, key: key, operation: .reset, options: options)
            return HTTPResponder.json(.ok, HTTPTypedUpdateDocument(result))
        case .getBucketProps(let bucket):
            return HTTPResponder.bucketProps(bucket: bucket, props: try await service.bucketProps(bucket: bucket))
        case .setBucketProps(let bucket):
            guard request.body.count <= propsBodyBytesMax else {
                throw .tooLarge(what: "bucket props body", bytes: request.body.count, limit: propsBodyBytesMax)
            }
            let update = try HTTPBucketPropsUpdateDecoder.decode(request.body, limits: limits)
            let props = try await service.setBucketProps(bucket: bucket, update: update)
            return HTTPResponder.bucketProps(bucket: bucket, props: props)
        case .listKeys(let bucket, let cursor, let limit):
            return HTTPResponder.keyPage(try await service.listKeys(bucket: bucket, cursor: cursor, limit: limit))
        case .truncate(let bucket):
            return HTTPResponder.json(.ok, try await service.truncate(bucket: bucket))
        case .health:
            return HTTPResponder.health(service.health())
        case .status:
            return HTTPResponder.status(await service.status())
        case .ring:
            return HTTPResponder.ring(service.ringReport())
        case .metrics:
            return HTTPResponder.metrics(
                (metrics?.exposition(status: await service.status()) ?? []) + Array((access?.exposition() ?? "").utf8))
        case .statusPage:
            return HTTPResponder.statusPage(await service.status(), latency: metrics?.recent.summaries() ?? [])
        case .joinCluster(let seed):
            return HTTPResponder.json(.accepted, try await service.joinCluster(seed: seed))
        case .leaveCluster:
            return HTTPResponder.json(.accepted, try await service.leaveCluster())
        case .reloadACL:
            // Who may ask was checked before (`HTTPAccessGate`): admin on `*`.
            guard let access, access.enforcing else {
                throw .badParameter(name: "acl", message: "this node runs without --acl, so there is no ACL to reload; start it with --acl FILE")
            }
            switch access.reload() {
            case .reloaded(let users):
                return HTTPResponder.json(.ok, ACLReloadDocument(reloaded: true, users: users))
            case .kept(let reason):
                return HTTPResponder.json(.unprocessableEntity, HTTPErrorDocument(error: "acl_invalid", message: reason))
            }
        }
    }

    /// The `consistency` label of a key request's latency: its r (reads) or w (writes).
    /// Nil for routes whose latency is not recorded.
    static func consistencyLabel(_ route: HTTPRoute, limits: Limits) -> String? {
        switch route {
        case .getKey(_, _, let options), .getType(_, _, _, let options):
            return NodeMetrics.consistencyLabel(options.r, replicasMax: limits.replicasMax)
        case .putKey(_, _, let options, _, _), .deleteKey(_, _, let options), .updateType(_, _, let options),
            .resetType(_, _, let options):
            return NodeMetrics.consistencyLabel(options.w, replicasMax: limits.replicasMax)
        default: return nil
        }
    }

    /// A HEAD answer is the GET answer without its body; `Content-Length` still tells its size.
    static func forMethod(_ method: String, _ response: HTTPResponse) -> HTTPResponse {
        guard method == "HEAD" else { return response }
        var headless = response
        headless.body = []
        return headless
    }

    /// The `X-Context` header, nil when absent or empty.
    static func context(of request: HTTPAPIRequest) -> String? {
        guard let value = request.headers.first(name: HTTPResponder.contextHeader)?.trimmingWhitespace(), !value.isEmpty
        else { return nil }
        return value
    }
}

extension String {  // file-private helper
    fileprivate func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
