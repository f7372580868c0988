import XCTest

@testable import QuorumNode

/// Redis's glob rules, as `KEYS`, `SCAN … MATCH` and `CONFIG GET` use them.
final class RESPGlobTests: XCTestCase {
    private func match(_ pattern: String, _ text: String) -> Bool {
        RESPGlob.matches(Array(pattern.utf8), Array(text.utf8))
    }

    func testStarAndQuestionMark() {
        XCTAssertTrue(match("*", ""))
        XCTAssertTrue(match("*", "anything"))
        XCTAssertTrue(match("user:*", "user:42"))
        XCTAssertFalse(match("user:*", "users:42"))
        XCTAssertTrue(match("h?llo", "hello"))
        XCTAssertFalse(match("h?llo", "hllo"))
        XCTAssertTrue(match("a*b*c", "aXbYbZc"))
        XCTAssertFalse(match("a*b*c", "aXbYbZ"))
        XCTAssertTrue(match("**a**", "bab"))
        XCTAssertFalse(match("", "a"))
        XCTAssertTrue(match("", ""))
        XCTAssertTrue(match("*x", "xxxx"))
    }

    func testSetsRangesAndNegation() {
        XCTAssertTrue(match("h[ae]llo", "hello"))
        XCTAssertTrue(match("h[ae]llo", "hallo"))
        XCTAssertFalse(match("h[ae]llo", "hillo"))
        XCTAssertTrue(match("h[^e]llo", "hallo"))
        XCTAssertFalse(match("h[^e]llo", "hello"))
        XCTAssertTrue(match("h[a-b]llo", "hbllo"))
        XCTAssertFalse(match("h[a-b]llo", "hcllo"))
        XCTAssertTrue(match("h[b-a]llo", "hallo"), "a reversed range counts, as in Redis")
        XCTAssertTrue(match("k[0-9][0-9]", "k42"))
        XCTAssertFalse(match("k[0-9][0-9]", "k4x"))
        XCTAssertFalse(match("[!a]", "b"), "`!` is not Redis's negation: [!a] is the set {!, a}")
        XCTAssertTrue(match("[!a]", "!"))
    }

    func testEscapes() {
        XCTAssertTrue(match("a\\*b", "a*b"))
        XCTAssertFalse(match("a\\*b", "aXb"))
        XCTAssertTrue(match("a\\?", "a?"))
        XCTAssertFalse(match("a\\?", "ab"))
        XCTAssertTrue(match("[\\]]", "]"))
        XCTAssertTrue(match("[a\\-z]", "-"))
        XCTAssertFalse(match("[a\\-z]", "b"))
        XCTAssertTrue(match("x\\", "x\\"), "a trailing backslash matches a backslash")
    }

    func testUnterminatedSetAndBinary() {
        XCTAssertTrue(match("[abc", "b"), "an unterminated set takes the rest of the pattern")
        XCTAssertFalse(match("[abc", "d"))
        XCTAssertTrue(RESPGlob.matches([0x00, UInt8(ascii: "*")], [0x00, 0xFF, 0x0D]))
        XCTAssertFalse(RESPGlob.matches([0x00, UInt8(ascii: "?")], [0x01, 0xFF]))
    }

    func testManyStarsStayFast() {
        let pattern = String(repeating: "*a", count: 40) + "b"
        let text = String(repeating: "a", count: 1000)
        let start = Date()
        XCTAssertFalse(match(pattern, text))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "matching must not backtrack exponentially")
    }
}
