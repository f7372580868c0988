import NIOHTTP1
import QuorumCore

/// `GET`, `PUT` and `DELETE /kv/{bucket}/{key}` on a strongly consistent bucket: each is
/// one `KVService.strong` operation, answered with ETags (docs/strong.md).
///
/// What belongs to eventual buckets is refused here with a 400 that says what to do
/// instead: `X-Context` (ETags replace it), a ttl (a strong bucket offers no expiry).
/// Per-request n/r/w/pr/pw are refused by the request driver, also with a 400.
enum HTTPStrongRequests {
    static func get(bucket: String, key: [UInt8], options: RequestOptions, service: any KVService) async throws(KVError)
        -> HTTPResponse
    {
        let answer = try await service.strong(bucket: bucket, key: key, operation: .read, options: options)
        switch answer {
        case .done(let value?, let etag?):
            if case .value(let bytes, let contentType) = value { return valueResponse(bytes, contentType: contentType, etag: etag) }
            return HTTPResponder.error(.notFound)
        case .done:
            return HTTPResponder.error(.notFound)
        case .conditionFailed(let current, let etag):
            return conditionFailed(current: current, etag: etag, condition: nil)
        }
    }

    static func put(
        bucket: String, key: [UInt8], request: HTTPAPIRequest, options: RequestOptions, returnBody: Bool, ttlParameter: UInt64?,
        service: any KVService
    ) async throws(KVError) -> HTTPResponse {
        try refuseContext(request)
        if ttlParameter != nil || request.headers.contains(name: HTTPExpiryHeaders.ttlHeader) {
            throw .badParameter(
                name: ttlParameter != nil ? HTTPRoute.ttlParameter : HTTPExpiryHeaders.ttlHeader,
                message: "bucket \(bucket) is strong, and a strong bucket offers no expiry; delete the key instead, "
                    + "or use an eventual bucket")
        }
        let condition = try HTTPStrongHeaders.putCondition(headers: request.headers)
        let contentType = request.headers.first(name: "Content-Type").flatMap { $0.isEmpty ? nil : $0 }
        let value = StrongValue.value(bytes: request.body, contentType: contentType ?? HTTPResponder.defaultContentType)
        let operation: StrongOperation = condition.map { .compareAndSet($0, value) } ?? .write(value)
        switch try await service.strong(bucket: bucket, key: key, operation: operation, options: options) {
        case .done(let written, let etag):
            var headers = HTTPHeaders()
            if let etag { headers.add(name: HTTPStrongHeaders.etag, value: HTTPStrongHeaders.value(of: etag)) }
            if returnBody, let etag, case .value(let bytes, let contentType)? = written {
                return valueResponse(bytes, contentType: contentType, etag: etag)
            }
            return HTTPResponse(status: .noContent, headers: headers)
        case .conditionFailed(let current, let etag):
            return conditionFailed(current: current, etag: etag, condition: condition)
        }
    }

    static func delete(
        bucket: String, key: [UInt8], request: HTTPAPIRequest, options: RequestOptions, service: any KVService
    ) async throws(KVError) -> HTTPResponse {
        try refuseContext(request)
        let condition = try HTTPStrongHeaders.deleteCondition(headers: request.headers)
        let operation: StrongOperation = condition.map { .compareAndSet($0, .tombstone) } ?? .delete
        switch try await service.strong(bucket: bucket, key: key, operation: operation, options: options) {
        case .done:
            return HTTPResponse(status: .noContent)
        case .conditionFailed(let current, let etag):
            return conditionFailed(current: current, etag: etag, condition: condition)
        }
    }

    /// 200 with the value, its content type and its ETag.
    static func valueResponse(_ bytes: [UInt8], contentType: String, etag: StrongETag) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType.isEmpty ? HTTPResponder.defaultContentType : contentType)
        headers.add(name: HTTPStrongHeaders.etag, value: HTTPStrongHeaders.value(of: etag))
        return HTTPResponse(status: .ok, headers: headers, body: bytes)
    }

    /// 412 `precondition_failed`: nothing was written. The current ETag rides in the
    /// header (none when the key holds no value), so a client can retry without a read.
    static func conditionFailed(current: StrongValue?, etag: StrongETag?, condition: StrongCondition?) -> HTTPResponse {
        var headers = HTTPHeaders()
        let holds: String
        if let etag, current.map({ !$0.isTombstone }) ?? true {
            headers.add(name: HTTPStrongHeaders.etag, value: HTTPStrongHeaders.value(of: etag))
            holds = "the key holds a value with ETag \(HTTPStrongHeaders.value(of: etag))"
        } else {
            holds = "the key holds no value"
        }
        let stated: String
        switch condition {
        case .ifMatch(let wanted)?: stated = "If-Match \(HTTPStrongHeaders.value(of: wanted)) did not hold: "
        case .ifPresent?: stated = "If-Match: * did not hold: "
        case .ifAbsent?: stated = "If-None-Match: * did not hold: "
        default: stated = "the condition did not hold: "
        }
        let message = stated + holds + "; nothing was written. Read the key again, then retry with its current ETag"
        return HTTPResponder.error(.preconditionFailed(message: message), headers: headers)
    }

    private static func refuseContext(_ request: HTTPAPIRequest) throws(KVError) {
        if HTTPAPI.context(of: request) != nil {
            throw .badParameter(
                name: HTTPResponder.contextHeader,
                message: "X-Context belongs to eventual buckets; on a strong bucket send If-Match with the ETag you read")
        }
    }
}
