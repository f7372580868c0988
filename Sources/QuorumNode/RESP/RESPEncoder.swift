import NIOCore

/// Writes replies in RESP2 wire form straight into the connection's outbound buffer,
/// so a pipelined burst of replies goes out in one write and one flush.
extension ByteBuffer {
    private static let crlf: StaticString = "\r\n"

    public mutating func writeRESPValue(_ value: RESPValue) {
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
            writeStaticString("$-1\r\n")
        case .bulkString(let bytes?):
            writeInteger(UInt8(ascii: "$"))
            writeString(String(bytes.count))
            writeStaticString(Self.crlf)
            writeBytes(bytes)
            writeStaticString(Self.crlf)
        case .array(nil):
            writeStaticString("*-1\r\n")
        case .array(let elements?):
            writeInteger(UInt8(ascii: "*"))
            writeString(String(elements.count))
            writeStaticString(Self.crlf)
            for element in elements { writeRESPValue(element) }
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
