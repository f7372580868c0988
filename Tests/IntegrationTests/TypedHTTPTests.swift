import Foundation
import QuorumCore
import QuorumNode
import XCTest

/// Counters, sets and maps through the HTTP API (`/types`) and `quorumkv type` / `shell`
/// on a real three-node cluster: bucket props with a datatype, every operation shape,
/// the context a remove sends back, resets, and the errors a client can act on.
final class TypedHTTPTests: ClusterTestCase {
    private var curl: Curl!
    private var cli: CLIRunner!

    override func setUp() async throws {
        try await super.setUp()
        curl = try Curl(base: cluster.endpoint(0))
        cli = try CLIRunner()
    }

    private func post(_ path: String, _ body: String) async throws -> Curl.Response {
        try await curl.request("POST", path, headers: ["Content-Type: application/json"], body: body)
    }

    private func typed(_ bucket: String, _ datatype: String) async throws {
        let props = try await curl.request("PUT", "/buckets/\(bucket)/props", body: #"{"datatype":"\#(datatype)"}"#)
        XCTAssertEqual(props.status, 200, props.description)
        XCTAssertEqual(props.json["datatype"] as? String, datatype)
    }

    func testCounterBucketPropsIncrementsRetryIdAndReset() async throws {
        try await typed("hits", "counter")
        let shown = try await curl.request("GET", "/buckets/hits/props")
        XCTAssertEqual(shown.json["datatype"] as? String, "counter", shown.description)
        let otherNode = try await KVHTTPClient(baseURL: cluster.endpoint(2)).bucketProps(bucket: "hits")
        XCTAssertEqual(otherNode.datatype, .counter, "every member adopted the type before the change was acknowledged")

        let changed = try await curl.request("PUT", "/buckets/hits/props", body: #"{"datatype":"set"}"#)
        XCTAssertEqual(changed.status, 400, changed.description)
        XCTAssertEqual(changed.json["parameter"] as? String, "datatype", changed.description)
        let same = try await curl.request("PUT", "/buckets/hits/props", body: #"{"datatype":"counter","w":"quorum"}"#)
        XCTAssertEqual(same.status, 200, "naming the type it has is no change: \(same)")
        _ = try await curl.request("PUT", "/buckets/plain/props", body: #"{"conflict":"vclock"}"#)
        let typingPlain = try await curl.request("PUT", "/buckets/plain/props", body: #"{"datatype":"set"}"#)
        XCTAssertEqual(typingPlain.status, 400, typingPlain.description)
        XCTAssertTrue((typingPlain.json["message"] as? String ?? "").contains("plain values"), typingPlain.description)
        let unknown = try await curl.request("PUT", "/buckets/other/props", body: #"{"datatype":"list"}"#)
        XCTAssertEqual(unknown.status, 400, unknown.description)
        XCTAssertTrue((unknown.json["message"] as? String ?? "").contains("counter, set or map"), unknown.description)

        let five = try await post("/types/hits/home?w=2", #"{"increment": 5}"#)
        XCTAssertEqual(five.status, 200, five.description)
        XCTAssertEqual(five.json["value"] as? Int, 5)
        XCTAssertGreaterThanOrEqual(five.json["acks"] as? Int ?? 0, 2)
        let down = try await post("/types/hits/home", #"{"increment": -2, "id": "retry-1"}"#)
        XCTAssertEqual(down.json["value"] as? Int, 3, down.description)
        let retried = try await post("/types/hits/home", #"{"increment": -2, "id": "retry-1"}"#)
        XCTAssertEqual(retried.json["value"] as? Int, 3, "a retry with the same id at the same lead is not counted again: \(retried)")
        let big = try await post("/types/hits/big", #"{"increment": 9007199254740993}"#)
        XCTAssertEqual(String(decoding: big.body, as: UTF8.self).contains("9007199254740993"), true, "64-bit increments stay exact: \(big)")

        let read = try await KVHTTPClient(baseURL: cluster.endpoint(1)).readType(
            bucket: "hits", key: Array("home".utf8), options: RequestOptions(r: .count(3)))
        XCTAssertEqual(read?.type, .counter)
        XCTAssertEqual(read?.value, .integer(3))
        XCTAssertFalse(read?.context.isEmpty ?? true)

        let wrongShape = try await post("/types/hits/home", #"{"add": "x"}"#)
        XCTAssertEqual(wrongShape.status, 400, wrongShape.description)
        XCTAssertEqual(wrongShape.json["parameter"] as? String, "add")
        let fractional = try await post("/types/hits/home", #"{"increment": 1.5}"#)
        XCTAssertEqual(fractional.status, 400, fractional.description)
        let plainRead = try await curl.request("GET", "/kv/hits/home")
        XCTAssertEqual(plainRead.status, 400, plainRead.description)
        XCTAssertEqual(plainRead.json["error"] as? String, "wrong_type")
        let typedOnPlain = try await post("/types/default/home", #"{"increment": 1}"#)
        XCTAssertEqual(typedOnPlain.status, 400, typedOnPlain.description)
        XCTAssertEqual(typedOnPlain.json["error"] as? String, "wrong_type")

        let reset = try await curl.request("DELETE", "/types/hits/home")
        XCTAssertEqual(reset.status, 200, reset.description)
        XCTAssertEqual(reset.json["count"] as? Int, 1)
        let gone = try await curl.request("GET", "/types/hits/home")
        XCTAssertEqual(gone.status, 404, "a reset key reads as absent: \(gone)")
        let again = try await post("/types/hits/home", #"{"increment": 1}"#)
        XCTAssertEqual(again.json["value"] as? Int, 1, "counting starts over after a reset: \(again)")
        let resetBody = try await post("/types/hits/home", #"{"reset": true}"#)
        XCTAssertEqual(resetBody.json["count"] as? Int, 1, resetBody.description)
    }

    func testSetAddsRemovesWithContextAndMembers() async throws {
        try await typed("tags", "set")
        let added = try await post("/types/tags/post", #"{"add_all": ["red", "green", "blue"]}"#)
        XCTAssertEqual(added.json["count"] as? Int, 3, added.description)
        let again = try await post("/types/tags/post", #"{"add": "red"}"#)
        XCTAssertEqual(again.json["count"] as? Int, 0, "red was there already: \(again)")

        let read = try await curl.request("GET", "/types/tags/post?r=2")
        XCTAssertEqual(read.status, 200, read.description)
        XCTAssertEqual(read.json["type"] as? String, "set")
        XCTAssertEqual(read.json["value"] as? [String], ["blue", "green", "red"])
        let context = try XCTUnwrap(read.json["context"] as? String)
        let some = try await curl.request("GET", "/types/tags/post?member=red&member=pink")
        XCTAssertEqual(some.json["value"] as? [String], ["red"], some.description)

        // An add the read did not see survives a remove that carries the read's context.
        _ = try await post("/types/tags/post", #"{"add": "pink"}"#)
        let removed = try await post("/types/tags/post", #"{"remove_all": ["red", "pink"], "context": "\#(context)"}"#)
        XCTAssertEqual(removed.status, 200, removed.description)
        let after = try await curl.request("GET", "/types/tags/post")
        XCTAssertEqual(after.json["value"] as? [String], ["blue", "green", "pink"], "add wins over a remove that had not seen it: \(after)")
        let withoutContext = try await post("/types/tags/post", #"{"remove": "pink"}"#)
        XCTAssertEqual(withoutContext.json["count"] as? Int, 1, withoutContext.description)

        let mixed = try await post("/types/tags/post", #"{"add": "x", "remove": "blue"}"#)
        XCTAssertEqual(mixed.status, 400, mixed.description)
        XCTAssertTrue((mixed.json["message"] as? String ?? "").contains("two requests"), mixed.description)
        let garbage = try await post("/types/tags/post", #"{"remove": "blue", "context": "not!a!token"}"#)
        XCTAssertEqual(garbage.status, 400, garbage.description)
        XCTAssertEqual(garbage.json["parameter"] as? String, "context")
        let notJSON = try await post("/types/tags/post", "add x")
        XCTAssertEqual(notJSON.status, 400, notJSON.description)
        let absent = try await curl.request("GET", "/types/tags/nothing")
        XCTAssertEqual(absent.status, 404, absent.description)
    }

    func testMapFieldsRegistersCountersFlagsAndRemoves() async throws {
        try await typed("users", "map")
        let set = try await post(
            "/types/users/ada", #"{"update": {"name": {"register": "Ada"}, "visits": {"counter": 2}, "admin": {"flag": true}}}"#)
        XCTAssertEqual(set.status, 200, set.description)
        XCTAssertEqual(set.json["count"] as? Int, 3, "three fields created: \(set)")
        let read = try await curl.request("GET", "/types/users/ada")
        let value = try XCTUnwrap(read.json["value"] as? [String: Any], read.description)
        XCTAssertEqual(value["name"] as? String, "Ada")
        XCTAssertEqual(value["visits"] as? Int, 2)
        XCTAssertEqual(value["admin"] as? Bool, true)
        let removed = try await post("/types/users/ada", #"{"remove": ["admin"], "update": {"visits": {"counter": 1}}}"#)
        XCTAssertEqual(removed.status, 200, removed.description)
        let after = try await curl.request("GET", "/types/users/ada?member=visits&member=admin")
        XCTAssertEqual((after.json["value"] as? [String: Any])?["visits"] as? Int, 3, after.description)
        XCTAssertNil((after.json["value"] as? [String: Any])?["admin"], after.description)
        let both = try await post("/types/users/ada", #"{"remove": ["name"], "update": {"name": {"register": "x"}}}"#)
        XCTAssertEqual(both.status, 400, both.description)
        let badField = try await post("/types/users/ada", #"{"update": {"name": {"text": "x"}}}"#)
        XCTAssertEqual(badField.status, 400, badField.description)
    }

    func testCLITypeCommandsAndTheShell() async throws {
        let endpoint = ["--endpoint", cluster.endpoint(1)]
        let create = try await cli.run(["type", "create", "set", "--bucket", "cli-tags"] + endpoint)
        XCTAssertEqual(create.status, 0, "\(create)")
        XCTAssertEqual(create.text, "bucket cli-tags: datatype set\n")
        let added = try await cli.run(["type", "sadd", "post", "b", "a", "--bucket", "cli-tags", "--w", "2"] + endpoint)
        XCTAssertEqual(added.text, "2\n", "\(added)")
        let members = try await cli.run(["type", "smembers", "post", "--bucket", "cli-tags", "--r", "2"] + endpoint)
        XCTAssertEqual(members.text, "a\nb\n", "\(members)")
        let isMember = try await cli.run(["type", "SISMEMBER", "post", "a", "--bucket", "cli-tags"] + endpoint)
        XCTAssertEqual(isMember.text, "1\n", "\(isMember)")
        let wrong = try await cli.run(["type", "incr", "post", "--bucket", "cli-tags"] + endpoint)
        XCTAssertEqual(wrong.status, 2, "\(wrong)")
        XCTAssertTrue(wrong.stderr.contains("increment"), wrong.stderr)
        let usage = try await cli.run(["type", "hset", "k", "field", "--bucket", "cli-tags"] + endpoint)
        XCTAssertEqual(usage.status, 2, "\(usage)")

        let withN = try await cli.run(["type", "create", "counter", "--bucket", "cli-two", "--n", "2"] + endpoint)
        XCTAssertEqual(withN.status, 0, "\(withN)")
        let twoProps = try await KVHTTPClient(baseURL: cluster.endpoint(0)).bucketProps(bucket: "cli-two")
        XCTAssertEqual(twoProps.n, 2, "create takes --n as the bucket's n")
        XCTAssertEqual(twoProps.datatype, .counter)
        let negative = try await cli.run(["type", "incrby", "k", "-5", "--bucket", "cli-two"] + endpoint)
        XCTAssertEqual(negative.text, "-5\n", "a negative amount is an argument, not a flag: \(negative)")
        _ = try await cli.run(["type", "create", "map", "--bucket", "cli-users"] + endpoint)
        let hset = try await cli.run(["type", "hset", "u1", "name", "Ada", "lang", "Swift", "--bucket", "cli-users", "--json"] + endpoint)
        XCTAssertEqual(hset.json["count"] as? Int, 2, "\(hset)")
        let hget = try await cli.run(["type", "hget", "u1", "lang", "--bucket", "cli-users"] + endpoint)
        XCTAssertEqual(hget.text, "Swift\n", "\(hget)")
        let missing = try await cli.run(["type", "hget", "u1", "age", "--bucket", "cli-users"] + endpoint)
        XCTAssertEqual(missing.status, 1, "an absent field is not found: \(missing)")

        let script = "USE cli-counts\nCREATE counter\nINCRBY page 5\nDECR page\nREAD page\nSADD page x\n"
        let shell = try await cli.run(["shell"] + endpoint, stdin: Array(script.utf8))
        let lines = shell.lines
        XCTAssertTrue(lines.contains("bucket cli-counts: datatype counter"), "\(shell)")
        XCTAssertTrue(lines.contains("5") && lines.contains("4"), "\(shell)")
        XCTAssertTrue(lines.contains { $0.hasPrefix(#"{"context":""#) && $0.contains(#""type":"counter","value":4"#) }, "\(shell)")
        XCTAssertTrue(shell.stderr.contains("error: bad_parameter"), "SADD on a counter bucket fails and the shell goes on: \(shell)")
    }
}
