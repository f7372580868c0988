/// The `kv` row of a typed key: everything but the members, which live one row each in
/// the `members` table (so an add touches its element and this header, not the set).
///
/// The first byte is `Formats.typedHeader`'s version (0x40 and up), a value no `KeyState`
/// version uses, so a reader of a `kv` blob tells the two apart (`isTypedHeader`).
/// `membersDigest` is the wrapping sum of each member's `memberHash`: order-free, so
/// storage updates it per changed member, and replicas with equal states have equal
/// header bytes, so the Merkle trees (which hash `kv` blobs) agree.
public struct TypedHeader: Sendable, Equatable {
    public var datatype: DataType
    public var context: CausalContext
    public var opIDs: RecentOperations
    public var memberCount: UInt64
    public var membersDigest: UInt64

    public init(
        datatype: DataType, context: CausalContext = .empty, opIDs: RecentOperations = .empty,
        memberCount: UInt64 = 0, membersDigest: UInt64 = 0
    ) {
        self.datatype = datatype
        self.context = context
        self.opIDs = opIDs
        self.memberCount = memberCount
        self.membersDigest = membersDigest
    }

    /// The header of a whole state (empty members are not counted).
    public init(of state: TypedState) {
        var digest: UInt64 = 0
        var count: UInt64 = 0
        for (key, member) in state.members where !member.isEmpty {
            digest &+= Self.memberHash(key: key, member: member)
            count += 1
        }
        self.init(datatype: state.datatype, context: state.context, opIDs: state.opIDs, memberCount: count, membersDigest: digest)
    }

    /// One member's share of the digest: `StableHash` of its length-prefixed key and its
    /// canonical dots and payloads.
    public static func memberHash(key: [UInt8], member: Member) -> UInt64 {
        var writer = ByteWriter(capacity: key.count + 8 + member.entries.count * 24)
        writer.writeBytes(key)
        member.encode(into: &writer)
        return StableHash.hash(writer.bytes)
    }

    /// Whether a `kv` blob is a typed header rather than a `KeyState`, by its first byte.
    public static func isTypedHeader(_ blob: [UInt8]) -> Bool {
        guard let first = blob.first else { return false }
        return Formats.typedHeader.readable.contains(first)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        writer.write(Formats.typedHeader.newest)
        writer.write(datatype.wireByte)
        context.encode(into: &writer)
        opIDs.encode(into: &writer)
        writer.writeVarInt(memberCount)
        writer.write(membersDigest)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8], limits: Limits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        guard version == Formats.typedHeader.newest else { throw .unsupportedVersion(version) }
        guard let datatype = DataType(wireByte: try reader.readUInt8()) else { throw .malformed("unknown datatype") }
        let context = try CausalContext.decode(from: &reader, limits: limits)
        let opIDs = try RecentOperations.decode(from: &reader, limits: limits)
        let count = try reader.readVarInt()
        guard count <= UInt64(TypedDecodeBounds.members(limits)) else { throw .malformed("header counts \(count) members, past the limit") }
        let digest = try reader.readUInt64()
        guard reader.isAtEnd else { throw .malformed("trailing bytes after a typed header") }
        self.init(datatype: datatype, context: context, opIDs: opIDs, memberCount: count, membersDigest: digest)
    }
}
