import NIOCore
import QuorumCore
import XCTest

@testable import QuorumNode

/// The RESP parser on its own: frames, partial input, inline quoting, binary data and
/// every bound in `RESPLimits`.
final class RESPParserTests: XCTestCase {
    private func words(_ texts: String...) -> [[UInt8]] { texts.map { Array($0.utf8) } }

    /// Parses everything in `bytes`; stops at the first error.
    private func parseAll(_ bytes: [UInt8], limits: RESPLimits = .defaults) -> [RESPParseResult] {
        var parser = RESPParser(limits: limits)
        parser.append(bytes)
        var results: [RESPParseResult] = []
        while true {
            let result = parser.next()
            results.append(result)
            if case .command = result { continue }
            return results
        }
    }

    // MARK: - Multibulk

    func testArrayOfBulkStrings() {
        XCTAssertEqual(parseAll(respFrame("SET", "key", "value")), [.command(words("SET", "key", "value")), .needMoreData])
    }

    func testPipelinedFramesComeOutInOrder() {
        let bytes = respFrame("SET", "a", "1") + respFrame("GET", "a") + respFrame("PING")
        XCTAssertEqual(
            parseAll(bytes),
            [.command(words("SET", "a", "1")), .command(words("GET", "a")), .command(words("PING")), .needMoreData])
    }

    func testEveryByteSplitGivesTheSameCommands() {
        let bytes = respFrame("SET", "k", "hello world") + Array("PING\r\n".utf8) + respFrame("GET", "k")
        for cut in 0...bytes.count {
            var parser = RESPParser()
            var commands: [[[UInt8]]] = []
            for chunk in [Array(bytes[..<cut]), Array(bytes[cut...])] {
                parser.append(chunk)
                while case .command(let command) = parser.next() { commands.append(command) }
            }
            XCTAssertEqual(commands, [words("SET", "k", "hello world"), words("PING"), words("GET", "k")], "cut at \(cut)")
            XCTAssertTrue(parser.isIdle)
        }
    }

    func testOneByteAtATime() {
        let bytes = respFrame("MSET", "a", "1", "b", "2")
        var parser = RESPParser()
        var results: [RESPParseResult] = []
        for byte in bytes {
            parser.append([byte])
            let result = parser.next()
            if result != .needMoreData { results.append(result) }
        }
        XCTAssertEqual(results, [.command(words("MSET", "a", "1", "b", "2"))])
    }

    func testBinarySafeBulkStrings() {
        let binary: [UInt8] = [0, 13, 10, 255, 42, 13, 10, 36, 0]
        let bytes = respFrame([Array("SET".utf8), [0, 1, 13, 10], binary])
        XCTAssertEqual(parseAll(bytes), [.command([Array("SET".utf8), [0, 1, 13, 10], binary]), .needMoreData])
    }

    func testEmptyBulkAndEmptyArrays() {
        let bytes = Array("*0\r\n*-1\r\n".utf8) + respFrame(["ECHO", ""].map { Array($0.utf8) })
        XCTAssertEqual(parseAll(bytes), [.command([Array("ECHO".utf8), []]), .needMoreData])
    }

    func testBadFramesAreProtocolErrors() {
        let cases: [(String, String)] = [
            ("*2\r\n+OK\r\n", "Protocol error: expected '$', got '+'"),
            ("*x\r\n", "Protocol error: invalid multibulk length"),
            ("*1\r\n$abc\r\n", "Protocol error: invalid bulk length"),
            ("*1\r\n$-3\r\n", "Protocol error: invalid bulk length"),
            ("*1\r\n$3\r\nabcde\r\n", "Protocol error: expected CRLF after a bulk string of 3 bytes"),
            ("SET \"a b\"c\r\n", "Protocol error: unbalanced quotes in request"),
            ("GET 'abc\r\n", "Protocol error: unbalanced quotes in request"),
        ]
        for (input, message) in cases {
            XCTAssertEqual(parseAll(Array(input.utf8)).last, .error(message), input)
        }
    }

    func testAnErrorIsStickyUntilReset() {
        var parser = RESPParser()
        parser.append(Array("*1\r\n$x\r\n".utf8) + respFrame("PING"))
        XCTAssertEqual(parser.next(), .error("Protocol error: invalid bulk length"))
        let buffered = parser.bufferedBytes
        parser.append(respFrame("PING"))
        XCTAssertEqual(parser.bufferedBytes, buffered, "bytes after an error are dropped")
        XCTAssertEqual(parser.next(), .error("Protocol error: invalid bulk length"))
        parser.reset()
        parser.append(respFrame("PING"))
        XCTAssertEqual(parser.next(), .command(words("PING")))
    }

    // MARK: - Inline

    func testInlineCommandsWithCRLFOrLF() {
        XCTAssertEqual(
            parseAll(Array("SET greeting hello\r\nGET greeting\nPING\r\n".utf8)),
            [
                .command(words("SET", "greeting", "hello")), .command(words("GET", "greeting")), .command(words("PING")),
                .needMoreData,
            ])
    }

    func testInlineBlankLinesAreSkippedAndSpacesCollapse() {
        XCTAssertEqual(parseAll(Array("\r\n\n   \r\n  GET   k  \r\n".utf8)), [.command(words("GET", "k")), .needMoreData])
    }

    func testInlineQuotingLikeRedisCli() {
        let line = #"SET "hello world" 'it\'s' "tab\there" "\x41\x42" "q\"uote" ''"# + "\r\n"
        XCTAssertEqual(
            parseAll(Array(line.utf8)),
            [.command(words("SET", "hello world", "it's", "tab\there", "AB", "q\"uote", "")), .needMoreData])
    }

    func testInlineNeedsTheWholeLine() {
        var parser = RESPParser()
        parser.append(Array("GET ke".utf8))
        XCTAssertEqual(parser.next(), .needMoreData)
        parser.append(Array("y\r".utf8))
        XCTAssertEqual(parser.next(), .needMoreData)
        parser.append(Array("\n".utf8))
        XCTAssertEqual(parser.next(), .command(words("GET", "key")))
    }

    func testSplitInlineEdgeCases() {
        XCTAssertEqual(RESPParser.splitInline(Array("".utf8)[...]), [])
        XCTAssertEqual(RESPParser.splitInline(Array("a\"b c\"d".utf8)[...]), nil, "a closing quote must end the word")
        XCTAssertEqual(RESPParser.splitInline(Array("ab\"c d\"".utf8)[...]), [Array("abc d".utf8)])
        XCTAssertEqual(RESPParser.splitInline(Array(#""\x4""#.utf8)[...]), [Array("x4".utf8)], "half a hex escape is literal")
        XCTAssertEqual(RESPParser.splitInline(Array("\"abc".utf8)[...]), nil)
    }

    // MARK: - Bounds

    private var small: RESPLimits {
        var limits = RESPLimits()
        limits.inlineBytesMax = 32
        limits.bulkBytesMax = 16
        limits.arrayCountMax = 4
        limits.commandBytesMax = 64
        return limits
    }

    func testInlineLineBound() {
        let fits = String(repeating: "a", count: 32) + "\r\n"
        XCTAssertEqual(parseAll(Array(fits.utf8), limits: small).first, .command(words(String(repeating: "a", count: 32))))
        let over = String(repeating: "a", count: 33) + "\r\n"
        XCTAssertEqual(parseAll(Array(over.utf8), limits: small).first, .error("Protocol error: too big inline request"))
        // Without a line end, the parser gives up as soon as the line can't fit.
        var parser = RESPParser(limits: small)
        parser.append(Array(String(repeating: "b", count: 33).utf8))
        XCTAssertEqual(parser.next(), .needMoreData)
        parser.append(Array("b".utf8))
        XCTAssertEqual(parser.next(), .error("Protocol error: too big inline request"))
    }

    func testBulkBound() {
        XCTAssertEqual(
            parseAll(respFrame("SET", "k", String(repeating: "v", count: 16)), limits: small).first,
            .command(words("SET", "k", String(repeating: "v", count: 16))))
        XCTAssertEqual(
            parseAll(Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$17\r\n".utf8), limits: small).last,
            .error("Protocol error: bulk string of 17 bytes is over the limit of 16 bytes"))
    }

    func testArrayCountBound() {
        XCTAssertEqual(parseAll(respFrame("A", "B", "C", "D"), limits: small).first, .command(words("A", "B", "C", "D")))
        XCTAssertEqual(parseAll(Array("*5\r\n".utf8), limits: small).first, .error("Protocol error: invalid multibulk length"))
        XCTAssertEqual(
            parseAll(Array("*99999999999999999999\r\n".utf8)).first, .error("Protocol error: invalid multibulk length"))
    }

    func testCommandBytesBound() {
        let big = String(repeating: "x", count: 16)
        XCTAssertEqual(
            parseAll(respFrame("MSET", big, big, big), limits: small).last,
            .error("Protocol error: command is over the limit of 64 bytes"))
    }

    func testHeaderLineBounds() {
        var parser = RESPParser(limits: small)
        parser.append(Array("*".utf8) + Array(repeating: UInt8(ascii: "1"), count: 40))
        XCTAssertEqual(parser.next(), .error("Protocol error: too big mbulk count string"))
        parser = RESPParser(limits: small)
        parser.append(Array("*1\r\n$".utf8) + Array(repeating: UInt8(ascii: "1"), count: 40))
        XCTAssertEqual(parser.next(), .error("Protocol error: too big bulk count string"))
    }

    func testDefaultBoundsFollowTheNodeLimits() {
        var limits = Limits()
        limits.valueBytesMax = 1000
        let resp = RESPLimits(limits: limits)
        XCTAssertEqual(resp.bulkBytesMax, 1000 + RESPLimits.bulkSlackBytes)
        XCTAssertGreaterThanOrEqual(resp.commandBytesMax, resp.bulkBytesMax)
        XCTAssertEqual(RESPLimits.defaults.inlineBytesMax, 64 * 1024)
        XCTAssertEqual(RESPLimits.defaults.arrayCountMax, 1024 * 1024)
    }

    func testALargeValueArrivingInPiecesIsNotRescannedOrCopiedQuadratically() {
        let value = [UInt8](repeating: 7, count: 4 * 1024 * 1024)
        let bytes = respFrame([Array("SET".utf8), Array("k".utf8), value])
        var parser = RESPParser()
        var result = RESPParseResult.needMoreData
        let started = Date()
        for start in stride(from: 0, to: bytes.count, by: 1500) {
            parser.append(bytes[start..<min(start + 1500, bytes.count)])
            result = parser.next()
        }
        XCTAssertEqual(result, .command([Array("SET".utf8), Array("k".utf8), value]))
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "4 MiB in 1500-byte reads should parse in well under a second")
        XCTAssertTrue(parser.isIdle)
    }

    func testConsumedBytesAreReleased() {
        var parser = RESPParser()
        for _ in 0..<10_000 {
            parser.append(respFrame("SET", "key", "value"))
            _ = parser.next()
        }
        XCTAssertEqual(parser.bufferedBytes, 0)
    }

    // MARK: - Encoder

    func testEncoderWritesRESP2() {
        XCTAssertEqual(RESPValue.ok.encoded, Array("+OK\r\n".utf8))
        XCTAssertEqual(RESPValue.error("ERR bad\r\nthing").encoded, Array("-ERR bad  thing\r\n".utf8))
        XCTAssertEqual(RESPValue.integer(-42).encoded, Array(":-42\r\n".utf8))
        XCTAssertEqual(RESPValue.null.encoded, Array("$-1\r\n".utf8))
        XCTAssertEqual(RESPValue.bulkString([0, 13, 10]).encoded, [36, 51, 13, 10, 0, 13, 10, 13, 10])
        XCTAssertEqual(RESPValue.array(nil).encoded, Array("*-1\r\n".utf8))
        XCTAssertEqual(
            RESPValue.array([.bulk("a"), .integer(1), .array([])]).encoded, Array("*3\r\n$1\r\na\r\n:1\r\n*0\r\n".utf8))
        for value in [RESPValue.ok, .error("X y"), .integer(123_456_789), .null, .bulk("hello"), .array([.bulk("x"), .null])] {
            XCTAssertLessThanOrEqual(value.encoded.count, value.encodedSize, "\(value)")
            var reader = RESPReplyReader()
            reader.append(value.encoded)
            XCTAssertEqual(reader.next(), value)
        }
    }
}
