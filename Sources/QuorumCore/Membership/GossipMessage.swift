/// A node's liveness counter: it rises every gossip round while the node runs.
///
/// `generation` is set once per process start (the shell uses the start time in wall-clock
/// milliseconds, or a counter it persists), so a restarted node's counter, which starts
/// again at 0, still compares as newer than anything from before the restart.
public struct Heartbeat: Sendable, Equatable, Comparable {
    public var generation: UInt64
    public var counter: UInt64

    public init(generation: UInt64, counter: UInt64) {
        self.generation = generation
        self.counter = counter
    }

    public static func < (lhs: Heartbeat, rhs: Heartbeat) -> Bool {
        (lhs.generation, lhs.counter) < (rhs.generation, rhs.counter)
    }
}

/// What one node sends another in a gossip round.
///
/// The heartbeat table carries the sender's own counter and the newest it knows of every
/// other member, so a node hears that a peer is alive second-hand within a round or two
/// even when fanout is smaller than the cluster: detection time then does not grow with
/// cluster size. The state is left out when the sender believes the receiver already
/// has it (same `digest`); a receiver that finds the digest differs answers with its own state.
public struct GossipMessage: Sendable, Equatable {
    public var sender: String
    /// Newest heartbeat known per member, the sender's own included.
    public var heartbeats: [String: Heartbeat]
    /// Digest of the sender's state (whether or not the state is included).
    public var digest: UInt64
    public var state: MembershipState?
    /// An answer to a message whose digest differed; never answered itself, so exchanges
    /// end after one round trip.
    public var isReply: Bool

    public init(sender: String, heartbeats: [String: Heartbeat], digest: UInt64, state: MembershipState?, isReply: Bool) {
        self.sender = sender
        self.heartbeats = heartbeats
        self.digest = digest
        self.state = state
        self.isReply = isReply
    }
}

/// Binary form of a gossip message (versions: `Formats.gossipMessage`).
///
/// - Version 1: the sender, flags (has a state, is a reply), the state digest, the
///   heartbeat table sorted by member id, then the state if flagged.
extension GossipMessage {
    private static let hasStateFlag: UInt8 = 1
    private static let isReplyFlag: UInt8 = 2

    /// Writes the newest version.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + heartbeats.count * 24)
        writer.write(Formats.gossipMessage.newest)
        writer.writeString(sender)
        writer.write((state != nil ? Self.hasStateFlag : 0) | (isReply ? Self.isReplyFlag : 0))
        writer.write(digest)
        let ids = heartbeats.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        writer.writeVarInt(UInt64(ids.count))
        for id in ids {
            writer.writeString(id)
            writer.writeVarInt(heartbeats[id]!.generation)
            writer.writeVarInt(heartbeats[id]!.counter)
        }
        state?.encode(into: &writer)
        return writer.bytes
    }

    /// Reads a message, refusing one larger than `limits.messageBytesMax`, with more
    /// heartbeats than `limits.membersMax`, or with anything the state decoder refuses.
    public init(decoding bytes: [UInt8], limits: GossipLimits = .defaults) throws(WireError) {
        guard bytes.count <= limits.messageBytesMax else {
            throw .malformed("gossip message of \(bytes.count) bytes, at most \(limits.messageBytesMax)")
        }
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        switch version {
        case 1: self = try Self.decodeVersion1(from: &reader, limits: limits)
        default: throw .unsupportedVersion(version)
        }
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a gossip message") }
    }

    private static func decodeVersion1(from reader: inout ByteReader, limits: GossipLimits) throws(WireError) -> GossipMessage {
        let sender = try reader.readString()
        guard MembershipState.isPrintableASCII(sender, bytesMax: 64) else { throw .malformed("bad gossip sender id") }
        let flags = try reader.readUInt8()
        guard flags & ~(Self.hasStateFlag | Self.isReplyFlag) == 0 else { throw .malformed("unknown gossip flags \(flags)") }
        let digest = try reader.readUInt64()
        let count = try reader.readLength()
        guard count <= limits.membersMax else { throw .malformed("\(count) heartbeats, at most \(limits.membersMax)") }
        var heartbeats: [String: Heartbeat] = [:]
        heartbeats.reserveCapacity(count)
        for _ in 0..<count {
            let id = try reader.readString()
            guard MembershipState.isPrintableASCII(id, bytesMax: 64) else { throw .malformed("bad heartbeat member id") }
            let heartbeat = Heartbeat(generation: try reader.readVarInt(), counter: try reader.readVarInt())
            guard heartbeats.updateValue(heartbeat, forKey: id) == nil else {
                throw .malformed("heartbeat of \(id) listed twice")
            }
        }
        let state = flags & Self.hasStateFlag != 0 ? try MembershipState.decode(from: &reader, limits: limits) : nil
        return GossipMessage(sender: sender, heartbeats: heartbeats, digest: digest, state: state, isReply: flags & Self.isReplyFlag != 0)
    }
}
