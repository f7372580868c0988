import NIOCore

/// Writes RESP2 commands (arrays of bulk strings) into a buffer. The load generator builds
/// the unchanging tail of each command (`R 2 N 3 TIMEOUT 2000`) once per run with
/// `encodedArguments` and appends it to each command, so a request costs one buffer write.
public enum RESPCommandWriter {
    public static func writeHeader(count: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        buffer.writeString(String(count))
        buffer.writeStaticString("\r\n")
    }

    public static func writeBulk(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "$"))
        buffer.writeString(String(text.utf8.count))
        buffer.writeStaticString("\r\n")
        buffer.writeString(text)
        buffer.writeStaticString("\r\n")
    }

    public static func writeBulk(_ bytes: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "$"))
        buffer.writeString(String(bytes.readableBytes))
        buffer.writeStaticString("\r\n")
        var copy = bytes
        buffer.writeBuffer(&copy)
        buffer.writeStaticString("\r\n")
    }

    /// A versioned value as one bulk string, written in place (no intermediate buffer).
    public static func writeValue(sequence: UInt32, size: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "$"))
        buffer.writeString(String(VersionedValue.encodedLength(sequence: sequence, size: size)))
        buffer.writeStaticString("\r\n")
        VersionedValue.encode(sequence: sequence, size: size, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    /// Bulk strings for each argument, back to back, without an array header.
    public static func encodedArguments(_ arguments: [String]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        for argument in arguments { writeBulk(argument, into: &buffer) }
        return buffer
    }

    /// A whole command.
    public static func command(_ words: [String]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        writeHeader(count: words.count, into: &buffer)
        for word in words { writeBulk(word, into: &buffer) }
        return buffer
    }
}
