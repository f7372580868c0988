/// What the parser found at the front of its buffer.
public enum RESPParseResult: Sendable, Equatable {
    /// No complete command yet; append more bytes and ask again.
    case needMoreData
    /// One command: its name and arguments, binary-safe.
    case command([[UInt8]])
    /// The input is not RESP. The message is Redis's wording without the `ERR ` prefix
    /// (`Protocol error: …`); the connection answers it and closes. The parser keeps
    /// answering this error until `reset()`.
    case error(String)
}

/// Splits a byte stream into commands: RESP2 arrays of bulk strings (what client
/// libraries send) and the inline form (a text line, what `nc` and `telnet` users type).
///
/// Pure and incremental: bytes go in with `append`, commands come out of `next()` one at
/// a time, in order, however the stream was cut into reads. State survives between calls,
/// so a 16 MiB value arriving in thousands of reads is not rescanned each time, and a
/// line is searched for its end only once. Every bound is in `RESPLimits`; crossing one
/// is a protocol error, never a crash or an unbounded buffer.
public struct RESPParser: Sendable {
    public let limits: RESPLimits

    private enum Phase: Sendable, Equatable {
        /// Between commands.
        case idle
        /// Inside an array, expecting a `$<length>` line.
        case bulkHeader
        /// Inside an array, expecting `length` bytes and CRLF.
        case bulkBody(length: Int)
        /// Saw bad input; only `reset()` leaves this phase.
        case failed(String)
    }

    private var buffer: [UInt8] = []
    /// Index of the first unconsumed byte of `buffer`.
    private var start = 0
    /// Bytes after `start` already searched for a line end without finding one.
    private var scanned = 0
    private var phase = Phase.idle
    /// Arguments of the array being read, and how many are still to come.
    private var arguments: [[UInt8]] = []
    private var argumentsRemaining = 0
    /// Wire bytes of the array being read so far.
    private var commandBytes = 0

    public init(limits: RESPLimits = .defaults) {
        self.limits = limits
    }

    /// Bytes received and not yet consumed by a returned command.
    public var bufferedBytes: Int { buffer.count - start }

    /// Whether the parser is between commands with nothing buffered.
    public var isIdle: Bool { phase == .idle && bufferedBytes == 0 }

    /// Adds received bytes. After a protocol error they are dropped: nothing after it is read.
    public mutating func append<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        if case .failed = phase { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Forgets everything buffered and any error: the next byte starts a new command.
    public mutating func reset() {
        buffer = []
        start = 0
        scanned = 0
        phase = .idle
        arguments = []
        argumentsRemaining = 0
        commandBytes = 0
    }

    /// The next complete command, `.needMoreData`, or the protocol error that stops this stream.
    public mutating func next() -> RESPParseResult {
        while true {
            switch phase {
            case .failed(let message):
                return .error(message)
            case .idle:
                guard start < buffer.count else { return .needMoreData }
                if buffer[start] == UInt8(ascii: "*") {
                    switch arrayHeader() {
                    case .needMoreData: return .needMoreData
                    case .error(let message): return fail(message)
                    case .command: continue  // header consumed; phase moved on (or an empty array was skipped)
                    }
                } else {
                    switch inlineCommand() {
                    case .needMoreData: return .needMoreData
                    case .error(let message): return fail(message)
                    case .command(let words):
                        if words.isEmpty { continue }  // a blank line: Redis ignores it
                        return .command(words)
                    }
                }
            case .bulkHeader:
                guard start < buffer.count else { return .needMoreData }
                guard buffer[start] == UInt8(ascii: "$") else {
                    return fail("Protocol error: expected '$', got '\(Self.printable(buffer[start]))'")
                }
                guard let line = findLine(tooLong: "Protocol error: too big bulk count string") else {
                    if case .failed(let message) = phase { return .error(message) }
                    return .needMoreData
                }
                guard let length = Self.integer(buffer[(start + 1)..<line.contentEnd]), length >= 0 else {
                    return fail("Protocol error: invalid bulk length")
                }
                guard length <= limits.bulkBytesMax else {
                    return fail(
                        "Protocol error: bulk string of \(length) bytes is over the limit of \(limits.bulkBytesMax) bytes")
                }
                commandBytes += line.next - start + length + 2
                guard commandBytes <= limits.commandBytesMax else {
                    return fail("Protocol error: command is over the limit of \(limits.commandBytesMax) bytes")
                }
                consume(upTo: line.next)
                phase = .bulkBody(length: length)
            case .bulkBody(let length):
                guard buffer.count - start >= length + 2 else {
                    if buffer.capacity < start + length + 2 { buffer.reserveCapacity(start + length + 2) }
                    return .needMoreData
                }
                guard buffer[start + length] == UInt8(ascii: "\r"), buffer[start + length + 1] == UInt8(ascii: "\n") else {
                    return fail("Protocol error: expected CRLF after a bulk string of \(length) bytes")
                }
                arguments.append(Array(buffer[start..<(start + length)]))
                consume(upTo: start + length + 2)
                argumentsRemaining -= 1
                if argumentsRemaining > 0 {
                    phase = .bulkHeader
                } else {
                    phase = .idle
                    let command = arguments
                    arguments = []
                    commandBytes = 0
                    return .command(command)
                }
            }
        }
    }

    // MARK: - Pieces

    /// Reads `*<count>`; `.command` means "consumed, go on".
    private mutating func arrayHeader() -> RESPParseResult {
        guard let line = findLine(tooLong: "Protocol error: too big mbulk count string") else {
            if case .failed(let message) = phase { return .error(message) }
            return .needMoreData
        }
        guard let count = Self.integer(buffer[(start + 1)..<line.contentEnd]), count <= limits.arrayCountMax else {
            return .error("Protocol error: invalid multibulk length")
        }
        let headerBytes = line.next - start
        consume(upTo: line.next)
        if count <= 0 { return .command([]) }  // `*0` and `*-1`: nothing to run, as in Redis
        arguments = []
        arguments.reserveCapacity(min(count, 64))
        argumentsRemaining = count
        commandBytes = headerBytes
        phase = .bulkHeader
        return .command([])
    }

    /// Reads one inline line and splits it into words.
    private mutating func inlineCommand() -> RESPParseResult {
        guard let line = findLine(tooLong: "Protocol error: too big inline request") else {
            if case .failed(let message) = phase { return .error(message) }
            return .needMoreData
        }
        let words = Self.splitInline(buffer[start..<line.contentEnd])
        consume(upTo: line.next)
        guard let words else { return .error("Protocol error: unbalanced quotes in request") }
        return .command(words)
    }

    /// Finds the end of the line starting at `start`: `contentEnd` excludes `\r\n` (or a
    /// bare `\n`), `next` is the first byte after it. Nil when the line is not complete;
    /// then, if it is already too long, the parser fails with `tooLong`.
    private mutating func findLine(tooLong: String) -> (contentEnd: Int, next: Int)? {
        let searchFrom = start + scanned
        let searchEnd = min(buffer.count, start + limits.inlineBytesMax + 2)
        if searchFrom < searchEnd, let newline = buffer[searchFrom..<searchEnd].firstIndex(of: UInt8(ascii: "\n")) {
            var contentEnd = newline
            if contentEnd > start, buffer[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            if contentEnd - start > limits.inlineBytesMax {
                phase = .failed(tooLong)
                return nil
            }
            return (contentEnd, newline + 1)
        }
        scanned = max(scanned, searchEnd - start)
        if buffer.count - start > limits.inlineBytesMax + 1 {
            phase = .failed(tooLong)
        }
        return nil
    }

    private mutating func consume(upTo index: Int) {
        start = index
        scanned = 0
    }

    private mutating func fail(_ message: String) -> RESPParseResult {
        phase = .failed(message)
        arguments = []
        return .error(message)
    }

    /// Drops consumed bytes when they are the bulk of the buffer, so memory follows what
    /// is pending, not what went through. A buffer that grew for a large value is released.
    private mutating func compact() {
        guard start > 0 else { return }
        if start == buffer.count {
            if buffer.capacity > 64 * 1024 {
                buffer = []
            } else {
                buffer.removeAll(keepingCapacity: true)
            }
            start = 0
        } else if start >= 4096 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }

    // MARK: - Helpers

    /// A decimal integer as RESP headers write it: optional `-`, 1...18 digits.
    static func integer(_ bytes: ArraySlice<UInt8>) -> Int? {
        var index = bytes.startIndex
        var negative = false
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let digits = bytes.endIndex - index
        guard digits >= 1, digits <= 18 else { return nil }
        var value = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        return negative ? -value : value
    }

    private static func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0B || byte == 0x0C || byte == 0x0D || byte == 0x00
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Splits an inline line into words the way `redis-cli` and Redis's inline parser do
    /// (`sdssplitargs`): whitespace separates words; `"double quotes"` take `\n \r \t \b \a
    /// \\ \" \xHH` escapes; `'single quotes'` take `\'`; a closing quote must end the word.
    /// Nil when quotes are unbalanced.
    static func splitInline(_ line: ArraySlice<UInt8>) -> [[UInt8]]? {
        var words: [[UInt8]] = []
        var index = line.startIndex
        let end = line.endIndex
        while true {
            while index < end, isSpace(line[index]) { index += 1 }
            if index == end { return words }
            var word: [UInt8] = []
            var inDouble = false
            var inSingle = false
            wordLoop: while true {
                if inDouble {
                    guard index < end else { return nil }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\"), index + 3 < end, line[index + 1] == UInt8(ascii: "x"),
                        let high = hexValue(line[index + 2]), let low = hexValue(line[index + 3])
                    {
                        word.append(high << 4 | low)
                        index += 4
                    } else if byte == UInt8(ascii: "\\"), index + 1 < end {
                        switch line[index + 1] {
                        case UInt8(ascii: "n"): word.append(0x0A)
                        case UInt8(ascii: "r"): word.append(0x0D)
                        case UInt8(ascii: "t"): word.append(0x09)
                        case UInt8(ascii: "b"): word.append(0x08)
                        case UInt8(ascii: "a"): word.append(0x07)
                        case let other: word.append(other)
                        }
                        index += 2
                    } else if byte == UInt8(ascii: "\"") {
                        index += 1
                        guard index == end || isSpace(line[index]) else { return nil }
                        break wordLoop
                    } else {
                        word.append(byte)
                        index += 1
                    }
                } else if inSingle {
                    guard index < end else { return nil }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\"), index + 1 < end, line[index + 1] == UInt8(ascii: "'") {
                        word.append(UInt8(ascii: "'"))
                        index += 2
                    } else if byte == UInt8(ascii: "'") {
                        index += 1
                        guard index == end || isSpace(line[index]) else { return nil }
                        break wordLoop
                    } else {
                        word.append(byte)
                        index += 1
                    }
                } else {
                    guard index < end else { break wordLoop }
                    let byte = line[index]
                    if isSpace(byte) { break wordLoop }
                    if byte == UInt8(ascii: "\"") {
                        inDouble = true
                    } else if byte == UInt8(ascii: "'") {
                        inSingle = true
                    } else {
                        word.append(byte)
                    }
                    index += 1
                }
            }
            words.append(word)
        }
    }
}
