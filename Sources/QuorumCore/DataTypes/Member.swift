/// One member of a typed key (a set element, a map field, the counter's single member):
/// its live dots, each with a payload, sorted by dot so equal members are equal values and
/// encode to equal bytes. A member with no dots does not exist in a stored state; a delta
/// lists one to say "visit this member" (a remove).
public struct Member: Sendable, Equatable, Hashable {
    public struct Entry: Sendable, Equatable, Hashable {
        public var dot: Dot
        public var payload: DotPayload

        public init(dot: Dot, payload: DotPayload) {
            self.dot = dot
            self.payload = payload
        }
    }

    /// Sorted by dot, no dot twice.
    public private(set) var entries: [Entry]

    /// Sorts; of two entries with one dot keeps the canonically larger payload.
    public init(_ entries: [Entry] = []) {
        var sorted = entries.sorted { $0.dot < $1.dot }
        var index = 1
        while index < sorted.count {
            if sorted[index].dot == sorted[index - 1].dot {
                if sorted[index - 1].payload.canonicalPrecedes(sorted[index].payload) {
                    sorted[index - 1] = sorted[index]
                }
                sorted.remove(at: index)
            } else {
                index += 1
            }
        }
        self.entries = sorted
    }

    /// Already sorted and unique (decoders check it).
    init(sortedEntries: [Entry]) { self.entries = sortedEntries }

    public static let empty = Member()

    public var isEmpty: Bool { entries.isEmpty }
    public var dots: [Dot] { entries.map(\.dot) }

    public func payload(for dot: Dot) -> DotPayload? {
        entries.first { $0.dot == dot }?.payload
    }

    /// The canonical bytes of the member's dots and payloads: a member row's payload in
    /// storage (after `Formats.typedMember`'s version byte) and the digest's input.
    public func encode(into writer: inout ByteWriter) {
        writer.writeVarInt(UInt64(entries.count))
        for entry in entries {
            writer.writeString(entry.dot.actor)
            writer.writeVarInt(entry.dot.counter)
            entry.payload.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout ByteReader, limits: Limits) throws(WireError) -> Member {
        let count = try reader.readLength()
        guard count <= TypedDecodeBounds.dotsPerMember(limits) else { throw .malformed("member has \(count) dots, past the limit") }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let dot = Dot(actor: try reader.readString(), counter: try reader.readVarInt())
            guard dot.counter > 0 else { throw .malformed("dot counter 0") }
            if let last = entries.last, !(last.dot < dot) { throw .malformed("member dots unsorted or repeated") }
            entries.append(Entry(dot: dot, payload: try DotPayload.decode(from: &reader, limits: limits)))
        }
        return Member(sortedEntries: entries)
    }

    /// A member row's payload: `Formats.typedMember` version byte, then `encode`.
    public func encodedRow() -> [UInt8] {
        var writer = ByteWriter(capacity: 8 + entries.count * 24)
        writer.write(Formats.typedMember.newest)
        encode(into: &writer)
        return writer.bytes
    }

    /// Reads a member row; refuses other versions and trailing bytes.
    public init(decodingRow bytes: [UInt8], limits: Limits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        guard version == 1 else { throw .unsupportedVersion(version) }
        self = try Member.decode(from: &reader, limits: limits)
        guard reader.isAtEnd else { throw .malformed("trailing bytes after a member row") }
    }
}

/// How far decoders go before refusing input as forged: twice each limit. Leads enforce
/// the limits themselves; merges of updates that different leads accepted concurrently
/// can pass a limit a little (each lead checked its own view), and a decoder must never
/// refuse a state honest replicas produced, while still bounding what forged bytes claim.
enum TypedDecodeBounds {
    static func members(_ limits: Limits) -> Int { limits.typedMembersMax &* 2 }
    static func actors(_ limits: Limits) -> Int { limits.typedActorsMax &* 2 }
    static func dotsPerMember(_ limits: Limits) -> Int { limits.typedDotsPerMemberMax &* 2 }
    static func operationIDs(_ limits: Limits) -> Int { limits.typedOperationIDsMax }
}
