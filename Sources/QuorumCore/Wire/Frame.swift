/// One node-to-node frame: `[u32 length][u8 protocol version][u8 kind][u64 request id][payload]`.
///
/// `length` counts everything after itself. Request ids let many requests share one
/// connection; a response carries the id of its request. The payload is a `PeerMessage`
/// (or a `PeerHello` for `.hello`).
///
/// Protocol versions (`Formats.peerProtocol`): the header is the same in every version,
/// so any node can read a frame's version; the version fixes the layout of the payload
/// and of the encodings inside it. A node reads frames of every version in
/// `protocolVersionsSupported` and refuses a later one (closing the connection). The
/// accepting node answers in the version of the connection's hello, so a newer node
/// answers an older one in the older one's version.
///
/// Only version 1 exists, so payload decoders don't look at the version yet. The next
/// version must add two things: payload decoders that take `version`, and, since the
/// hello has no answer, a way for a connecting node to learn that the node it reached is
/// older (a hello answer naming the newest version the accepting node reads, say).
/// Until then a connecting node writes `protocolVersion`, which an older node refuses.
public struct Frame: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// First frame on every connection, from the connecting side.
        case hello = 0
        case request = 1
        case response = 2
        /// A transport-level refusal, payload a UTF-8 message: with the hello's id when the
        /// hello is rejected (the sender then closes), else with the refused request's id.
        case error = 3
    }

    /// The newest protocol version, which a node writes unless it answers an older one.
    public static let protocolVersion = Formats.peerProtocol.newest
    /// Every version a node reads: the first (1) through `protocolVersion`.
    public static let protocolVersionsSupported = Formats.peerProtocol.readable
    /// Bytes before the payload: length, version, kind, request id.
    public static let headerBytes = 4 + 1 + 1 + 8

    /// The protocol version the frame is written in (or was read in).
    public var version: UInt8
    public var kind: Kind
    public var requestID: UInt64
    public var payload: [UInt8]

    public init(version: UInt8 = Frame.protocolVersion, kind: Kind, requestID: UInt64, payload: [UInt8]) {
        self.version = version
        self.kind = kind
        self.requestID = requestID
        self.payload = payload
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerBytes + payload.count)
        writer.write(UInt32(Self.headerBytes - 4 + payload.count))
        writer.write(version)
        writer.write(kind.rawValue)
        writer.write(requestID)
        var bytes = writer.bytes
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// Reads the frame at the start of `bytes`.
    ///
    /// - Returns: the frame and the bytes it used, or nil when more bytes are needed.
    /// - Throws: when the frame is oversized, of a protocol version outside
    ///   `protocolVersionsSupported` or of an unknown kind; the connection that sent it
    ///   should be closed.
    public static func decode(_ bytes: [UInt8], frameBytesMax: Int) throws(WireError) -> (frame: Frame, consumed: Int)? {
        if bytes.count >= 4 {
            // Refuse an oversized length before waiting for the rest of its header.
            var reader = ByteReader(bytes)
            let length = Int(try reader.readUInt32())
            guard length + 4 <= frameBytesMax else {
                throw .malformed("frame of \(length + 4) bytes exceeds the limit of \(frameBytesMax) bytes")
            }
        }
        guard bytes.count >= headerBytes else { return nil }
        let header = try decodeHeader(Array(bytes[0..<headerBytes]), frameBytesMax: frameBytesMax)
        guard bytes.count >= header.length else { return nil }
        let payload = Array(bytes[headerBytes..<header.length])
        return (Frame(version: header.version, kind: header.kind, requestID: header.requestID, payload: payload), header.length)
    }

    /// Header fields decoded from exactly `headerBytes` bytes, for decoders that read the
    /// payload straight out of their own buffer.
    public static func decodeHeader(
        _ header: [UInt8], frameBytesMax: Int
    ) throws(WireError) -> (length: Int, version: UInt8, kind: Kind, requestID: UInt64) {
        precondition(header.count >= headerBytes, "decodeHeader needs \(headerBytes) bytes")
        var reader = ByteReader(header)
        let length = Int(try reader.readUInt32())
        guard length >= headerBytes - 4 else { throw .malformed("frame length \(length) is shorter than a frame header") }
        guard length + 4 <= frameBytesMax else {
            throw .malformed("frame of \(length + 4) bytes exceeds the limit of \(frameBytesMax) bytes")
        }
        let version = try reader.readUInt8()
        guard protocolVersionsSupported.contains(version) else { throw .unsupportedVersion(version) }
        let rawKind = try reader.readUInt8()
        guard let kind = Kind(rawValue: rawKind) else { throw .malformed("unknown frame kind \(rawKind)") }
        return (length + 4, version, kind, try reader.readUInt64())
    }
}

/// What a connecting node says first: who it is and which cluster shape it has, so nodes
/// of clusters with different partition counts refuse each other instead of misplacing
/// keys. Membership itself is not checked here: the ring changes as nodes join and leave,
/// and gossip carries those changes (a joining node connects before anyone knows it).
public struct PeerHello: Sendable, Equatable {
    public var nodeID: String
    /// `PeerHello.clusterDigest(partitionCount:)` of the sender's cluster.
    public var clusterDigest: UInt64

    public init(nodeID: String, clusterDigest: UInt64) {
        self.nodeID = nodeID
        self.clusterDigest = clusterDigest
    }

    /// What two nodes must share to exchange data: the partition count fixes where keys live.
    public static func clusterDigest(partitionCount: Int) -> UInt64 {
        var writer = ByteWriter()
        writer.writeVarInt(UInt64(partitionCount))
        return StableHash.hash(writer.bytes)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.writeString(nodeID)
        writer.write(clusterDigest)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        nodeID = try reader.readString()
        clusterDigest = try reader.readUInt64()
    }
}
