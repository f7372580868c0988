import NIOCore

/// Keys and values of a benchmark run. A value carries its write's sequence number in
/// front ("<seq>|" then padding to the value size), so a read tells which write it saw;
/// the stale-read and PBS figures come from that number.
public enum VersionedValue {
    /// Every benchmark key starts with this, so a run never reads or overwrites other data
    /// by accident and its keys are easy to find.
    public static let keyPrefix = "qkvbench:"

    public static func key(_ index: Int) -> String { keyPrefix + String(index) }

    /// A value of `size` bytes (at least the sequence number and its separator).
    public static func encode(sequence: UInt32, size: Int, into buffer: inout ByteBuffer) {
        let digits = String(sequence)
        buffer.writeString(digits)
        buffer.writeInteger(UInt8(ascii: "|"))
        let padding = size - digits.utf8.count - 1
        if padding > 0 { buffer.writeRepeatingByte(UInt8(ascii: "x"), count: padding) }
    }

    /// The length `encode` writes for this sequence number and size.
    public static func encodedLength(sequence: UInt32, size: Int) -> Int {
        let digits = String(sequence).utf8.count
        return max(size, digits + 1)
    }

    /// The sequence number at the front of a value, or nil when the value is not one of ours.
    public static func decode(_ value: ByteBuffer) -> UInt32? {
        var result: UInt64 = 0
        var sawDigit = false
        let view = value.readableBytesView
        for byte in view.prefix(11) {
            if byte == UInt8(ascii: "|") { return sawDigit && result <= UInt32.max ? UInt32(result) : nil }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            result = result * 10 + UInt64(byte - UInt8(ascii: "0"))
            sawDigit = true
        }
        return nil
    }
}
