/// Binary form of the gossiped membership state (versions: `Formats.membershipState`).
///
/// Canonical: members sorted by id and buckets by name (UTF-8 byte order), so equal
/// states encode to equal bytes and `digest` can stand for the whole state.
///
/// - Version 1: the partition count; per member its id, addresses, status, entry version
///   and ring position; per bucket its name and `BucketProps`.
/// - Version 2: version 1's fields, then `TruncationPoints`. Written only for a state that
///   holds a truncation point (see `Formats.membershipState`): the version is a function
///   of the state, so equal states still encode to equal bytes.
extension MembershipState {
    /// Writes version 1 while no bucket was truncated, else the newest version.
    public func encode(into writer: inout ByteWriter) {
        writer.write(truncations.isEmpty ? 1 : Formats.membershipState.newest)
        writer.writeVarInt(UInt64(partitionCount))
        let ids = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        writer.writeVarInt(UInt64(ids.count))
        for id in ids {
            let member = members[id]!
            writer.writeString(member.id)
            writer.writeString(member.peerAddress)
            writer.writeString(member.httpAddress)
            writer.write(member.status.wireCode)
            writer.writeVarInt(member.version)
            writer.writeVarInt(member.ringPosition)
        }
        let buckets = bucketProps.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        writer.writeVarInt(UInt64(buckets.count))
        for bucket in buckets {
            writer.writeString(bucket)
            bucketProps[bucket]!.encode(into: &writer)
        }
        if !truncations.isEmpty { truncations.encode(into: &writer) }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + members.count * 64 + bucketProps.count * 48)
        encode(into: &writer)
        return writer.bytes
    }

    /// A stable hash of the canonical encoding: equal on two nodes exactly when their
    /// states are equal (up to hash collisions), so a peer whose digest matches needs no
    /// state sent.
    public var digest: UInt64 { StableHash.hash(encoded()) }

    /// Reads a state, checking every field against `limits` and the rules a state made
    /// by this code keeps (sorted distinct ids, valid names, a power-of-two partition
    /// count), so hostile bytes are refused with an error and never trap later in `ring`.
    /// Any version in `Formats.membershipState.readable` is read, each with its own decoder.
    public static func decode(
        from reader: inout ByteReader, limits: GossipLimits = .defaults
    ) throws(WireError) -> MembershipState {
        let version = try reader.readUInt8()
        switch version {
        case 1: return try decodeVersion1(from: &reader, limits: limits)
        case 2: return try decodeVersion2(from: &reader, limits: limits)
        default: throw .unsupportedVersion(version)
        }
    }

    private static func decodeVersion2(from reader: inout ByteReader, limits: GossipLimits) throws(WireError) -> MembershipState {
        let state = try decodeVersion1(from: &reader, limits: limits)
        let truncations = try TruncationPoints.decode(from: &reader, bucketsMax: limits.bucketsMax)
        return MembershipState(
            partitionCount: state.partitionCount, members: state.members, bucketProps: state.bucketProps, truncations: truncations)
    }

    private static func decodeVersion1(from reader: inout ByteReader, limits: GossipLimits) throws(WireError) -> MembershipState {
        let partitionCount = try reader.readVarInt()
        guard partitionCount >= 1, partitionCount <= 65536, partitionCount & (partitionCount - 1) == 0 else {
            throw .malformed("partition count \(partitionCount) is not a power of two in 1...65536")
        }
        let memberCount = try reader.readLength()
        guard memberCount <= limits.membersMax else { throw .malformed("\(memberCount) members, at most \(limits.membersMax)") }
        var members: [String: ClusterMember] = [:]
        members.reserveCapacity(memberCount)
        var previous: String?
        for _ in 0..<memberCount {
            let id = try reader.readString()
            let peerAddress = try reader.readString()
            let httpAddress = try reader.readString()
            do {
                try validate(id: id, peerAddress: peerAddress, httpAddress: httpAddress)
            } catch {
                throw .malformed(error.message)
            }
            if let previous, !previous.utf8.lexicographicallyPrecedes(id.utf8) {
                throw .malformed("member ids are not sorted and distinct at \(id)")
            }
            previous = id
            let code = try reader.readUInt8()
            guard let status = MemberStatus(wireCode: code) else { throw .malformed("unknown member status \(code)") }
            let version = try reader.readVarInt()
            let ringPosition = try reader.readVarInt()
            guard ringPosition >= 1 else { throw .malformed("member \(id) has ring position 0") }
            guard version <= counterMax, ringPosition <= counterMax else {
                throw .malformed("member \(id) has version \(version) and ring position \(ringPosition), above \(counterMax)")
            }
            members[id] = ClusterMember(
                id: id, peerAddress: peerAddress, httpAddress: httpAddress, status: status, version: version,
                ringPosition: ringPosition)
        }
        let bucketCount = try reader.readLength()
        guard bucketCount <= limits.bucketsMax else { throw .malformed("\(bucketCount) buckets, at most \(limits.bucketsMax)") }
        var bucketProps: [String: BucketProps] = [:]
        bucketProps.reserveCapacity(bucketCount)
        var previousBucket: String?
        for _ in 0..<bucketCount {
            let bucket = try reader.readString()
            do {
                try validateBucketName(bucket)
            } catch {
                throw .malformed("bad bucket name in membership state")
            }
            if let previousBucket, !previousBucket.utf8.lexicographicallyPrecedes(bucket.utf8) {
                throw .malformed("bucket names are not sorted and distinct at \(bucket)")
            }
            previousBucket = bucket
            bucketProps[bucket] = try BucketProps.decode(from: &reader)
        }
        return MembershipState(partitionCount: Int(partitionCount), members: members, bucketProps: bucketProps)
    }

    /// Largest member version and ring position a state may carry. Membership changes add
    /// one to them (`setting`, `admitting`), so a forged state at `UInt64.max` trapped the
    /// node on its next join or leave (found writing the fuzz checks). One bump per
    /// membership change never gets near 2^62, and from below it the additions can't overflow.
    static let counterMax: UInt64 = 1 << 62

    /// Decodes a whole buffer holding one state and nothing else.
    public init(decoding bytes: [UInt8], limits: GossipLimits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try MembershipState.decode(from: &reader, limits: limits)
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a membership state") }
    }
}
