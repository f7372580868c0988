/// A typed key's state (issue #16): one causal dot store for counters, sets and maps.
///
/// - set: a member per element, every dot `.present`.
/// - counter: one member, key `[]`, one dot per actor (its newest) with `.counter(p, n)`.
/// - map: a member per field, dots `.register`, `.counter` or `.present` (a flag).
///
/// Replicas converge by `joined`, which is commutative, associative and idempotent (shown
/// by `TypedStatePropertyTests`). A stored or full state holds no empty member; a delta
/// may list one with no dots, meaning "remove the dots of this member my context covers".
public struct TypedState: Sendable, Equatable {
    public var datatype: DataType
    public var context: CausalContext
    public var members: [[UInt8]: Member]
    /// Counters only: the dedupe window of operation ids.
    public var opIDs: RecentOperations

    public init(
        datatype: DataType, context: CausalContext = .empty, members: [[UInt8]: Member] = [:],
        opIDs: RecentOperations = .empty
    ) {
        self.datatype = datatype
        self.context = context
        self.members = members
        self.opIDs = opIDs
    }

    /// The counter's single member key.
    public static let counterMember: [UInt8] = []

    /// Member keys in canonical (byte-lexicographic) order.
    public var sortedMemberKeys: [[UInt8]] { members.keys.sorted { $0.lexicographicallyPrecedes($1) } }

    /// Every dot of a live member (what a reset observes).
    public var liveDots: [Dot] { members.values.flatMap(\.dots) }

    /// The state with empty members dropped: what a replica stores.
    public var withoutEmptyMembers: TypedState {
        var result = self
        result.members = members.filter { !$0.value.isEmpty }
        return result
    }

    /// Joins `other` into this state.
    ///
    /// `isFull` says whether `other` lists every member it has (anti-entropy, read repair,
    /// a transfer) or is a delta (an update's new dots plus the members it touches). A
    /// delta's join visits only the members it lists: its context covers dots of those
    /// members only (and its own new ones), so no other member can lose a dot. A full
    /// join visits every member on both sides, removing the dots of members `other` does
    /// not list that its context covers (they were removed there).
    ///
    /// Per member, a dot survives when both sides hold it, or one side holds it and the
    /// other's context does not cover it. Contexts merge; the dedupe windows join.
    public func joined(
        with other: TypedState, isFull: Bool, operationIDsMax: Int = Limits.defaults.typedOperationIDsMax
    ) -> TypedState {
        var result = TypedState(
            datatype: datatype, context: context.merged(with: other.context), members: members,
            opIDs: opIDs.joined(with: other.opIDs, capacity: operationIDsMax))
        var keys = Set(other.members.keys)
        if isFull { keys.formUnion(members.keys) }
        for key in keys {
            let joinedMember = Self.joinMember(
                members[key] ?? .empty, context, other.members[key] ?? .empty, other.context)
            result.members[key] = joinedMember.isEmpty ? nil : joinedMember
        }
        return result
    }

    /// The join of one member's dots: `left` under `leftContext` with `right` under `rightContext`.
    public static func joinMember(
        _ left: Member, _ leftContext: CausalContext, _ right: Member, _ rightContext: CausalContext
    ) -> Member {
        var entries: [Member.Entry] = []
        entries.reserveCapacity(left.entries.count + right.entries.count)
        var l = 0
        var r = 0
        let le = left.entries
        let re = right.entries
        while l < le.count || r < re.count {
            if r == re.count || (l < le.count && le[l].dot < re[r].dot) {
                if !rightContext.covers(le[l].dot) { entries.append(le[l]) }
                l += 1
            } else if l == le.count || re[r].dot < le[l].dot {
                if !leftContext.covers(re[r].dot) { entries.append(re[r]) }
                r += 1
            } else {
                entries.append(le[l].payload.canonicalPrecedes(re[r].payload) ? re[r] : le[l])
                l += 1
                r += 1
            }
        }
        return Member(sortedEntries: entries)
    }
}

/// An update's outcome at the lead replica: the delta to store and send to the other
/// replicas, and what the client is answered.
public struct TypedDelta: Sendable, Equatable {
    public var delta: TypedState
    /// Whether `delta` is joined as a full state (`joined(with:isFull:)`); carried on the
    /// wire with the state. False for every operation today: even a reset is a delta that
    /// lists each member it removes (the lead read them all), so storage visits only those.
    public var isFull: Bool
    public var reply: TypedReply

    public init(delta: TypedState, isFull: Bool = false, reply: TypedReply) {
        self.delta = delta
        self.isFull = isFull
        self.reply = reply
    }
}
