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

    /// The opaque context token clients carry (`X-Context`): URL-safe base64 of a version
    /// byte (`Formats.contextToken`) and the counters. Touch times stay on the server.
    public var contextToken: String {
        var writer = ByteWriter()
        writer.write(Formats.contextToken.newest)
        encode(into: &writer, withTouchTimes: false)
        return Base64URL.encode(writer.bytes)
    }

    /// Parses a token from `contextToken`, of any version in `Formats.contextToken.readable`
    /// (a client may bring one another node issued); a token that doesn't parse is a
    /// client error.
    public init(contextToken: String) throws(KVError) {
        guard let bytes = Base64URL.decode(contextToken), let version = bytes.first else {
            throw .badParameter(name: "context", message: "the context is not one QuorumKV issued; send back the X-Context of a read unchanged")
        }
        var reader = ByteReader(bytes, offset: 1)
        switch version {
        case 1:
            do {
                self = try VersionVector.decode(from: &reader, withTouchTimes: false)
            } catch {
                throw .badParameter(name: "context", message: "the context is damaged (\(error.message)); send back the X-Context of a read unchanged")
            }
        default:
            throw .badParameter(
                name: "context",
                message: "the context is not one QuorumKV issued, or was issued by a newer QuorumKV than this node runs; "
                    + "send back the X-Context of a read unchanged")
        }
    }
}

/// `KeyState`'s encoding, the bytes of a stored row (see `Formats` for the rule on versions).
///
/// - Version 1: the clock (actor, counter, touch time per entry), then each sibling's dot,
///   tombstone flag, timestamp, content type and value.
/// - Version 2: version 1 with each sibling's expiry register after its timestamp: a
///   flag, the deadline (u64 milliseconds) when the flag is set, and the register's stamp.
///
/// The encoder writes version 1 for a state none of whose versions carries an expiry
/// register (all `.none`), version 2 otherwise: the bytes are a function of the state
/// (equal states encode equal), rows and messages without expiry keep the bytes they
/// always had, and a node that reads only version 1 still reads them (see `Formats`).
extension KeyState {
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 32 + siblings.reduce(0) { $0 + $1.value.count + 48 })
        encode(into: &writer)
        return writer.bytes
    }

    /// Writes version 2 (`Formats.keyState.newest`) when a version carries expiry, else 1.
    public func encode(into writer: inout ByteWriter) {
        let withExpiry = carriesExpiry
        writer.write(withExpiry ? Formats.keyState.newest : 1)
        clock.encode(into: &writer)
        writer.writeVarInt(UInt64(siblings.count))
        for sibling in siblings {
            writer.writeString(sibling.dot.actor)
            writer.writeVarInt(sibling.dot.counter)
            writer.write(sibling.isTombstone)
            sibling.timestamp.encode(into: &writer)
            if withExpiry { sibling.expiry.encode(into: &writer) }
            writer.writeString(sibling.contentType)
            writer.writeBytes(sibling.value)
        }
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try KeyState.decode(from: &reader)
    }

    /// Reads any version in `Formats.keyState.readable`, each with its own decoder.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> KeyState {
        let version = try reader.readUInt8()
        switch version {
        case 1: return try decodeVersion1(from: &reader)
        case 2: return try decodeVersion2(from: &reader)
        default: throw .unsupportedVersion(version)
        }
    }

    private static func decodeVersion2(from reader: inout ByteReader) throws(WireError) -> KeyState {
        let clock = try VersionVector.decode(from: &reader)
        let count = try reader.readLength()
        var siblings: [Sibling] = []
        siblings.reserveCapacity(count)
        for _ in 0..<count {
            let dot = Dot(actor: try reader.readString(), counter: try reader.readVarInt())
            let isTombstone = try reader.readBool()
            let timestamp = try HLCTimestamp.decode(from: &reader)
            let expiry = try ExpiryRegister.decode(from: &reader)
            let contentType = try reader.readString()
            let value = try reader.readBytes()
            siblings.append(
                Sibling(
                    dot: dot, value: value, contentType: contentType, isTombstone: isTombstone, timestamp: timestamp,
                    expiry: expiry))
        }
        return KeyState(clock: clock, siblings: siblings)
    }

    private static func decodeVersion1(from reader: inout ByteReader) throws(WireError) -> KeyState {
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

extension ExpiryRegister {
    /// Inside `KeyState` version 2: a flag, the deadline when set, the stamp.
    public func encode(into writer: inout ByteWriter) {
        writer.write(deadlineMilliseconds != nil)
        if let deadlineMilliseconds { writer.write(deadlineMilliseconds) }
        stamp.encode(into: &writer)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> ExpiryRegister {
        let deadline = try reader.readBool() ? try reader.readUInt64() : nil
        return ExpiryRegister(deadlineMilliseconds: deadline, stamp: try HLCTimestamp.decode(from: &reader))
    }
}
