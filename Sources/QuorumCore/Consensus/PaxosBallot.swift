/// A Paxos ballot: an HLC reading plus the proposing node's id.
///
/// Ballots must be unique (two proposers never share one, or each could get a different
/// value accepted under it) and totally ordered (acceptors compare them). The HLC part
/// keeps ballots near real time and lets a proposer jump past a ballot it saw rejected;
/// the node id breaks ties between nodes whose clocks read the same, so uniqueness needs
/// only that one node never issues one timestamp twice (its HLC ticks monotonically).
/// Node ids compare as UTF-8 bytes, the same on every node.
public struct PaxosBallot: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var timestamp: HLCTimestamp
    public var node: String

    public init(timestamp: HLCTimestamp, node: String) {
        self.timestamp = timestamp
        self.node = node
    }

    public static func < (lhs: PaxosBallot, rhs: PaxosBallot) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        return lhs.node.utf8.lexicographicallyPrecedes(rhs.node.utf8)
    }

    public var description: String {
        "\(timestamp.physicalMilliseconds).\(timestamp.logical)@\(node)"
    }
}

/// Binary form, inside `AcceptorState` and (later) Paxos peer messages: the timestamp
/// (8 + 4 bytes, big-endian) then the node id (length-prefixed UTF-8). No version byte of
/// its own: it is always part of an encoding that has one.
extension PaxosBallot {
    public func encode(into writer: inout ByteWriter) {
        timestamp.encode(into: &writer)
        writer.writeString(node)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> PaxosBallot {
        let timestamp = try HLCTimestamp.decode(from: &reader)
        let node = try reader.readString()
        guard !node.isEmpty else { throw .malformed("ballot with an empty node id") }
        guard node.utf8.count <= ConsensusLimits.nodeIDBytesMax else {
            throw .malformed("ballot node id of \(node.utf8.count) bytes, at most \(ConsensusLimits.nodeIDBytesMax)")
        }
        return PaxosBallot(timestamp: timestamp, node: node)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 16 + node.utf8.count)
        encode(into: &writer)
        return writer.bytes
    }

    /// Decodes a whole buffer holding one ballot and nothing else.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try PaxosBallot.decode(from: &reader)
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a ballot") }
    }
}
