extension TypedState {
    /// The join of two deltas of one key, itself a delta: what a stand-in keeps when a
    /// second hint for the key arrives, so the target joins one delta instead of two.
    ///
    /// `joined(with:isFull: false)` per member, except that a member listed on either side
    /// stays listed even when no dot survives. That matters: a delta's context covers only
    /// dots of the members it lists, and its receiver visits only those members, so a
    /// remove (a listed member with no dots) dropped from the list would leave the
    /// receiver's old dots of that member alive. Joining the result equals joining both
    /// deltas in turn (`HintQueueTypedTests` checks it).
    public func joinedDelta(with other: TypedState, operationIDsMax: Int = Limits.defaults.typedOperationIDsMax) -> TypedState {
        var result = TypedState(
            datatype: datatype, context: context.merged(with: other.context), members: [:],
            opIDs: opIDs.joined(with: other.opIDs, capacity: operationIDsMax))
        for key in Set(members.keys).union(other.members.keys) {
            result.members[key] = Self.joinMember(members[key] ?? .empty, context, other.members[key] ?? .empty, other.context)
        }
        return result
    }
}
