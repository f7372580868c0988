import Foundation
import QuorumNode
import XCTest

/// `docs/openapi.json` matches the server: every documented operation, sent to a real
/// three-node cluster with its documented examples, answers one of its documented status
/// codes (never an unknown-route 404 or a 405) with a documented content type; every
/// route the router knows (`HTTPEndpoint`) is documented; every `$ref` resolves.
final class OpenAPITests: ClusterTestCase {
    static let documentPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.json").path

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options"]

    private func loadDocument() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.documentPath))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "openapi.json is an object")
    }

    func testEveryDocumentedOperationAnswersADocumentedStatus() async throws {
        let document = try loadDocument()
        XCTAssertEqual((document["openapi"] as? String)?.hasPrefix("3.0"), true)
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        let client = KVHTTPClient(baseURL: cluster.endpoint(0))
        var checked = 0
        // Leaving changes the cluster (node 1 hands off and exits), so it goes last.
        let order = { (template: String) in (template == "/cluster/leave" ? 1 : 0, template) }
        for (template, item) in paths.sorted(by: { order($0.key) < order($1.key) }) {
            let shared = try parameters(item["parameters"], in: document)
            for method in Self.methods {
                guard let operation = item[method] as? [String: Any] else { continue }
                let name = "\(method.uppercased()) \(template) (\(operation["operationId"] as? String ?? "?"))"
                let parameters = shared + (try self.parameters(operation["parameters"], in: document))
                let (path, query) = try request(template: template, parameters: parameters, name: name)
                let (headers, body) = try self.body(operation["requestBody"], in: document)
                let response = try await client.send(
                    method: method.uppercased(), path: path, query: query, headers: headers, body: body, timeout: .seconds(10))
                let documented = try XCTUnwrap(operation["responses"] as? [String: Any], "\(name) has responses")
                let text = String(decoding: response.body.prefix(300), as: UTF8.self)
                XCTAssertNotEqual(response.status, 405, "\(name) is routed: \(text)")
                XCTAssertFalse(text.contains("no such route"), "\(name) is routed: \(text)")
                guard let answer = documented[String(response.status)] else {
                    XCTFail("\(name) answered \(response.status), documented: \(documented.keys.sorted()): \(text)")
                    continue
                }
                let resolved = try resolve(answer, in: document)
                if let content = resolved["content"] as? [String: Any] {
                    let type = response.header("Content-Type") ?? ""
                    XCTAssertTrue(
                        content.keys.contains { $0 == "*/*" || $0 == type || type.hasPrefix($0 + ";") },
                        "\(name) \(response.status) Content-Type \(type) is not one of \(content.keys.sorted())")
                    try checkRequiredFields(response.body, media: content[type], name: "\(name) \(response.status)", in: document)
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, HTTPEndpoint.allCases.count, "one documented operation per endpoint")
    }

    func testEveryRouteIsDocumentedAndNothingElse() throws {
        let document = try loadDocument()
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        for endpoint in HTTPEndpoint.allCases {
            let operation = paths[endpoint.pathTemplate]?[endpoint.method.lowercased()] as? [String: Any]
            XCTAssertNotNil(operation, "\(endpoint.method) \(endpoint.pathTemplate) is not documented")
            XCTAssertEqual(operation?["operationId"] as? String, endpoint.rawValue, "operationId of \(endpoint.pathTemplate)")
        }
        for (template, item) in paths {
            for method in Self.methods where item[method] != nil {
                XCTAssertTrue(
                    HTTPEndpoint.allCases.contains { $0.pathTemplate == template && $0.method.lowercased() == method },
                    "\(method.uppercased()) \(template) is documented but the router does not know it")
            }
        }
    }

    func testEveryReferenceResolves() throws {
        let document = try loadDocument()
        var references: [String] = []
        func walk(_ node: Any) {
            if let object = node as? [String: Any] {
                if let ref = object["$ref"] as? String { references.append(ref) }
                object.values.forEach(walk)
            } else if let array = node as? [Any] {
                array.forEach(walk)
            }
        }
        walk(document)
        XCTAssertFalse(references.isEmpty)
        for reference in Set(references) {
            XCTAssertNoThrow(try resolve(["$ref": reference], in: document), reference)
        }
    }

    /// A JSON answer has every top-level field its documented schema requires.
    private func checkRequiredFields(_ body: [UInt8], media: Any?, name: String, in document: [String: Any]) throws {
        guard let media = media as? [String: Any], let schemaNode = media["schema"] else { return }
        let schema = try resolve(schemaNode, in: document)
        guard let required = schema["required"] as? [String] else { return }
        let object = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "\(name): the body is a JSON object")
        for field in required { XCTAssertNotNil(object[field], "\(name): the body lacks the required field \(field)") }
    }

    // MARK: - Building requests from the document

    /// The parameters of a path item or operation, references resolved.
    private func parameters(_ node: Any?, in document: [String: Any]) throws -> [[String: Any]] {
        try (node as? [Any] ?? []).map { try resolve($0, in: document) }
    }

    /// The path with its parameters' examples filled in, and the query parameters that
    /// have examples.
    private func request(template: String, parameters: [[String: Any]], name: String) throws -> (String, [(String, String)]) {
        var path = template
        var query: [(String, String)] = []
        for parameter in parameters {
            let parameterName = try XCTUnwrap(parameter["name"] as? String)
            switch parameter["in"] as? String {
            case "path":
                let example = try XCTUnwrap(parameter["example"].map { "\($0)" }, "\(name): path parameter \(parameterName) has an example")
                path = path.replacingOccurrences(
                    of: "{\(parameterName)}", with: PercentEncoding.encodePathSegment(example.utf8))
            case "query":
                if let example = parameter["example"] { query.append((parameterName, "\(example)")) }
            default:
                break
            }
        }
        XCTAssertFalse(path.contains("{"), "\(name): every path parameter is documented")
        return (path, query)
    }

    /// The request body's example and its content type; a small text body for `*/*`.
    private func body(_ node: Any?, in document: [String: Any]) throws -> ([(String, String)], [UInt8]?) {
        guard let node else { return ([], nil) }
        let requestBody = try resolve(node, in: document)
        let content = try XCTUnwrap(requestBody["content"] as? [String: Any])
        let (type, media) = try XCTUnwrap(content.first)
        let example = (media as? [String: Any])?["example"]
        switch example {
        case let text as String:
            return ([("Content-Type", type == "*/*" ? "text/plain" : type)], Array(text.utf8))
        case let object?:
            return ([("Content-Type", type)], Array(try JSONSerialization.data(withJSONObject: object)))
        case nil:
            return ([("Content-Type", "text/plain")], Array("value".utf8))
        }
    }

    /// Follows a local `$ref` (`#/components/...`); other nodes are returned as they are.
    private func resolve(_ node: Any, in document: [String: Any]) throws -> [String: Any] {
        let object = try XCTUnwrap(node as? [String: Any], "expected an object")
        guard let reference = object["$ref"] as? String else { return object }
        guard reference.hasPrefix("#/") else { throw HarnessError("non-local reference \(reference)") }
        var current: Any = document
        for part in reference.dropFirst(2).split(separator: "/") {
            guard let next = (current as? [String: Any])?[String(part)] else {
                throw HarnessError("\(reference) does not resolve")
            }
            current = next
        }
        return try resolve(current, in: document)
    }
}
