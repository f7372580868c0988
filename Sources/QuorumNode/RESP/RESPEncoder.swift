import NIOCore

/// Writes replies in RESP2 (or, after `HELLO 3`, RESP3) wire form straight into the connection's outbound buffer,
/// so a pipelined burst of replies goes out in one write and one flush.
extension ByteBuffer {
    private static let crlf: StaticString = "\r\n"

    /// - Parameter resp3: the connection said `HELLO 3`: nil is written as RESP3's `_`,
    ///   which RESP3 clients require; everything else is the same in both.
    public mutating func writeRESPValue(_ value: RESPValue, resp3: Bool = false) {
        switch value {
        case .simpleString(let text):
            writeInteger(UInt8(ascii: "+"))
            writeString(RESPValue.oneLine(text))
            writeStaticString(Self.crlf)
        case .error(let text):
            writeInteger(UInt8(ascii: "-"))
            writeString(RESPValue.oneLine(text))
            writeStaticString(Self.crlf)
        case .integer(let number):
            writeInteger(UInt8(ascii: ":"))
            writeString(String(number))
            writeStaticString(Self.crlf)
        case .bulkString(nil):
            writeStaticString(resp3 ? "_\r\n" : "$-1\r\n")
        case .bulkString(let bytes?):
            writeInteger(UInt8(ascii: "$"))
            writeString(String(bytes.count))
            writeStaticString(Self.crlf)
            writeBytes(bytes)
            writeStaticString(Self.crlf)
        case .array(nil):
            writeStaticString(resp3 ? "_\r\n" : "*-1\r\n")
        case .array(let elements?):
            writeInteger(UInt8(ascii: "*"))
            writeString(String(elements.count))
            writeStaticString(Self.crlf)
            for element in elements { writeRESPValue(element, resp3: resp3) }
        case .map(let elements):
            writeInteger(UInt8(ascii: "%"))
            writeString(String(elements.count / 2))
            writeStaticString(Self.crlf)
            for element in elements { writeRESPValue(element, resp3: resp3) }
        }
    }
}

extension RESPValue {
    /// The wire form as bytes (tests and tools; the server writes into its buffer).
    public var encoded: [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeRESPValue(self)
        return Array(buffer.readableBytesView)
    }
}
