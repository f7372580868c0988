import QuorumCore
import QuorumServices

/// A node's disk in the simulator: replica states and hint rows, with the contract of the
/// SQLite `ReplicaStore` the real node uses.
///
/// - Reads see committed data only.
/// - Writes commit one at a time in the order they were queued; a write's transform runs
///   against the state committed just before it (read-modify-write is atomic per key).
/// - What is committed survives a crash; queued writes that had not committed are lost
///   (the node keeps those in `SimulatedNode`'s write queue, which a crash empties).
/// - A scan lists one partition's rows in (bucket, key) order.
/// - A typed key (issue #16) is its header in `rows` plus its member rows in `members`;
///   an update writes both in one commit (so a crash keeps or loses them together) and a
///   delete of the header takes the members with it.
///
/// States are kept encoded, as the node's store keeps them, with their version digest
/// (`StableHash` of the bytes) taken at commit for the Merkle trees.
struct MemoryStore {
    struct Row: Equatable {
        var blob: [UInt8]
        var digest: UInt64

        /// Whether the row is a typed key's header (issue #16) rather than a `KeyState`.
        var isTyped: Bool { TypedHeader.isTypedHeader(blob) }
        /// Whether the row is a strong key's record (issue #17), its latest commit.
        var isStrong: Bool { StrongRecord.isStrongRecord(blob) }

        /// The decoded plain state, for the checks; nil for a typed key's header (read those
        /// with `readTyped`). A plain row that does not decode is a codec bug.
        var state: KeyState? {
            guard !isTyped, !isStrong else { return nil }
            guard let state = try? KeyState(decoding: blob) else { preconditionFailure("a stored state does not decode") }
            return state
        }
    }

    struct Name: Hashable, Comparable {
        var partition: Int
        var bucket: String
        var key: [UInt8]

        static func < (lhs: Name, rhs: Name) -> Bool {
            if lhs.partition != rhs.partition { return lhs.partition < rhs.partition }
            if lhs.bucket != rhs.bucket { return lhs.bucket < rhs.bucket }
            return lhs.key.lexicographicallyPrecedes(rhs.key)
        }
    }

    private(set) var rows: [Name: Row] = [:]
    /// Typed keys' member rows: member bytes to payload, by key. A key with no member rows
    /// has no entry.
    private(set) var members: [Name: [[UInt8]: [UInt8]]] = [:]
    /// The acceptor's standing (issue #17), in the node's meta table. A new store catches
    /// up first, as a real node's new file does: a spare's, and one that replaced a wiped
    /// disk (which relearns once its peers hold strong values). Founders start voting.
    var consensusFloor: ConsensusFloor = .catchingUp(floor: nil)
    /// Strong keys' Paxos rows (promise, accepted proposal), apart from their `kv` rows.
    private(set) var paxos: [Name: [UInt8]] = [:]
    /// Hint rows by id, as `HintStorage` stores them before acknowledging.
    private(set) var hints: [UInt64: Hint] = [:]
    /// The heartbeat generation of the node's last run (its meta table).
    var generation: UInt64?
    /// The membership the node last saved (its meta table).
    var membership: MembershipState?
    /// Tombstone states purged (for the run's figures).
    private(set) var purgedCount = 0
    /// Commits so far (for the run's figures).
    private(set) var commitCount = 0

    /// A plain key's state; nil when absent or a typed key (whose rows `readTyped` reads):
    /// the plain-value checks see a typed key as none of theirs.
    func read(partition: Int, bucket: String, key: [UInt8]) -> KeyState? {
        rows[Name(partition: partition, bucket: bucket, key: key)]?.state
    }

    func blob(partition: Int, bucket: String, key: [UInt8]) -> [UInt8]? {
        rows[Name(partition: partition, bucket: bucket, key: key)]?.blob
    }

    /// Commits `blob`; returns the digests before and after, for the partition's tree.
    mutating func commit(partition: Int, bucket: String, key: [UInt8], blob: [UInt8]) -> (old: UInt64?, new: UInt64) {
        let name = Name(partition: partition, bucket: bucket, key: key)
        let digest = StableHash.hash(blob)
        let old = rows[name]?.digest
        rows[name] = Row(blob: blob, digest: digest)
        commitCount += 1
        return (old, digest)
    }

    /// Removes the row if `matches` accepts it (a compare-and-delete); returns its digest
    /// when removed.
    mutating func delete(partition: Int, bucket: String, key: [UInt8], matches: ([UInt8]) -> Bool) -> UInt64? {
        let name = Name(partition: partition, bucket: bucket, key: key)
        guard let row = rows[name], matches(row.blob) else { return nil }
        rows[name] = nil
        members[name] = nil
        commitCount += 1
        purgedCount += 1
        return row.digest
    }

    /// A typed key's header and the selected members that exist, sorted by member bytes;
    /// nil when the key holds no state.
    func readTyped(partition: Int, bucket: String, key: [UInt8], members selection: MemberSelection) -> StoredTyped? {
        let name = Name(partition: partition, bucket: bucket, key: key)
        guard let header = rows[name]?.blob else { return nil }
        let stored = members[name] ?? [:]
        let found: [StoredMember]
        if let listed = selection.sortedDistinct {
            found = listed.compactMap { member in stored[member].map { StoredMember(member: member, payload: $0) } }
        } else {
            found = stored.map { StoredMember(member: $0.key, payload: $0.value) }
                .sorted { $0.member.lexicographicallyPrecedes($1.member) }
        }
        return StoredTyped(header: header, members: found)
    }

    /// A typed key's read-modify-write as one commit: `transform` sees the header and the
    /// selected members; a refusal stores nothing. Returns the key as stored after it
    /// (header and selected members) and the header's digests, for the partition's tree.
    mutating func updateTyped(
        partition: Int, bucket: String, key: [UInt8], members selection: MemberSelection,
        transform: (StoredTyped?) throws(KVError) -> TypedRowChanges
    ) throws(KVError) -> (stored: StoredTyped, old: UInt64?, new: UInt64) {
        let before = readTyped(partition: partition, bucket: bucket, key: key, members: selection)
        let changes = try transform(before)
        let digests = commit(partition: partition, bucket: bucket, key: key, blob: changes.header)
        let name = Name(partition: partition, bucket: bucket, key: key)
        var stored = members[name] ?? [:]
        for change in changes.lastChangePerMember { stored[change.member] = change.payload }
        members[name] = stored.isEmpty ? nil : stored
        let after = (before ?? StoredTyped(header: [], members: [])).applying(changes, selection: selection)
        return (after, digests.old, digests.new)
    }

    /// A strong key's Paxos row and record (issue #17).
    func readPaxos(partition: Int, bucket: String, key: [UInt8]) -> StoredPaxos {
        let name = Name(partition: partition, bucket: bucket, key: key)
        return StoredPaxos(paxos: paxos[name], record: rows[name]?.blob)
    }

    /// Whether any strong key holds a vote or a commit here (bare promises aside).
    func holdsStrongValues() -> Bool {
        paxos.keys.contains { StoredPaxos(paxos: paxos[$0], record: rows[$0]?.blob).holdsValue }
    }

    /// Commits a strong key's rows together; returns the record's digests before and after
    /// (nil, nil when it did not change), for the partition's tree.
    mutating func commitPaxos(
        partition: Int, bucket: String, key: [UInt8], _ stored: StoredPaxos
    ) -> (old: UInt64?, new: UInt64?) {
        let name = Name(partition: partition, bucket: bucket, key: key)
        paxos[name] = stored.paxos
        let old = rows[name]
        guard old?.blob != stored.record else {
            commitCount += 1
            return (old?.digest, old?.digest)
        }
        guard let record = stored.record else {
            rows[name] = nil
            commitCount += 1
            return (old?.digest, nil)
        }
        return commit(partition: partition, bucket: bucket, key: key, blob: record)
    }

    /// Member rows stored, for the checks and tests (they are not keys).
    var memberRowCount: Int { members.values.reduce(0) { $0 + $1.count } }

    /// Every row of `partition`, in (bucket, key) order.
    func scan(partition: Int) -> [(name: Name, row: Row)] {
        rows.filter { $0.key.partition == partition }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Every row, in (partition, bucket, key) order.
    func all() -> [(name: Name, row: Row)] {
        rows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    mutating func putHint(_ hint: Hint) {
        hints[hint.id] = hint
        commitCount += 1
    }

    mutating func deleteHints(ids: [UInt64]) {
        for id in ids { hints[id] = nil }
    }

    /// Stored hints by id, as `HintQueue(restoring:)` takes them after a restart.
    func allHints() -> [Hint] {
        hints.values.sorted { $0.id < $1.id }
    }
}
