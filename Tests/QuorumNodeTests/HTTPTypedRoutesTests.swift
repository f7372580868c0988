import Foundation
import QuorumCore
import XCTest

@testable import QuorumNode

/// `/types/{bucket}/{key}` routing and the JSON operation decoder, without a server.
final class HTTPTypedRoutesTests: XCTestCase {
    private func route(_ method: String, _ uri: String) -> Result<HTTPRoute, HTTPRouteError> {
        do { return .success(try HTTPRoute.parse(method: method, uri: uri)) } catch { return .failure(error) }
    }

    private func decode(_ json: String, _ datatype: DataType) -> Result<TypedOperation, KVError> {
        do { return .success(try HTTPTypedOperationDecoder.decode(Array(json.utf8), datatype: datatype)) } catch {
            return .failure(error)
        }
    }

    private func refusedParameter(_ json: String, _ datatype: DataType, file: StaticString = #filePath, line: UInt = #line) -> String? {
        guard case .failure(.badParameter(let name, _)) = decode(json, datatype) else {
            XCTFail("\(json) on a \(datatype) must be a bad parameter, got \(decode(json, datatype))", file: file, line: line)
            return nil
        }
        return name
    }

    func testRoutesMethodsAndMembers() {
        XCTAssertEqual(
            route("GET", "/types/tags/post%2F1?r=2&member=a&member=base64:_w"),
            .success(.getType(bucket: "tags", key: Array("post/1".utf8), members: [Array("a".utf8), [0xFF]], options: RequestOptions(r: .count(2)))))
        XCTAssertEqual(route("GET", "/types/tags/k"), .success(.getType(bucket: "tags", key: Array("k".utf8), members: nil, options: RequestOptions())))
        XCTAssertEqual(route("HEAD", "/types/tags/k").map(\.endpoint), .success(.getType))
        XCTAssertEqual(
            route("POST", "/types/hits/k?w=all&timeout=500"),
            .success(.updateType(bucket: "hits", key: Array("k".utf8), options: RequestOptions(w: .all, timeoutMilliseconds: 500))))
        XCTAssertEqual(route("DELETE", "/types/hits/k"), .success(.resetType(bucket: "hits", key: Array("k".utf8), options: RequestOptions())))
        guard case .failure(.methodNotAllowed(let allowed)) = route("PUT", "/types/hits/k") else { return XCTFail("PUT is not a typed method") }
        XCTAssertEqual(allowed, ["GET", "HEAD", "POST", "DELETE"])
        for bad in ["/types/hits/k?member=a", "/types/hits/k?ttl=5", "/types/hits/k?returnbody=true", "/types/hits/k?x=1"] {
            guard case .failure(.invalid(.badParameter)) = route("POST", bad) else { return XCTFail("\(bad) must be refused") }
        }
        guard case .failure(.invalid(.badParameter(let name, _))) = route("GET", "/types/hits/k?member=base64:***") else {
            return XCTFail("bad base64 member")
        }
        XCTAssertEqual(name, "member")
        guard case .failure(.invalid(.badParameter(let keyName, _))) = route("GET", "/types/hits") else { return XCTFail("missing key") }
        XCTAssertEqual(keyName, "key")
        XCTAssertEqual(HTTPEndpoint.getType.pathTemplate, "/types/{bucket}/{key}")
        XCTAssertEqual([HTTPEndpoint.getType, .updateType, .resetType].map(\.operationLabel), ["type_read", "type_update", "type_reset"])
    }

    func testCounterOperations() {
        XCTAssertEqual(decode(#"{"increment": 5}"#, .counter), .success(.increment(by: 5, operationID: nil)))
        XCTAssertEqual(decode(#"{"increment": -9223372036854775808}"#, .counter), .success(.increment(by: .min, operationID: nil)))
        XCTAssertEqual(decode(#"{"increment": 9007199254740993, "id": "r1"}"#, .counter), .success(.increment(by: 9_007_199_254_740_993, operationID: Array("r1".utf8))))
        XCTAssertEqual(refusedParameter(#"{"increment": 1.5}"#, .counter), "increment")
        XCTAssertEqual(refusedParameter(#"{"increment": 1e30}"#, .counter), "increment")
        XCTAssertEqual(refusedParameter(#"{"increment": "5"}"#, .counter), "increment")
        XCTAssertEqual(refusedParameter(#"{"increment": 1, "id": 7}"#, .counter), "id")
        XCTAssertEqual(refusedParameter(#"{"add": "x"}"#, .counter), "add")
        guard case .failure(.tooLarge) = decode(#"{"increment": 1, "id": "\#(String(repeating: "x", count: 65))"}"#, .counter) else {
            return XCTFail("an id past typedOperationIDBytesMax is too large")
        }
    }

    func testSetOperations() {
        XCTAssertEqual(decode(#"{"add": "x"}"#, .set), .success(.setAdd([Array("x".utf8)])))
        XCTAssertEqual(decode(#"{"add": "x", "add_all": ["y", "base64:AA"]}"#, .set), .success(.setAdd([Array("x".utf8), Array("y".utf8), [0]])))
        XCTAssertEqual(decode(#"{"remove": ["x", "y"]}"#, .set), .success(.setRemove([Array("x".utf8), Array("y".utf8)])))
        XCTAssertEqual(decode(#"{"remove_all": ["x"]}"#, .set), .success(.setRemove([Array("x".utf8)])))
        let context = CausalContext(vv: ["node1.a": 4])
        XCTAssertEqual(
            decode(#"{"remove": "x", "context": "\#(context.token)"}"#, .set),
            .success(.setRemoveObserved([Array("x".utf8)], context: context)))
        XCTAssertEqual(decode(#"{"add": "x", "context": "\#(context.token)"}"#, .set), .success(.setAdd([Array("x".utf8)])), "adds need no context")
        XCTAssertEqual(refusedParameter(#"{"add": "x", "remove": "y"}"#, .set), "body")
        XCTAssertEqual(refusedParameter(#"{"remove": "x", "context": "garbage!"}"#, .set), "context")
        XCTAssertEqual(refusedParameter(#"{"add_all": []}"#, .set), "add_all")
        XCTAssertEqual(refusedParameter(#"{"add": 3}"#, .set), "add")
        XCTAssertEqual(refusedParameter(#"{"context": "x"}"#, .set), "body")
        XCTAssertEqual(refusedParameter(#"{"update": {}}"#, .set), "update")
        XCTAssertEqual(refusedParameter(#"["add", "x"]"#, .set), "body")
        XCTAssertEqual(refusedParameter("", .set), "body")
        guard case .failure(.tooLarge) = decode(#"{"add": "\#(String(repeating: "x", count: 1025))"}"#, .set) else {
            return XCTFail("an element past typedMemberBytesMax is too large")
        }
    }

    func testMapOperationsAndReset() {
        XCTAssertEqual(
            decode(#"{"update": {"b": {"counter": -2}, "a": {"register": "v"}, "c": {"flag": false}, "d": {"flag": true}}, "remove": ["e"]}"#, .map),
            .success(.mapUpdate([
                .setRegister(field: Array("a".utf8), value: Array("v".utf8)), .incrementCounter(field: Array("b".utf8), by: -2),
                .disableFlag(field: Array("c".utf8)), .enableFlag(field: Array("d".utf8)), .removeField(field: Array("e".utf8)),
            ])), "updates in field order, then removes")
        XCTAssertEqual(decode(#"{"remove": "e"}"#, .map), .success(.mapUpdate([.removeField(field: Array("e".utf8))])))
        XCTAssertEqual(refusedParameter(#"{"update": {"a": {"register": "v"}}, "remove": ["a"]}"#, .map), "remove")
        XCTAssertEqual(refusedParameter(#"{"update": {"a": {"register": 1}}}"#, .map), "update")
        XCTAssertEqual(refusedParameter(#"{"update": {"a": {"register": "v", "counter": 1}}}"#, .map), "update")
        XCTAssertEqual(refusedParameter(#"{"add": "x"}"#, .map), "add")
        for datatype in DataType.allCases {
            XCTAssertEqual(decode(#"{"reset": true}"#, datatype), .success(.reset))
            XCTAssertEqual(refusedParameter(#"{"reset": false}"#, datatype), "reset")
        }
        XCTAssertEqual(refusedParameter(#"{"reset": true, "increment": 1}"#, .counter), "reset")
    }

    func testBucketPropsTakeAndShowTheDatatype() throws {
        XCTAssertEqual(try HTTPBucketPropsUpdateDecoder.decode(Array(#"{"datatype":"Set"}"#.utf8)).datatype, .set)
        XCTAssertThrowsError(try HTTPBucketPropsUpdateDecoder.decode(Array(#"{"datatype":"list"}"#.utf8)))
        let document = HTTPBucketPropsDocument(bucket: "b", props: BucketProps(datatype: .counter))
        let json = String(decoding: HTTPJSON.encode(document), as: UTF8.self)
        XCTAssertTrue(json.contains(#""datatype":"counter""#), json)
        XCTAssertFalse(String(decoding: HTTPJSON.encode(HTTPBucketPropsDocument(bucket: "b", props: BucketProps())), as: UTF8.self).contains("datatype"))
    }

    func testReadAndUpdateDocuments() throws {
        var state = TypedState(datatype: .set)
        XCTAssertEqual(try HTTPResponder.typedRead(TypedReadResult(state: nil, replies: 2), selected: false).status, .notFound)
        XCTAssertEqual(try HTTPResponder.typedRead(TypedReadResult(state: state, replies: 2), selected: false).status, .notFound, "nothing left: absent")
        XCTAssertEqual(try HTTPResponder.typedRead(TypedReadResult(state: state, replies: 2), selected: true).status, .ok, "the members asked for are absent")
        let delta = try TypedState.delta(
            applying: .setAdd([Array("x".utf8)]), actor: "n1.a", stamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0), current: state,
            limits: .defaults)
        state = state.joined(with: delta.delta, isFull: false)
        let response = try HTTPResponder.typedRead(TypedReadResult(state: state, replies: 2), selected: false)
        let document = try JSONDecoder().decode(HTTPTypedReadDocument.self, from: Data(response.body))
        XCTAssertEqual(document.type, .set)
        XCTAssertEqual(document.value, .array([.string("x")]))
        XCTAssertEqual(try CausalContext(token: document.context), state.context)

        let value = String(decoding: HTTPJSON.encode(HTTPTypedUpdateDocument(TypedUpdateResult(reply: .integer(-7), acks: 2))), as: UTF8.self)
        XCTAssertEqual(value, #"{"acks":2,"value":-7}"#)
        let count = String(decoding: HTTPJSON.encode(HTTPTypedUpdateDocument(TypedUpdateResult(reply: .count(3), acks: 1))), as: UTF8.self)
        XCTAssertEqual(count, #"{"acks":1,"count":3}"#)
    }

    func testClientCommandsParse() throws {
        XCTAssertEqual(try TypedClientCommand.parse(["incr", "k"]), .increment(key: "k", by: 1))
        XCTAssertEqual(try TypedClientCommand.parse(["DECRBY", "k", "4"]), .increment(key: "k", by: -4))
        XCTAssertEqual(try TypedClientCommand.parse(["sadd", "k", "a", "b"]), .setAdd(key: "k", elements: ["a", "b"]))
        XCTAssertEqual(
            try TypedClientCommand.parse(["HSET", "k", "f", "v", "g", "w"]),
            .mapSet(key: "k", pairs: [.init(field: "f", value: "v"), .init(field: "g", value: "w")]))
        XCTAssertEqual(try TypedClientCommand.parse(["create", "MAP"]), .create(.map))
        XCTAssertEqual(try TypedClientCommand.parse(["read", "k", "a"]), .read(key: "k", members: ["a"]))
        for bad in [["hset", "k", "f"], ["incrby", "k", "x"], ["create", "list"], ["frob", "k"], ["incr"], ["decrby", "k", "-9223372036854775808"]] {
            XCTAssertThrowsError(try TypedClientCommand.parse(bad), "\(bad)")
        }
        XCTAssertEqual(try ShellCommandParser.parse("SADD tags \"two words\" x"), .typed(.setAdd(key: "tags", elements: ["two words", "x"])))
    }
}
