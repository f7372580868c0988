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

    /// `SET key <versioned value> [EX ttl]` followed by `suffix` (its `suffixWords` bulk
    /// strings: QuorumKV's `W w N n TIMEOUT ms`, nothing for redis-server). Both servers get
    /// the expiry in the same words, `EX` and whole seconds, as a Redis client sends it.
    public static func writeSet(
        key: String, sequence: UInt32, size: Int, ttlSeconds: Int?, suffix: ByteBuffer, suffixWords: Int,
        into buffer: inout ByteBuffer
    ) {
        writeHeader(count: 3 + (ttlSeconds == nil ? 0 : 2) + suffixWords, into: &buffer)
        buffer.writeStaticString("$3\r\nSET\r\n")
        writeBulk(key, into: &buffer)
        writeValue(sequence: sequence, size: size, into: &buffer)
        if let ttlSeconds {
            buffer.writeStaticString("$2\r\nEX\r\n")
            writeBulk(String(ttlSeconds), into: &buffer)
        }
        var suffix = suffix
        buffer.writeBuffer(&suffix)
    }

    /// A typed workload's update: `INCR key` or `SADD key element`, then `suffix` (its
    /// `suffixWords` bulk strings: QuorumKV's `W w N n TIMEOUT ms`, nothing for redis-server).
    public static func writeTypedUpdate(
        command: String, key: String, element: String?, suffix: ByteBuffer, suffixWords: Int, into buffer: inout ByteBuffer
    ) {
        writeHeader(count: 2 + (element == nil ? 0 : 1) + suffixWords, into: &buffer)
        writeBulk(command, into: &buffer)
        writeBulk(key, into: &buffer)
        if let element { writeBulk(element, into: &buffer) }
        var suffix = suffix
        buffer.writeBuffer(&suffix)
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
