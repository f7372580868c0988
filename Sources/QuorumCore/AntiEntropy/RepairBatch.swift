/// States anti-entropy ships to a peer in one request, bounded by `AntiEntropyLimits`.
/// Encoded here; the shell compresses the bytes with LZ4 for the wire.
public struct RepairBatch: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var bucket: String
        public var key: [UInt8]
        public var state: KeyState
        public var mode: ConflictMode

        public init(bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode) {
            self.bucket = bucket
            self.key = key
            self.state = state
            self.mode = mode
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Writes the newest version (`Formats.repairBatch`). Version 1: the entry count, then
    /// per entry the bucket, key, conflict mode and state.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(Formats.repairBatch.newest)
        writer.writeVarInt(UInt64(entries.count))
        for entry in entries {
            writer.writeString(entry.bucket)
            writer.writeBytes(entry.key)
            writer.write(entry.mode == .lww ? UInt8(0) : UInt8(1))
            entry.state.encode(into: &writer)
        }
        return writer.bytes
    }

    /// Reads any version in `Formats.repairBatch.readable`, each with its own decoder.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        switch version {
        case 1: entries = try Self.decodeVersion1(from: &reader)
        default: throw .unsupportedVersion(version)
        }
        guard reader.isAtEnd else { throw .malformed("trailing bytes after a repair batch") }
    }

    private static func decodeVersion1(from reader: inout ByteReader) throws(WireError) -> [Entry] {
        let count = try reader.readLength()
        var entries: [Entry] = []
        for _ in 0..<count {
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let mode: ConflictMode
            switch try reader.readUInt8() {
            case 0: mode = .lww
            case 1: mode = .vclock
            case let other: throw .malformed("unknown conflict mode \(other)")
            }
            entries.append(Entry(bucket: bucket, key: key, state: try KeyState.decode(from: &reader), mode: mode))
        }
        return entries
    }
}
