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

/// A value chosen by consensus, with the ballot it was chosen under, the operation that
/// proposed it (`origin`) and the commit it was built on.
///
/// Learned values order by ballot, never by HLC of the write: the ballot is what the
/// acceptors agreed on. `origin` is the ballot under which the operation first proposed
/// the value; a proposer that completes an interrupted proposal re-proposes it under its
/// own ballot but keeps the origin, so one value chosen in one instance keeps one
/// identity (its etag) however many proposers carried it, and a proposer tells its own
/// proposal from another client's proposal of equal bytes. `basedOn` is the origin of the
/// commit the value was built on (nil: the key had none), which names the instance.
public struct PaxosCommit: Sendable, Hashable {
    public var ballot: PaxosBallot
    public var value: StrongValue
    public var basedOn: PaxosBallot?
    public var origin: PaxosBallot

    public init(ballot: PaxosBallot, value: StrongValue, basedOn: PaxosBallot? = nil, origin: PaxosBallot? = nil) {
        self.ballot = ballot
        self.value = value
        self.basedOn = basedOn
        self.origin = origin ?? ballot
    }

    /// The commit of a proposal that a majority accepted.
    public init(chosen proposal: PaxosProposal) {
        self.init(ballot: proposal.ballot, value: proposal.value, basedOn: proposal.basedOn, origin: proposal.origin)
    }
}

/// A value proposed under a ballot, the operation it belongs to, and the commit it was
/// computed from.
///
/// `basedOn` names the instance: each operation on a key is a new Paxos instance that
/// starts from the key's most recent commit (its origin; nil: the key never had one). A
/// proposer that finds an accepted proposal newer than the latest commit re-proposes it
/// unchanged, `basedOn` and `origin` included, under its own ballot, which is how an
/// interrupted operation is completed.
public struct PaxosProposal: Sendable, Hashable {
    public var ballot: PaxosBallot
    public var value: StrongValue
    public var basedOn: PaxosBallot?
    /// The ballot under which the operation first proposed this value.
    public var origin: PaxosBallot

    public init(ballot: PaxosBallot, value: StrongValue, basedOn: PaxosBallot?, origin: PaxosBallot? = nil) {
        self.ballot = ballot
        self.value = value
        self.basedOn = basedOn
        self.origin = origin ?? ballot
    }

    /// The same proposal carried on under another proposer's `ballot`.
    public func completed(under ballot: PaxosBallot) -> PaxosProposal {
        PaxosProposal(ballot: ballot, value: value, basedOn: basedOn, origin: origin)
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
        ChosenForm.encode(ballot: ballot, value: value, basedOn: basedOn, origin: origin, into: &writer)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> PaxosCommit {
        let form = try ChosenForm.decode(from: &reader, what: "commit")
        return PaxosCommit(ballot: form.ballot, value: form.value, basedOn: form.basedOn, origin: form.origin)
    }
}

extension PaxosProposal {
    public func encode(into writer: inout ByteWriter) {
        ChosenForm.encode(ballot: ballot, value: value, basedOn: basedOn, origin: origin, into: &writer)
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> PaxosProposal {
        let form = try ChosenForm.decode(from: &reader, what: "proposal")
        return PaxosProposal(ballot: form.ballot, value: form.value, basedOn: form.basedOn, origin: form.origin)
    }
}

/// The one binary form of commits and proposals: the ballot, the value, a flags byte (bit 0:
/// `basedOn` follows; bit 1: an `origin` other than the ballot follows), then those. A value
/// first proposed under its own ballot, the common case, writes flags 0 or 1 and no origin.
/// (Bit 1 came with origins, before any release stored or sent these forms.)
private enum ChosenForm {
    static let basedOnFlag: UInt8 = 1 << 0
    static let originFlag: UInt8 = 1 << 1

    static func encode(
        ballot: PaxosBallot, value: StrongValue, basedOn: PaxosBallot?, origin: PaxosBallot, into writer: inout ByteWriter
    ) {
        ballot.encode(into: &writer)
        value.encode(into: &writer)
        let flags = (basedOn != nil ? basedOnFlag : 0) | (origin != ballot ? originFlag : 0)
        writer.write(flags)
        basedOn?.encode(into: &writer)
        if origin != ballot { origin.encode(into: &writer) }
    }

    static func decode(
        from reader: inout ByteReader, what: String
    ) throws(WireError) -> (ballot: PaxosBallot, value: StrongValue, basedOn: PaxosBallot?, origin: PaxosBallot) {
        let ballot = try PaxosBallot.decode(from: &reader)
        let value = try StrongValue.decode(from: &reader)
        let flags = try reader.readUInt8()
        guard flags & ~(basedOnFlag | originFlag) == 0 else { throw .malformed("unknown \(what) flags \(flags)") }
        let basedOn = flags & basedOnFlag != 0 ? try PaxosBallot.decode(from: &reader) : nil
        let origin = flags & originFlag != 0 ? try PaxosBallot.decode(from: &reader) : ballot
        if flags & originFlag != 0, origin >= ballot {
            throw .malformed("\(what) \(ballot) carries an origin \(origin) that is not earlier")
        }
        if let basedOn, basedOn >= origin { throw .malformed("\(what) \(ballot) based on a later commit \(basedOn)") }
        return (ballot, value, basedOn, origin)
    }
}
