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

/// Routes a request to the `KVService` and renders the answer. Independent of NIO
/// channels, so the whole API can be tested by calling `respond` directly.
public enum HTTPAPI {
    /// Largest `PUT /buckets/{bucket}/props` body: a handful of fields.
    public static let propsBodyBytesMax = 64 * 1024

    public static func respond(to request: HTTPAPIRequest, service: any KVService, limits: Limits) async -> HTTPResponse {
        let route: HTTPRoute
        do {
            route = try HTTPRoute.parse(method: request.method, uri: request.uri, limits: limits)
        } catch {
            return HTTPResponder.routeError(error)
        }
        do throws(KVError) {
            switch route {
            case .getKey(let bucket, let key, let options):
                return HTTPResponder.read(try await service.get(bucket: bucket, key: key, options: options))
            case .putKey(let bucket, let key, let options):
                guard request.body.count <= limits.valueBytesMax else {
                    throw .tooLarge(what: "value", bytes: request.body.count, limit: limits.valueBytesMax)
                }
                let contentType = request.headers.first(name: "Content-Type").flatMap { $0.isEmpty ? nil : $0 }
                let result = try await service.put(
                    bucket: bucket, key: key, value: request.body,
                    contentType: contentType ?? HTTPResponder.defaultContentType,
                    context: context(of: request), options: options)
                return HTTPResponder.write(result)
            case .deleteKey(let bucket, let key, let options):
                let result = try await service.delete(bucket: bucket, key: key, context: context(of: request), options: options)
                return HTTPResponder.write(result)
            case .getBucketProps(let bucket):
                return HTTPResponder.bucketProps(bucket: bucket, props: try await service.bucketProps(bucket: bucket))
            case .setBucketProps(let bucket):
                guard request.body.count <= propsBodyBytesMax else {
                    throw .tooLarge(what: "bucket props body", bytes: request.body.count, limit: propsBodyBytesMax)
                }
                let update = try HTTPBucketPropsUpdateDecoder.decode(request.body, limits: limits)
                let props = try await service.setBucketProps(bucket: bucket, update: update)
                return HTTPResponder.bucketProps(bucket: bucket, props: props)
            case .health:
                return HTTPResponder.health(service.health())
            }
        } catch {
            return HTTPResponder.error(error)
        }
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
