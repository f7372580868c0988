/// Binary form of versions and states, shared by storage and the wire.
extension HLCTimestamp {
    public func encode(into writer: inout ByteWriter) {
        writer.write(physicalMilliseconds)
        writer.write(logical)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> HLCTimestamp {
        HLCTimestamp(physicalMilliseconds: try reader.readUInt64(), logical: try reader.readUInt32())
    }
}

extension VersionVector {
    public func encode(into writer: inout ByteWriter, withTouchTimes: Bool = true) {
        writer.writeVarInt(UInt64(entries.count))
        for entry in entries {
            writer.writeString(entry.actor)
            writer.writeVarInt(entry.counter)
            if withTouchTimes { writer.writeVarInt(entry.touchedMilliseconds) }
        }
    }

    public static func decode(from reader: inout ByteReader, withTouchTimes: Bool = true) throws(WireError) -> VersionVector {
        let count = try reader.readLength()
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let actor = try reader.readString()
            let counter = try reader.readVarInt()
            let touched = withTouchTimes ? try reader.readVarInt() : 0
            entries.append(Entry(actor: actor, counter: counter, touchedMilliseconds: touched))
        }
        return VersionVector(entries: entries)
    }

    /// The opaque context token clients carry (`X-Context`): URL-safe base64 of the
    /// counters. Touch times stay on the server.
    public var contextToken: String {
        var writer = ByteWriter()
        writer.write(UInt8(1))
        encode(into: &writer, withTouchTimes: false)
        return Base64URL.encode(writer.bytes)
    }

    /// Parses a token from `contextToken`; a token that doesn't parse is a client error.
    public init(contextToken: String) throws(KVError) {
        guard let bytes = Base64URL.decode(contextToken), bytes.first == 1 else {
            throw .badParameter(name: "context", message: "the context is not one QuorumKV issued; send back the X-Context of a read unchanged")
        }
        var reader = ByteReader(bytes, offset: 1)
        do {
            self = try VersionVector.decode(from: &reader, withTouchTimes: false)
        } catch {
            throw .badParameter(name: "context", message: "the context is damaged (\(error.message)); send back the X-Context of a read unchanged")
        }
    }
}

extension KeyState {
    static let formatVersion: UInt8 = 1

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 32 + siblings.reduce(0) { $0 + $1.value.count + 48 })
        encode(into: &writer)
        return writer.bytes
    }

    public func encode(into writer: inout ByteWriter) {
        writer.write(Self.formatVersion)
        clock.encode(into: &writer)
        writer.writeVarInt(UInt64(siblings.count))
        for sibling in siblings {
            writer.writeString(sibling.dot.actor)
            writer.writeVarInt(sibling.dot.counter)
            writer.write(sibling.isTombstone)
            sibling.timestamp.encode(into: &writer)
            writer.writeString(sibling.contentType)
            writer.writeBytes(sibling.value)
        }
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try KeyState.decode(from: &reader)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> KeyState {
        let version = try reader.readUInt8()
        guard version == formatVersion else { throw .unsupportedVersion(version) }
        let clock = try VersionVector.decode(from: &reader)
        let count = try reader.readLength()
        var siblings: [Sibling] = []
        siblings.reserveCapacity(count)
        for _ in 0..<count {
            let dot = Dot(actor: try reader.readString(), counter: try reader.readVarInt())
            let isTombstone = try reader.readBool()
            let timestamp = try HLCTimestamp.decode(from: &reader)
            let contentType = try reader.readString()
            let value = try reader.readBytes()
            siblings.append(
                Sibling(dot: dot, value: value, contentType: contentType, isTombstone: isTombstone, timestamp: timestamp))
        }
        return KeyState(clock: clock, siblings: siblings)
    }
}
