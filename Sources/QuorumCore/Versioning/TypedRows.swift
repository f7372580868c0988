/// The byte-level shapes of a typed key's storage (issue #16, "Storage: decomposed per
/// member"): one header blob in the key's `kv` row plus one payload blob per member.
///
/// Storage treats every blob here as opaque bytes; what they mean (a `TypedHeader`, a
/// member's dots) is the typed state's business. They live in the core so that both stores
/// (QuorumStorage's SQLite store, the simulator's `MemoryStore`), the services and the wire
/// share one definition.

/// Which members of a typed key a read or update touches: a set's `SISMEMBER` reads one
/// element, `SMEMBERS` all of them.
public enum MemberSelection: Sendable, Equatable, Hashable {
    /// These members (duplicates are read once); members not stored are left out.
    case listed([[UInt8]])
    /// Every stored member.
    case all

    /// Whether `member` is among those selected.
    public func includes(_ member: [UInt8]) -> Bool {
        switch self {
        case .all: return true
        case .listed(let members): return members.contains(member)
        }
    }

    /// The listed members sorted by their bytes, each once; nil for `.all`.
    public var sortedDistinct: [[UInt8]]? {
        guard case .listed(let members) = self else { return nil }
        var sorted = members.sorted { $0.lexicographicallyPrecedes($1) }
        var kept = 0
        for index in sorted.indices where kept == 0 || sorted[index] != sorted[kept - 1] {
            sorted[kept] = sorted[index]
            kept += 1
        }
        sorted.removeLast(sorted.count - kept)
        return sorted
    }
}

/// One stored member row: the member's key bytes and its payload.
public struct StoredMember: Sendable, Equatable {
    public var member: [UInt8]
    public var payload: [UInt8]

    public init(member: [UInt8], payload: [UInt8]) {
        self.member = member
        self.payload = payload
    }
}

/// A typed key as stored: its header and the selected members that exist, sorted by
/// member bytes.
public struct StoredTyped: Sendable, Equatable {
    public var header: [UInt8]
    public var members: [StoredMember]

    public init(header: [UInt8], members: [StoredMember]) {
        self.header = header
        self.members = members
    }
}

/// One member row to change: `payload` nil deletes the row.
public struct MemberChange: Sendable, Equatable {
    public var member: [UInt8]
    public var payload: [UInt8]?

    public init(member: [UInt8], payload: [UInt8]?) {
        self.member = member
        self.payload = payload
    }
}

/// What an update of a typed key writes: the new header (always written: the key's causal
/// context changes with every update) and the member rows it changes. When one member is
/// listed twice, the later change wins.
public struct TypedRowChanges: Sendable, Equatable {
    public var header: [UInt8]
    public var members: [MemberChange]

    public init(header: [UInt8], members: [MemberChange]) {
        self.header = header
        self.members = members
    }
}

extension StoredTyped {
    /// The key as stored after `changes`, seen through `selection`: the new header, and the
    /// selected members as they are then (read ones kept unless changed, changed ones
    /// selected added or removed). `self` holds the members `selection` read before.
    public func applying(_ changes: TypedRowChanges, selection: MemberSelection) -> StoredTyped {
        var payloads: [[UInt8]: [UInt8]] = [:]
        payloads.reserveCapacity(members.count)
        for stored in members { payloads[stored.member] = stored.payload }
        for change in changes.members where selection.includes(change.member) {
            payloads[change.member] = change.payload
        }
        let sorted = payloads.map { StoredMember(member: $0.key, payload: $0.value) }
            .sorted { $0.member.lexicographicallyPrecedes($1.member) }
        return StoredTyped(header: changes.header, members: sorted)
    }
}

extension TypedRowChanges {
    /// The changes with each member once (its last change), in member order: the order
    /// both stores apply them in.
    public var lastChangePerMember: [MemberChange] {
        var last: [[UInt8]: [UInt8]?] = [:]
        for change in members { last[change.member] = .some(change.payload) }
        return last.map { MemberChange(member: $0.key, payload: $0.value) }
            .sorted { $0.member.lexicographicallyPrecedes($1.member) }
    }
}
