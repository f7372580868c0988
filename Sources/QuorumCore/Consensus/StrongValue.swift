/// The value of a key in a strongly consistent bucket: bytes with their content type, or
/// a tombstone (the key was deleted).
///
/// A deletion is a value like any other here: it is chosen by consensus and gets its
/// own ballot, so a later compare-and-set can tell "deleted at ballot b" from "never written".
public enum StrongValue: Sendable, Hashable {
    case value(bytes: [UInt8], contentType: String)
    case tombstone

    /// The bytes, or nil for a tombstone.
    public var bytes: [UInt8]? {
        if case .value(let bytes, _) = self { return bytes }
        return nil
    }

    public var isTombstone: Bool { self == .tombstone }
}

/// A value chosen by consensus, with the ballot it was chosen under and the commit it
/// was built on.
///
/// Learned values order by ballot, never by HLC of the write: the ballot is what the
/// acceptors agreed on. `basedOn` names the instance the value was chosen in, so a
/// proposer whose own proposal's fate is unknown can tell from the latest commit whether
/// its instance chose another value (then its own was not chosen).
public struct PaxosCommit: Sendable, Hashable {
    public var ballot: PaxosBallot
    public var value: StrongValue
    public var basedOn: PaxosBallot?

    public init(ballot: PaxosBallot, value: StrongValue, basedOn: PaxosBallot? = nil) {
        self.ballot = ballot
        self.value = value
        self.basedOn = basedOn
    }

    /// The commit of a proposal that a majority accepted.
    public init(chosen proposal: PaxosProposal) {
        self.init(ballot: proposal.ballot, value: proposal.value, basedOn: proposal.basedOn)
    }
}

/// A value proposed under a ballot, and the commit it was computed from.
///
/// `basedOn` names the instance: each operation on a key is a new Paxos instance that
/// starts from the key's most recent commit (nil: the key never had one). A proposer
/// that finds an accepted proposal newer than the latest commit re-proposes it unchanged,
/// `basedOn` included, under its own ballot, which is how an interrupted operation is completed.
public struct PaxosProposal: Sendable, Hashable {
    public var ballot: PaxosBallot
    public var value: StrongValue
    public var basedOn: PaxosBallot?

    public init(ballot: PaxosBallot, value: StrongValue, basedOn: PaxosBallot?) {
        self.ballot = ballot
        self.value = value
        self.basedOn = basedOn
    }
}

/// Binary forms, inside `AcceptorState` and (later) Paxos peer messages; no version bytes
/// of their own.
///
/// A value is a tag (0 tombstone, 1 value) then, for a value, its content type and bytes.
/// A commit or proposal: its ballot, its value, a flag and the ballot it was based on.
extension StrongValue {
    public func encode(into writer: inout ByteWriter) {
        switch self {
        case .tombstone:
            writer.write(UInt8(0))
        case .value(let bytes, let contentType):
            writer.write(UInt8(1))
            writer.writeString(contentType)
            writer.writeBytes(bytes)
        }
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> StrongValue {
        switch try reader.readUInt8() {
        case 0: return .tombstone
        case 1:
            let contentType = try reader.readString()
            guard contentType.utf8.count <= ConsensusLimits.contentTypeBytesMax else {
                throw .malformed("content type of \(contentType.utf8.count) bytes, at most \(ConsensusLimits.contentTypeBytesMax)")
            }
            return .value(bytes: try reader.readBytes(), contentType: contentType)
        case let tag: throw .malformed("strong value tag \(tag)")
        }
    }
}

extension PaxosCommit {
    public func encode(into writer: inout ByteWriter) {
        ballot.encode(into: &writer)
        value.encode(into: &writer)
        writer.write(basedOn != nil)
        basedOn?.encode(into: &writer)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> PaxosCommit {
        let ballot = try PaxosBallot.decode(from: &reader)
        let value = try StrongValue.decode(from: &reader)
        let basedOn = try reader.readBool() ? try PaxosBallot.decode(from: &reader) : nil
        if let basedOn, basedOn >= ballot { throw .malformed("commit \(ballot) based on a later commit \(basedOn)") }
        return PaxosCommit(ballot: ballot, value: value, basedOn: basedOn)
    }
}

extension PaxosProposal {
    public func encode(into writer: inout ByteWriter) {
        ballot.encode(into: &writer)
        value.encode(into: &writer)
        writer.write(basedOn != nil)
        basedOn?.encode(into: &writer)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> PaxosProposal {
        let ballot = try PaxosBallot.decode(from: &reader)
        let value = try StrongValue.decode(from: &reader)
        let basedOn = try reader.readBool() ? try PaxosBallot.decode(from: &reader) : nil
        if let basedOn, basedOn >= ballot { throw .malformed("proposal \(ballot) based on a later commit \(basedOn)") }
        return PaxosProposal(ballot: ballot, value: value, basedOn: basedOn)
    }
}
