/// Appends QuorumKV's binary encoding: big-endian fixed integers, LEB128 lengths.
///
/// The same encoding serves storage and the node-to-node wire, so a state read from disk
/// can be sent without re-encoding.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public mutating func writeVarInt(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    public mutating func writeBytes<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        writeVarInt(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func writeString(_ value: String) { writeBytes(value.utf8) }
}

/// Reads what `ByteWriter` wrote; every read checks bounds and throws on truncation or
/// nonsense, so hostile input can't crash the reader.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var isAtEnd: Bool { offset >= bytes.count }
    public var remainingCount: Int { bytes.count - offset }

    public mutating func readUInt8() throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readBool() throws(WireError) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        default: throw .malformed("boolean byte out of range")
        }
    }

    public mutating func readUInt32() throws(WireError) -> UInt32 {
        guard remainingCount >= 4 else { throw .truncated }
        var value: UInt32 = 0
        for _ in 0..<4 { value = value << 8 | UInt32(bytes[offset]); offset += 1 }
        return value
    }

    public mutating func readUInt64() throws(WireError) -> UInt64 {
        guard remainingCount >= 8 else { throw .truncated }
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(bytes[offset]); offset += 1 }
        return value
    }

    public mutating func readVarInt() throws(WireError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readUInt8()
            guard shift < 64 else { throw .malformed("varint longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A length read from the input, checked against what is left so a forged length
    /// can't make the reader allocate.
    public mutating func readLength() throws(WireError) -> Int {
        let length = try readVarInt()
        guard length <= UInt64(remainingCount) else { throw .truncated }
        return Int(length)
    }

    public mutating func readBytes() throws(WireError) -> [UInt8] {
        let length = try readLength()
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    public mutating func readString() throws(WireError) -> String {
        let raw = try readBytes()
        guard let text = String(validating: raw, as: UTF8.self) else { throw .malformed("string is not UTF-8") }
        return text
    }
}

/// Why bytes could not be decoded.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    case truncated
    case malformed(String)
    /// A version byte this node's decoders don't read. Versions start at 1 and decoders
    /// are never removed (`Formats`), so any other nonzero version is a newer one.
    case unsupportedVersion(UInt8)

    public var message: String {
        switch self {
        case .truncated: return "input ended early"
        case .malformed(let why): return "malformed input: \(why)"
        case .unsupportedVersion(0): return "format version 0, which QuorumKV never writes: the bytes are damaged or not QuorumKV's"
        case .unsupportedVersion(let version):
            return "unsupported format version \(version), newer than this node reads: a newer QuorumKV wrote it "
                + "(or the bytes are damaged); upgrade this node, since a node reads every earlier format but no later one"
        }
    }

    public var description: String { message }
}
