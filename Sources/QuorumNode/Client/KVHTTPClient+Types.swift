import Foundation
import QuorumCore

/// The `/types` routes (counters, sets, maps) for the CLI, the shell, the bench and tests.
extension KVHTTPClient {
    /// `/types/{bucket}/{key}` with each segment percent-encoded.
    public static func typesPath(bucket: String, key: [UInt8]) -> String {
        "/types/\(PercentEncoding.encodePathSegment(bucket.utf8))/\(PercentEncoding.encodePathSegment(key))"
    }

    /// Reads a typed key (only `members` when given); nil when the key is absent.
    public func readType(
        bucket: String, key: [UInt8], members: [[UInt8]]? = nil, options: RequestOptions = RequestOptions()
    ) async throws(KVClientError) -> HTTPTypedReadDocument? {
        let query = options.queryItems + (members ?? []).map { (HTTPRoute.memberParameter, TypedJSONValue.text($0)) }
        let response = try await send(
            method: "GET", path: Self.typesPath(bucket: bucket, key: key), query: query, timeout: httpTimeout(options))
        if response.status == 404, Self.errorDocument(response)?.error == "not_found" { return nil }
        return try Self.decode(HTTPTypedReadDocument.self, from: response)
    }

    /// Sends one operation (`HTTPTypedOperationDecoder` lists the shapes), e.g.
    /// `.object([("increment", .integer(5))])`.
    @discardableResult
    public func updateType(
        bucket: String, key: [UInt8], operation: HTTPTypedJSON, options: RequestOptions = RequestOptions()
    ) async throws(KVClientError) -> HTTPTypedUpdateDocument {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(operation))
        } catch {
            throw .badResponse("could not encode the operation: \(error)")
        }
        let response = try await send(
            method: "POST", path: Self.typesPath(bucket: bucket, key: key), query: options.queryItems,
            headers: [("Content-Type", "application/json")], body: body, timeout: httpTimeout(options))
        return try Self.decode(HTTPTypedUpdateDocument.self, from: response)
    }

    /// Resets a typed key (an observed-remove of everything in it; `DEL` in RESP).
    @discardableResult
    public func resetType(
        bucket: String, key: [UInt8], options: RequestOptions = RequestOptions()
    ) async throws(KVClientError) -> HTTPTypedUpdateDocument {
        let response = try await send(
            method: "DELETE", path: Self.typesPath(bucket: bucket, key: key), query: options.queryItems,
            timeout: httpTimeout(options))
        return try Self.decode(HTTPTypedUpdateDocument.self, from: response)
    }
}
