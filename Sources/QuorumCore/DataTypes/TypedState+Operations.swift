/// The lead replica's step: a client's operation becomes a delta (issue #16 design,
/// "Operations"). Pure: the caller passes the stored partial state (the header's context
/// and window plus the members `TypedOperation.touchedMembers` names), the lead's actor
/// (its store incarnation) and the HLC stamp of the request.
extension TypedState {
    /// What a lead answers for an increment whose operation id it already counted (a
    /// client's retry, or a duplicated message): no new dot, but every counter entry it
    /// holds, with their dots as context and the dedupe window. The coordinator copies the
    /// answer's delta to w replicas before it acknowledges, so an empty delta here would be
    /// acknowledged at w while the increment lived on the lead alone (simulator seed 543,
    /// chaos: the lead's disk was wiped later and the increment was gone). Joined as a
    /// delta, these entries add nothing a replica already superseded.
    func counterEcho() -> TypedState {
        let member = members[Self.counterMember] ?? .empty
        var context = CausalContext()
        for dot in member.dots { context.insert(dot) }
        return TypedState(
            datatype: .counter, context: context, members: member.isEmpty ? [:] : [Self.counterMember: member], opIDs: opIDs)
    }

    /// The delta `op` makes at the lead and the client's reply.
    ///
    /// - `current`: the stored context, window and the touched members (all for a reset).
    /// - `memberCount`: how many members the key has in all (the header's count); nil
    ///   means `current.members.count` (right when `current` holds every member).
    ///
    /// Throws `wrongType` for an operation of another type, `tooLarge`/`badParameter`
    /// past a limit, `badParameter` for an increment that overflows the value or of a
    /// non-integer field. Nothing is changed when it throws.
    public static func delta(
        applying op: TypedOperation, actor: String, stamp: HLCTimestamp, current: TypedState,
        memberCount: Int? = nil, limits: Limits
    ) throws(KVError) -> TypedDelta {
        if let datatype = op.datatype, datatype != current.datatype {
            throw .wrongType(message: "the key holds a \(current.datatype.rawValue); this operation is for a \(datatype.rawValue)")
        }
        var builder = DeltaBuilder(current: current, actor: actor, limits: limits)
        let count = memberCount ?? current.members.values.filter { !$0.isEmpty }.count
        switch op {
        case .increment(let by, let operationID):
            if let operationID {
                guard operationID.count <= limits.typedOperationIDBytesMax else {
                    throw .tooLarge(what: "the operation id", bytes: operationID.count, limit: limits.typedOperationIDBytesMax)
                }
                if current.opIDs.contains(id: operationID) {
                    return TypedDelta(delta: current.counterEcho(), reply: .integer(try current.counterValue()))
                }
            }
            try builder.incrementCounter(member: counterMember, by: by)
            let reply = TypedReply.integer(try builder.working.counterValue())
            var delta = builder.delta
            if let operationID {
                delta.opIDs = RecentOperations([.init(stamp: stamp, id: operationID)], capacity: limits.typedOperationIDsMax)
            }
            return TypedDelta(delta: delta, reply: reply)
        case .setAdd(let elements):
            try checkKeys(elements, limits: limits)
            let fresh = TypedOperation.uniqueSorted(elements).filter { !builder.isLive($0) }
            try checkMemberCount(count + fresh.count, limits: limits)
            for element in TypedOperation.uniqueSorted(elements) { try builder.replace(member: element, with: .present) }
            return TypedDelta(delta: builder.delta, reply: .count(fresh.count))
        case .setRemove(let elements):
            try checkKeys(elements, limits: limits)
            var removed = 0
            for element in TypedOperation.uniqueSorted(elements) where builder.remove(member: element, covered: nil) { removed += 1 }
            return TypedDelta(delta: builder.delta, reply: .count(removed))
        case .setRemoveObserved(let elements, let context):
            try checkKeys(elements, limits: limits)
            var removed = 0
            for element in TypedOperation.uniqueSorted(elements) where builder.remove(member: element, covered: context) { removed += 1 }
            return TypedDelta(delta: builder.delta, reply: .count(removed))
        case .mapUpdate(let updates):
            try checkKeys(updates.map(\.field), limits: limits)
            let fields = TypedOperation.uniqueSorted(updates.map(\.field))
            let creating = Set(updates.compactMap { update -> [UInt8]? in
                switch update {
                case .removeField, .disableFlag: return nil
                default: return update.field
                }
            })
            let fresh = fields.filter { creating.contains($0) && !builder.isLive($0) }
            try checkMemberCount(count + fresh.count, limits: limits)
            var removed = 0
            var newValue: Int64?
            for update in updates {
                switch update {
                case .setRegister(let field, let value):
                    guard value.count <= limits.valueBytesMax else {
                        throw .tooLarge(what: "the field value", bytes: value.count, limit: limits.valueBytesMax)
                    }
                    try builder.replace(member: field, with: .register(stamp: stamp, value: value))
                case .incrementCounter(let field, let by):
                    try builder.incrementCounter(member: field, by: by)
                    newValue = try builder.working.mapFieldValue(field)?.integer
                case .enableFlag(let field):
                    try builder.replace(member: field, with: .present)
                case .disableFlag(let field), .removeField(let field):
                    if builder.remove(member: field, covered: nil) { removed += 1 }
                }
            }
            let reply: TypedReply
            if updates.count == 1, let newValue {
                reply = .integer(newValue)
            } else if !updates.isEmpty, creating.isEmpty {
                reply = .count(removed)
            } else {
                reply = .count(fresh.count)
            }
            return TypedDelta(delta: builder.delta, reply: reply)
        case .reset:
            var removed = false
            for key in current.sortedMemberKeys where builder.remove(member: key, covered: nil) { removed = true }
            return TypedDelta(delta: builder.delta, reply: .count(removed ? 1 : 0))
        }
    }

    private static func checkKeys(_ keys: [[UInt8]], limits: Limits) throws(KVError) {
        for key in keys where key.count > limits.typedMemberBytesMax {
            throw .tooLarge(what: "a set element or map field name", bytes: key.count, limit: limits.typedMemberBytesMax)
        }
    }

    private static func checkMemberCount(_ count: Int, limits: Limits) throws(KVError) {
        guard count <= limits.typedMembersMax else {
            throw .badParameter(
                name: "members",
                message: "the key would hold \(count) elements or fields; the limit is \(limits.typedMembersMax) (typedMembersMax)")
        }
    }
}

/// Builds one operation's delta step by step, keeping the lead's view (`working`) up to
/// date so later steps of the same operation (several map field updates) see earlier ones.
struct DeltaBuilder {
    var working: TypedState
    var delta: TypedState
    let actor: String
    let limits: Limits

    init(current: TypedState, actor: String, limits: Limits) {
        self.working = current
        self.delta = TypedState(datatype: current.datatype)
        self.actor = actor
        self.limits = limits
    }

    func isLive(_ key: [UInt8]) -> Bool { !(working.members[key]?.isEmpty ?? true) }

    /// A new dot of the actor, refused when the actor would be one too many.
    mutating func newDot() throws(KVError) -> Dot {
        let actors = working.context.actors
        if !actors.contains(actor), actors.count >= limits.typedActorsMax {
            throw .badParameter(
                name: "key",
                message: "the typed key has been updated by \(actors.count) replica incarnations, the most allowed "
                    + "(typedActorsMax \(limits.typedActorsMax)); its context is never pruned, so it takes no updates from another")
        }
        return try working.context.nextDot(for: actor)
    }

    /// Records a step: `removing` dots of `key` are superseded by `adding` (if any).
    mutating func apply(key: [UInt8], removing: [Dot], adding: Member.Entry?) {
        var context = CausalContext()
        for dot in removing { context.insert(dot) }
        if let adding { context.insert(adding.dot) }
        let step = TypedState(
            datatype: working.datatype, context: context, members: [key: Member(adding.map { [$0] } ?? [])])
        working = working.joined(with: step, isFull: false)
        // Joined as deltas: the member stays listed even when it ends with no dots.
        let member = TypedState.joinMember(delta.members[key] ?? .empty, delta.context, step.members[key]!, context)
        delta.context = delta.context.merged(with: context)
        delta.members[key] = member
    }

    /// Replaces every observed dot of `key` with one new dot carrying `payload`.
    mutating func replace(member key: [UInt8], with payload: DotPayload) throws(KVError) {
        let dot = try newDot()
        apply(key: key, removing: working.members[key]?.dots ?? [], adding: Member.Entry(dot: dot, payload: payload))
    }

    /// Removes the observed dots of `key` (only those `covered` covers, when given).
    /// Returns whether any dot was removed.
    mutating func remove(member key: [UInt8], covered: CausalContext?) -> Bool {
        let dots = (working.members[key]?.dots ?? []).filter { covered?.covers($0) ?? true }
        apply(key: key, removing: dots, adding: nil)
        return !dots.isEmpty
    }

    /// Adds `by` to the actor's own counter entry in `key`, replacing only that entry.
    mutating func incrementCounter(member key: [UInt8], by: Int64) throws(KVError) {
        let member = working.members[key] ?? .empty
        if working.datatype == .map, case .register(_, let value)? = member.newestRegister?.payload, Int64(textBytes: value) == nil {
            throw .badParameter(name: "field", message: "hash value is not an integer")
        }
        let own = member.entries.filter { entry in
            guard entry.dot.actor == actor, case .counter = entry.payload else { return false }
            return true
        }
        var p: UInt64 = 0
        var n: UInt64 = 0
        for entry in own { if case .counter(let ep, let en) = entry.payload { p = max(p, ep); n = max(n, en) } }
        let overflow = KVError.badParameter(name: "increment", message: "increment or decrement would overflow")
        if by >= 0 {
            let (sum, over) = p.addingReportingOverflow(UInt64(by))
            if over { throw overflow }
            p = sum
        } else {
            let (sum, over) = n.addingReportingOverflow(by.magnitude)
            if over { throw overflow }
            n = sum
        }
        guard member.entries.count - own.count + 1 <= limits.typedDotsPerMemberMax else {
            throw .badParameter(
                name: "key", message: "the member already holds \(member.entries.count) concurrent entries, the most allowed (typedDotsPerMemberMax)")
        }
        let dot = try newDot()
        let before = self
        apply(key: key, removing: own.map(\.dot), adding: Member.Entry(dot: dot, payload: .counter(p: p, n: n)))
        // The value the client sees must fit in an Int64: refuse the increment otherwise.
        do {
            if working.datatype == .counter { _ = try working.counterValue() } else { _ = try working.mapFieldValue(key) }
        } catch {
            self = before
            throw overflow
        }
    }
}
