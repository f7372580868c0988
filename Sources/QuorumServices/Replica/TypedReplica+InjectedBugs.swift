import QuorumCore

/// The deliberate bugs of the typed replica (`InjectedBug`), kept apart from its honest
/// paths: only a simulated world switches them on, to show the simulator's checks catch them.
extension TypedReplica {
    /// `InjectedBug.counterMergeTakesMax`: joins a counter by keeping whichever side's
    /// counter member has the larger total (stored wins ties), while the contexts still
    /// merge. The other side's dots are then covered by the merged context without being
    /// kept, so no later join brings them back: their increments are lost.
    static func counterJoinTakingLargerTotal(
        header: TypedHeader?, storedMembers: [[UInt8]: Member], incoming: TypedState, isFull: Bool, limits: Limits
    ) throws(KVError) -> TypedStoredChanges {
        let honest = try TypedState.joinStored(
            header: header, storedMembers: storedMembers, incoming: incoming, isFull: isFull,
            operationIDsMax: limits.typedOperationIDsMax)
        let key = TypedState.counterMember
        let stored = storedMembers[key] ?? .empty
        let arriving = incoming.members[key] ?? .empty
        let storedTotal = (try? TypedState(datatype: .counter, members: [key: stored]).counterValue()) ?? 0
        let arrivingTotal = (try? TypedState(datatype: .counter, members: [key: arriving]).counterValue()) ?? 0
        let kept = storedTotal >= arrivingTotal ? stored : arriving
        var newHeader = honest.header
        newHeader.memberCount = kept.isEmpty ? 0 : 1
        newHeader.membersDigest = kept.isEmpty ? 0 : TypedHeader.memberHash(key: key, member: kept)
        let changes: [(key: [UInt8], member: Member?)] = kept == stored ? [] : [(key, kept.isEmpty ? nil : kept)]
        return TypedStoredChanges(header: newHeader, members: changes)
    }
}
