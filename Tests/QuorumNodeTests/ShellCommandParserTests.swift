import QuorumCore
import QuorumNode
import XCTest

final class ShellCommandParserTests: XCTestCase {
    private func parse(_ line: String) throws -> ShellStatement { try ShellCommandParser.parse(line) }

    private func parseError(_ line: String, file: StaticString = #filePath, line number: UInt = #line) -> ShellParseError? {
        do {
            let statement = try ShellCommandParser.parse(line)
            XCTFail("\"\(line)\" parsed as \(statement)", file: file, line: number)
            return nil
        } catch {
            return error
        }
    }

    func testBlankLinesAndComments() throws {
        XCTAssertEqual(try parse(""), .empty)
        XCTAssertEqual(try parse("   \t "), .empty)
        XCTAssertEqual(try parse("# a comment"), .empty)
        XCTAssertEqual(try parse("  # indented comment"), .empty)
    }

    func testCommandWordsAreCaseInsensitiveKeysAreNot() throws {
        XCTAssertEqual(try parse("GET Greeting"), .get(key: "Greeting"))
        XCTAssertEqual(try parse("get Greeting"), .get(key: "Greeting"))
        XCTAssertEqual(try parse("  Get   Greeting  "), .get(key: "Greeting"))
        XCTAssertEqual(try parse("GET k\r"), .get(key: "k"))
    }

    func testQuotedKeys() throws {
        XCTAssertEqual(try parse(#"GET "my key""#), .get(key: "my key"))
        XCTAssertEqual(try parse("GET 'my key'"), .get(key: "my key"))
        XCTAssertEqual(try parse(#"GET a"b c"d"#), .get(key: "ab cd"))
        XCTAssertEqual(try parse(#"GET "say \"hi\"""#), .get(key: #"say "hi""#))
        XCTAssertEqual(try parse(#"GET 'no \n escapes'"#), .get(key: #"no \n escapes"#))
        XCTAssertEqual(parseError(#"GET "open"#)?.code, "syntax_error")
        XCTAssertEqual(parseError("GET two words")?.code, "syntax_error")
        XCTAssertEqual(parseError("GET")?.code, "syntax_error")
        XCTAssertEqual(parseError(#"GET """#)?.code, "bad_parameter")
    }

    func testPutValueIsTheRestOfTheLine() throws {
        XCTAssertEqual(try parse("PUT greeting hello"), .put(key: "greeting", value: "hello"))
        XCTAssertEqual(try parse("PUT greeting hello   big  world   "), .put(key: "greeting", value: "hello   big  world"))
        XCTAssertEqual(try parse("set k it's fine"), .put(key: "k", value: "it's fine"))
        XCTAssertEqual(try parse(#"PUT k {"a": 1}"#), .put(key: "k", value: #"{"a": 1}"#))
        XCTAssertEqual(try parse(#"PUT "my key" v"#), .put(key: "my key", value: "v"))
        XCTAssertEqual(parseError("PUT k")?.code, "syntax_error")
        XCTAssertEqual(parseError("PUT")?.code, "syntax_error")
    }

    func testPutQuotedValue() throws {
        XCTAssertEqual(try parse(#"PUT k "  padded  ""#), .put(key: "k", value: "  padded  "))
        XCTAssertEqual(try parse(#"PUT k "line1\nline2\ttab \\ \"q\"""#), .put(key: "k", value: "line1\nline2\ttab \\ \"q\""))
        XCTAssertEqual(try parse("PUT k 'single $quoted'"), .put(key: "k", value: "single $quoted"))
        XCTAssertEqual(try parse(#"PUT k """#), .put(key: "k", value: ""))
        XCTAssertEqual(parseError(#"PUT k "a" "b""#)?.code, "syntax_error")
        XCTAssertEqual(parseError(#"PUT k "unterminated"#)?.code, "syntax_error")
    }

    func testResolveAndDelete() throws {
        XCTAssertEqual(try parse("RESOLVE cart apples,pears"), .resolve(key: "cart", value: "apples,pears"))
        XCTAssertEqual(try parse("DELETE cart"), .delete(key: "cart", withContext: false))
        XCTAssertEqual(try parse("del cart context"), .delete(key: "cart", withContext: true))
        XCTAssertEqual(parseError("DELETE cart now")?.code, "syntax_error")
        XCTAssertEqual(parseError("RESOLVE cart")?.code, "syntax_error")
    }

    func testUse() throws {
        XCTAssertEqual(try parse("USE carts"), .use(bucket: "carts"))
        XCTAssertEqual(try parse("use my_bucket-1.x"), .use(bucket: "my_bucket-1.x"))
        XCTAssertEqual(try parse("USE"), .use(bucket: nil))
        XCTAssertEqual(parseError("USE bad/name")?.code, "bad_parameter")
        XCTAssertEqual(parseError("USE a b")?.code, "syntax_error")
    }

    func testConsistency() throws {
        XCTAssertEqual(try parse("CONSISTENCY"), .consistency(nil))
        XCTAssertEqual(try parse("CONSISTENCY QUORUM"), .consistency(ShellConsistencyChange(r: .quorum, w: .quorum)))
        XCTAssertEqual(try parse("consistency all"), .consistency(ShellConsistencyChange(r: .all, w: .all)))
        XCTAssertEqual(try parse("CONSISTENCY 2"), .consistency(ShellConsistencyChange(r: .count(2), w: .count(2))))
        XCTAssertEqual(
            try parse("CONSISTENCY R 2 W 3 N 3"), .consistency(ShellConsistencyChange(n: 3, r: .count(2), w: .count(3))))
        XCTAssertEqual(try parse("CONSISTENCY r=one w=all"), .consistency(ShellConsistencyChange(r: .one, w: .all)))
        XCTAssertEqual(try parse("CONSISTENCY PR 1 PW quorum"), .consistency(ShellConsistencyChange(pr: .count(1), pw: .quorum)))
        XCTAssertEqual(try parse("CONSISTENCY W one"), .consistency(ShellConsistencyChange(w: .one)))
        XCTAssertEqual(try parse("CONSISTENCY DEFAULT"), .consistency(ShellConsistencyChange(reset: true)))
        XCTAssertEqual(parseError("CONSISTENCY most")?.code, "bad_parameter")
        XCTAssertEqual(parseError("CONSISTENCY R most")?.code, "bad_parameter")
        XCTAssertEqual(parseError("CONSISTENCY N 0")?.code, "bad_parameter")
        XCTAssertEqual(parseError("CONSISTENCY R 2 W")?.code, "syntax_error")
        XCTAssertEqual(parseError("CONSISTENCY X 2")?.code, "syntax_error")
        XCTAssertEqual(parseError("CONSISTENCY R 2 R 3")?.code, "syntax_error")
    }

    func testConsistencyChangeAppliesOnlyWhatIsNamed() {
        var options = RequestOptions(n: 2, r: .one, w: .all, timeoutMilliseconds: 500)
        ShellConsistencyChange(w: .quorum).apply(to: &options)
        XCTAssertEqual(options, RequestOptions(n: 2, r: .one, w: .quorum, timeoutMilliseconds: 500))
        ShellConsistencyChange(reset: true).apply(to: &options)
        XCTAssertEqual(options, RequestOptions(timeoutMilliseconds: 500))
    }

    func testTimeoutContextPropsKeys() throws {
        XCTAssertEqual(try parse("TIMEOUT"), .timeout(nil))
        XCTAssertEqual(try parse("TIMEOUT 500"), .timeout(.milliseconds(500)))
        XCTAssertEqual(try parse("timeout default"), .timeout(.serverDefault))
        XCTAssertEqual(parseError("TIMEOUT 0")?.code, "bad_parameter")
        XCTAssertEqual(parseError("TIMEOUT soon")?.code, "bad_parameter")
        XCTAssertEqual(try parse("CONTEXT"), .context)
        XCTAssertEqual(parseError("CONTEXT abc")?.code, "syntax_error")
        XCTAssertEqual(try parse("PROPS"), .props)
        XCTAssertEqual(try parse("KEYS"), .keys(limit: nil, more: false))
        XCTAssertEqual(try parse("KEYS 10"), .keys(limit: 10, more: false))
        XCTAssertEqual(try parse("keys more"), .keys(limit: nil, more: true))
        XCTAssertEqual(try parse("KEYS MORE 5"), .keys(limit: 5, more: true))
        XCTAssertEqual(parseError("KEYS -1")?.code, "bad_parameter")
    }

    func testHistoryRerunHelpQuit() throws {
        XCTAssertEqual(try parse("HISTORY"), .history(last: nil))
        XCTAssertEqual(try parse("HISTORY 20"), .history(last: 20))
        XCTAssertEqual(try parse("!3"), .rerun(number: 3))
        XCTAssertEqual(try parse("!!"), .rerun(number: nil))
        XCTAssertEqual(parseError("!0")?.code, "syntax_error")
        XCTAssertEqual(parseError("!x")?.code, "syntax_error")
        XCTAssertEqual(try parse("HELP"), .help(topic: nil))
        XCTAssertEqual(try parse("help consistency"), .help(topic: "CONSISTENCY"))
        XCTAssertEqual(try parse("CONNECT 127.0.0.1:8082"), .connect(endpoint: "127.0.0.1:8082"))
        XCTAssertEqual(try parse("QUIT"), .quit)
        XCTAssertEqual(try parse("exit"), .quit)
        XCTAssertEqual(parseError("QUIT now")?.code, "syntax_error")
    }

    func testUnknownCommandSaysWhatToDo() {
        let error = parseError("FROB k")
        XCTAssertEqual(error?.code, "syntax_error")
        XCTAssertTrue(error?.message.contains("HELP") == true, error?.message ?? "")
    }

    func testEveryCommandWordParses() throws {
        for word in ShellCommandParser.commandWords {
            do {
                _ = try ShellCommandParser.parse(word)
            } catch {
                // Words that need arguments say so; none is unknown.
                XCTAssertFalse(error.message.contains("unknown command"), "\(word): \(error.message)")
            }
        }
    }
}
