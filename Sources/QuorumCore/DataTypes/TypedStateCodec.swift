/// `TypedState`'s wire form (merges, hints, repair batches, fetch answers):
/// `Formats.typedState` version byte, the `isFull` flag, the datatype byte, the context,
/// the dedupe window, then the members sorted by key bytes (key, dots with payloads).
/// Canonical: equal states encode to equal bytes, and the decoder refuses anything the
/// encoder would not write (unsorted or repeated entries, unknown tags, trailing bytes).
extension TypedState {
    public func encoded(isFull: Bool) -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + members.count * 32)
        encode(into: &writer, isFull: isFull)
        return writer.bytes
    }

    public func encode(into writer: inout ByteWriter, isFull: Bool) {
        writer.write(Formats.typedState.newest)
        writer.write(isFull)
        writer.write(datatype.wireByte)
        context.encode(into: &writer)
        opIDs.encode(into: &writer)
        let keys = sortedMemberKeys
        writer.writeVarInt(UInt64(keys.count))
        for key in keys {
            writer.writeBytes(key)
            members[key]!.encode(into: &writer)
        }
    }

    /// Decodes a whole buffer (trailing bytes refused).
    public init(decoding bytes: [UInt8], limits: Limits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        let (state, _) = try TypedState.decode(from: &reader, limits: limits)
        guard reader.isAtEnd else { throw .malformed("trailing bytes after a typed state") }
        self = state
    }

    /// Decodes a state and its `isFull` flag from inside a larger message.
    public static func decode(from reader: inout ByteReader, limits: Limits) throws(WireError) -> (state: TypedState, isFull: Bool) {
        let version = try reader.readUInt8()
        guard version == Formats.typedState.newest else { throw .unsupportedVersion(version) }
        let isFull = try reader.readBool()
        guard let datatype = DataType(wireByte: try reader.readUInt8()) else { throw .malformed("unknown datatype") }
        let context = try CausalContext.decode(from: &reader, limits: limits)
        let opIDs = try RecentOperations.decode(from: &reader, limits: limits)
        let count = try reader.readLength()
        guard count <= TypedDecodeBounds.members(limits) else { throw .malformed("\(count) members, past the limit") }
        var members: [[UInt8]: Member] = [:]
        members.reserveCapacity(count)
        var previous: [UInt8]?
        for _ in 0..<count {
            let key = try reader.readBytes()
            guard key.count <= limits.typedMemberBytesMax else { throw .malformed("member key past the limit") }
            if let previous, !previous.lexicographicallyPrecedes(key) { throw .malformed("members unsorted or repeated") }
            if datatype == .counter, !key.isEmpty { throw .malformed("a counter's only member has the empty key") }
            members[key] = try Member.decode(from: &reader, limits: limits)
            previous = key
        }
        return (TypedState(datatype: datatype, context: context, members: members, opIDs: opIDs), isFull)
    }
}
