/// The `kv` row of a key in a strongly consistent bucket: the latest commit its replica
/// learned, the value reads and anti-entropy see.
///
/// Kept apart from the acceptor's promise and accepted proposal, which live in the store's
/// Paxos table: those are this replica's local votes, never repaired or compared, while
/// this row is replicated data, so replicas that learned the same commit hold equal bytes
/// and their Merkle trees agree. Replicas settle two records by ballot, never by HLC of
/// the write (`Acceptor.receiveCommit`).
///
/// The first byte is `Formats.strongRecord`'s version (0x50 and up), a value no `KeyState`
/// version nor `TypedHeader` uses, so a reader of a `kv` blob tells the three apart.
public enum StrongRecord {
    /// Whether a `kv` blob is a strong key's record, by its first byte.
    public static func isStrongRecord(_ blob: [UInt8]) -> Bool {
        guard let first = blob.first else { return false }
        return Formats.strongRecord.readable.contains(first)
    }

    public static func encoded(_ commit: PaxosCommit) -> [UInt8] {
        var writer = ByteWriter(capacity: 48 + (commit.value.bytes?.count ?? 0))
        writer.write(Formats.strongRecord.newest)
        commit.encode(into: &writer)
        return writer.bytes
    }

    public static func decode(_ blob: [UInt8]) throws(WireError) -> PaxosCommit {
        var reader = ByteReader(blob)
        let version = try reader.readUInt8()
        guard version == 0x50 else { throw .unsupportedVersion(version) }
        let commit = try PaxosCommit.decode(from: &reader)
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a strong record") }
        return commit
    }
}

/// One key's acceptor state as the store keeps it: the Paxos table's row (promise,
/// accepted proposal, catching-up flag; never the commit) and the `kv` row (the commit, as a
/// `StrongRecord`). Either may be absent.
public struct StoredPaxos: Sendable, Equatable {
    public var paxos: [UInt8]?
    public var record: [UInt8]?

    public init(paxos: [UInt8]?, record: [UInt8]?) {
        self.paxos = paxos
        self.record = record
    }

    public static let absent = StoredPaxos(paxos: nil, record: nil)

    /// The acceptor's view of the key: the votes of the Paxos row and the commit of the
    /// record. A key never heard of reads as `empty`.
    public func acceptorState() throws(WireError) -> AcceptorState {
        var state = try paxos.map { bytes throws(WireError) in try AcceptorState(decoding: bytes) } ?? .empty
        state.committed = try record.map { bytes throws(WireError) in try StrongRecord.decode(bytes) }
        if let accepted = state.accepted, let committed = state.committed, accepted.ballot <= committed.ballot {
            state.accepted = nil
        }
        return state
    }

    /// Whether the rows hold a value of the key: a vote (an accepted proposal) or a commit,
    /// not a bare promise. What a catch-up fence asks a store about (`.paxosFence`); rows
    /// that don't decode count as holding one (the safe answer).
    public var holdsValue: Bool {
        guard let state = try? acceptorState() else { return true }
        return state.accepted != nil || state.committed != nil
    }

    /// The two rows of `state`. The Paxos row is nil when it holds nothing worth a row.
    public init(_ state: AcceptorState) {
        var votes = state
        votes.committed = nil
        paxos = votes == .empty ? nil : votes.encoded()
        record = state.committed.map(StrongRecord.encoded)
    }
}
