/// What one replica, as a Paxos acceptor, remembers about one key.
///
/// Kept apart from the key's version state (`KeyState`): it will live in its own SQLite
/// table, written before every reply that depends on it, and it is never merged by
/// anti-entropy (promises are local facts, not replicated data). The learned value
/// (`committed`) is also stored where reads and anti-entropy see it; that is the
/// services layer's job.
public struct AcceptorState: Sendable, Hashable {
    /// The highest ballot this acceptor promised: it accepts nothing lower.
    public var promised: PaxosBallot?
    /// The newest proposal accepted and not yet known to be committed (cleared when a
    /// commit of its ballot or a later one arrives).
    public var accepted: PaxosProposal?
    /// The most recent commit this acceptor learned.
    public var committed: PaxosCommit?
    /// Set on a replica whose disk was wiped: it lost its promises, so it must not vote
    /// (promise or accept) until it has caught up; it still learns commits.
    public var isCatchingUp: Bool
    /// Set on a replica that caught up after losing strong data (the node's standing, never
    /// stored per key): it promises for this key only once it accepted or learned a ballot
    /// at or above this floor here. Its lost votes may be part of a chosen value that only a
    /// bare majority holds, which a promise of its empty state could hide.
    public var relearningFloor: PaxosBallot?

    public init(
        promised: PaxosBallot? = nil, accepted: PaxosProposal? = nil, committed: PaxosCommit? = nil,
        isCatchingUp: Bool = false, relearningFloor: PaxosBallot? = nil
    ) {
        self.promised = promised
        self.accepted = accepted
        self.committed = committed
        self.isCatchingUp = isCatchingUp
        self.relearningFloor = relearningFloor
    }

    /// Whether a promise of this state can stand for what this replica ever voted for the
    /// key: always, unless it is relearning and has not yet voted or learned at or above the
    /// floor (every vote it lost was below it).
    public var knowsItsVotes: Bool {
        guard let floor = relearningFloor else { return true }
        return (accepted.map { $0.ballot >= floor } ?? false) || (committed.map { $0.ballot >= floor } ?? false)
    }

    /// A key this acceptor never heard of.
    public static let empty = AcceptorState()

    /// The state a replica starts from when its Paxos table was lost but it was a member
    /// before: nothing remembered, and no vote until it has caught up.
    public static let wiped = AcceptorState(isCatchingUp: true)
}

/// Binary form (versions: `Formats.paxosState`), the row of the future Paxos table.
/// Canonical: one byte string per state, so equal states store equal bytes.
///
/// - Version 1: the version byte; a flags byte (bit 0 promised present, bit 1 accepted
///   present, bit 2 committed present, bit 3 catching up; other bits zero); then the
///   present parts in that order (`PaxosBallot`, `PaxosProposal`, `PaxosCommit` forms).
///   `relearningFloor` is the node's standing and is not part of the form.
extension AcceptorState {
    private static let promisedFlag: UInt8 = 1 << 0
    private static let acceptedFlag: UInt8 = 1 << 1
    private static let committedFlag: UInt8 = 1 << 2
    private static let catchingUpFlag: UInt8 = 1 << 3

    public func encode(into writer: inout ByteWriter) {
        writer.write(Formats.paxosState.newest)
        var flags: UInt8 = 0
        if promised != nil { flags |= Self.promisedFlag }
        if accepted != nil { flags |= Self.acceptedFlag }
        if committed != nil { flags |= Self.committedFlag }
        if isCatchingUp { flags |= Self.catchingUpFlag }
        writer.write(flags)
        promised?.encode(into: &writer)
        accepted?.encode(into: &writer)
        committed?.encode(into: &writer)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + (accepted?.value.bytes?.count ?? 0) + (committed?.value.bytes?.count ?? 0))
        encode(into: &writer)
        return writer.bytes
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> AcceptorState {
        let version = try reader.readUInt8()
        switch version {
        case 1: return try decodeVersion1(from: &reader)
        default: throw .unsupportedVersion(version)
        }
    }

    private static func decodeVersion1(from reader: inout ByteReader) throws(WireError) -> AcceptorState {
        let flags = try reader.readUInt8()
        let known = promisedFlag | acceptedFlag | committedFlag | catchingUpFlag
        guard flags & ~known == 0 else { throw .malformed("unknown Paxos state flags \(flags)") }
        let promised = flags & promisedFlag != 0 ? try PaxosBallot.decode(from: &reader) : nil
        let accepted = flags & acceptedFlag != 0 ? try PaxosProposal.decode(from: &reader) : nil
        let committed = flags & committedFlag != 0 ? try PaxosCommit.decode(from: &reader) : nil
        // The acceptor keeps these relations; a state that breaks them was not written by it.
        if let accepted {
            guard let promised, accepted.ballot <= promised else {
                throw .malformed("accepted ballot \(accepted.ballot) above the promise")
            }
            if let committed, accepted.ballot <= committed.ballot {
                throw .malformed("accepted ballot \(accepted.ballot) not newer than the commit \(committed.ballot)")
            }
        }
        return AcceptorState(
            promised: promised, accepted: accepted, committed: committed, isCatchingUp: flags & catchingUpFlag != 0)
    }

    /// Decodes a whole buffer holding one state and nothing else.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try AcceptorState.decode(from: &reader)
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a Paxos state") }
    }
}
