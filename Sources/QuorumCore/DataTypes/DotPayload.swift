/// What one dot of a member carries.
///
/// A dot is an event; its payload is what that event says about the member. Payloads of
/// one dot are equal at every replica in honest runs (only the dot's actor creates it);
/// the join still orders them (`canonicalPrecedes`) so forged or damaged input cannot
/// make replicas disagree forever.
public enum DotPayload: Sendable, Equatable, Hashable {
    /// A set element's presence; a map flag field that is enabled.
    case present
    /// A counter entry: the cumulative increments (`p`) and decrements (`n`) of the dot's
    /// actor since its entry was last removed. Cumulative, so the newest dot of an actor
    /// replaces the older one without losing anything.
    case counter(p: UInt64, n: UInt64)
    /// A map register field: last writer wins by (stamp, dot).
    case register(stamp: HLCTimestamp, value: [UInt8])

    /// The canonical bytes: a tag, then the fields. Inside member rows, states and digests.
    public func encode(into writer: inout ByteWriter) {
        switch self {
        case .present:
            writer.write(UInt8(0))
        case .counter(let p, let n):
            writer.write(UInt8(1))
            writer.writeVarInt(p)
            writer.writeVarInt(n)
        case .register(let stamp, let value):
            writer.write(UInt8(2))
            stamp.encode(into: &writer)
            writer.writeBytes(value)
        }
    }

    public static func decode(from reader: inout ByteReader, limits: Limits) throws(WireError) -> DotPayload {
        switch try reader.readUInt8() {
        case 0: return .present
        case 1: return .counter(p: try reader.readVarInt(), n: try reader.readVarInt())
        case 2:
            let stamp = try HLCTimestamp.decode(from: &reader)
            let value = try reader.readBytes()
            guard value.count <= limits.valueBytesMax else { throw .malformed("register value past valueBytesMax") }
            return .register(stamp: stamp, value: value)
        case let tag: throw .malformed("unknown dot payload tag \(tag)")
        }
    }

    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter(capacity: 16)
        encode(into: &writer)
        return writer.bytes
    }

    /// The order the join uses when two copies of one dot disagree: the larger canonical
    /// encoding wins, a total order, so the join stays commutative and associative.
    public func canonicalPrecedes(_ other: DotPayload) -> Bool {
        canonicalBytes.lexicographicallyPrecedes(other.canonicalBytes)
    }
}
