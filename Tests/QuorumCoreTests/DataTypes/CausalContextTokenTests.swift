import QuorumCore
import XCTest

/// The context token HTTP clients carry from a read to a remove: round trips, equal
/// contexts give equal tokens, and anything else is a `bad_parameter` naming `context`.
final class CausalContextTokenTests: XCTestCase {
    private func refusal(_ token: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            _ = try CausalContext(token: token)
            XCTFail("\(token) must be refused", file: file, line: line)
            return nil
        } catch {
            guard case .badParameter(let name, let message) = error else {
                XCTFail("expected bad_parameter, got \(error)", file: file, line: line)
                return nil
            }
            XCTAssertEqual(name, "context", file: file, line: line)
            return message
        }
    }

    func testRoundTripsAndIsCanonical() throws {
        let contexts = [
            CausalContext.empty,
            CausalContext(vv: ["node1.a": 3]),
            CausalContext(vv: ["node1.a": 3, "node2.b": 9], cloud: [Dot(actor: "node1.a", counter: 7), Dot(actor: "node3.c", counter: 2)]),
        ]
        for context in contexts {
            XCTAssertEqual(try CausalContext(token: context.token), context)
            XCTAssertFalse(context.token.contains("="), "URL-safe base64 without padding")
            XCTAssertFalse(context.token.contains("+") || context.token.contains("/"))
        }
        let a = CausalContext(vv: ["x": 1], cloud: [Dot(actor: "x", counter: 2)])
        let b = CausalContext(vv: ["x": 2])
        XCTAssertEqual(a.token, b.token, "equal contexts (after compaction) give equal tokens")
    }

    func testGarbageIsRefusedWithAClearMessage() throws {
        let valid = CausalContext(vv: ["node1.a": 3]).token
        XCTAssertTrue(refusal("")?.contains("not one QuorumKV issued") ?? false)
        XCTAssertTrue(refusal("not!a!token")?.contains("base64") ?? false)
        var newer = Base64URL.decode(valid)!
        newer[0] = 9
        XCTAssertTrue(refusal(Base64URL.encode(newer))?.contains("newer QuorumKV") ?? false)
        XCTAssertTrue(refusal(Base64URL.encode(Base64URL.decode(valid)! + [0]))?.contains("damaged") ?? false, "trailing bytes")
        XCTAssertTrue(refusal(Base64URL.encode(Array(Base64URL.decode(valid)!.dropLast())))?.contains("damaged") ?? false, "truncated")
        var limits = Limits.defaults
        limits.typedActorsMax = 1
        let three = CausalContext(vv: ["a": 1, "b": 1, "c": 1]).token
        XCTAssertThrowsError(try CausalContext(token: three, limits: limits), "more actors than the decode bound")
    }
}
