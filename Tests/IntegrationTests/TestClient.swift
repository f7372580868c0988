import Foundation
import NIOCore
import NIOSSL
import QuorumNode

/// Thin helpers over the real HTTP client for readable tests.
struct TestClient: Sendable {
    let base: String
    /// Trust for an `https://` base (the test CA); nil for plain HTTP.
    var tls: NIOSSLContext? = nil

    func request(
        _ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8]? = nil, timeoutMilliseconds: Int = 10_000
    ) async throws -> HTTPClientResponse {
        try await KVHTTPClient(baseURL: base, tls: tls).send(
            method: method, path: path, query: query, headers: headers, body: body,
            timeout: .milliseconds(Int64(timeoutMilliseconds)))
    }

    func put(
        _ key: String, _ value: String, bucket: String = "default", query: [(String, String)] = [], context: String? = nil
    ) async throws -> HTTPClientResponse {
        try await request(
            "PUT", KVHTTPClient.kvPath(bucket: bucket, key: key), query: query,
            headers: [("Content-Type", "text/plain")] + (context.map { [("X-Context", $0)] } ?? []), body: Array(value.utf8))
    }

    func get(_ key: String, bucket: String = "default", query: [(String, String)] = []) async throws -> HTTPClientResponse {
        try await request("GET", KVHTTPClient.kvPath(bucket: bucket, key: key), query: query)
    }

    func delete(_ key: String, bucket: String = "default", query: [(String, String)] = [], context: String? = nil) async throws -> HTTPClientResponse {
        try await request(
            "DELETE", KVHTTPClient.kvPath(bucket: bucket, key: key), query: query,
            headers: context.map { [("X-Context", $0)] } ?? [])
    }

    func setProps(_ bucket: String, _ json: String) async throws -> HTTPClientResponse {
        try await request(
            "PUT", "/buckets/\(bucket)/props", headers: [("Content-Type", "application/json")], body: Array(json.utf8))
    }
}

extension HTTPClientResponse {
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// Values of a 300 Multiple Choices answer.
    var siblingValues: Set<String> {
        let siblings = json["siblings"] as? [[String: Any]] ?? []
        return Set(siblings.compactMap { $0["value"] as? String })
    }
}
