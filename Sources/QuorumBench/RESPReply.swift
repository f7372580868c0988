import NIOCore

/// One reply from a RESP server (RESP2, plus RESP3's null, which QuorumKV sends only after
/// `HELLO 3`, which the harness never sends).
public enum RESPReply: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; nil is RESP2's `$-1` or RESP3's `_`.
    case bulk(ByteBuffer?)
    /// An array; nil is `*-1`.
    case array([RESPReply]?)

    /// The first word of an error reply (`QUORUM`, `OVERLOADED`, `ERR`, …), the stable part
    /// to count errors by.
    public var errorKind: String? {
        guard case .error(let text) = self else { return nil }
        let word = text.prefix { $0 != " " }
        return word.isEmpty ? "ERR" : String(word)
    }
}

/// Decodes RESP replies from a byte stream, incrementally: `decode` returns nil until a whole
/// reply has arrived and leaves the buffer where it was.
public enum RESPReplyParser {
    /// Bounds against a broken or hostile server: nesting, array length and bulk size.
    public static let maxDepth = 8
    public static let maxArrayLength = 1_048_576
    public static let maxBulkLength = 512 * 1024 * 1024

    public struct ProtocolError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func decode(_ buffer: inout ByteBuffer) throws -> RESPReply? {
        let start = buffer.readerIndex
        do {
            if let reply = try parse(&buffer, depth: 0) { return reply }
        } catch {
            buffer.moveReaderIndex(to: start)
            throw error
        }
        buffer.moveReaderIndex(to: start)
        return nil
    }

    private static func parse(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPReply? {
        guard depth <= maxDepth else { throw ProtocolError(description: "replies nested deeper than \(maxDepth)") }
        guard let type: UInt8 = buffer.readInteger() else { return nil }
        guard let line = readLine(&buffer) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"):
            guard let value = Int64(line) else { throw ProtocolError(description: "bad integer '\(line)'") }
            return .integer(value)
        case UInt8(ascii: "_"): return .bulk(nil)
        case UInt8(ascii: "$"):
            guard let length = Int(line), length >= -1, length <= maxBulkLength else {
                throw ProtocolError(description: "bad bulk length '\(line)'")
            }
            if length == -1 { return .bulk(nil) }
            guard buffer.readableBytes >= length + 2, let slice = buffer.readSlice(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            return .bulk(slice)
        case UInt8(ascii: "*"):
            guard let count = Int(line), count >= -1, count <= maxArrayLength else {
                throw ProtocolError(description: "bad array length '\(line)'")
            }
            if count == -1 { return .array(nil) }
            var elements: [RESPReply] = []
            elements.reserveCapacity(count)
            for _ in 0..<count {
                guard let element = try parse(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw ProtocolError(description: "unexpected reply type byte \(type)")
        }
    }

    /// A line up to CRLF, or nil when the CRLF has not arrived.
    private static func readLine(_ buffer: inout ByteBuffer) -> String? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")), newline > view.startIndex else { return nil }
        let length = newline - view.startIndex - 1
        let line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}
