/// The ring-change transfers one node still has to do, in order, with failed ones sent
/// to the back so one unreachable peer does not hold up the rest.
///
/// A new plan (the membership changed again) replaces the pending list but keeps the
/// transfers already done that the new plan still lists, so a change that is re-planned
/// many times over gossip does not repeat its copies.
public struct TransferQueue: Sendable, Equatable {
    public private(set) var pending: [RingChange.Transfer] = []
    private var done: Set<RingChange.Transfer> = []

    public init() {}

    /// Installs a plan; returns whether nothing of it remains to do.
    public mutating func replace(with planned: [RingChange.Transfer]) -> Bool {
        let plannedSet = Set(planned)
        done.formIntersection(plannedSet)
        var seen = Set<RingChange.Transfer>()
        pending = planned.filter { !done.contains($0) && seen.insert($0).inserted }
        return pending.isEmpty
    }

    /// The transfer to run next, if any.
    public func next() -> RingChange.Transfer? { pending.first }

    /// Records the end of `transfer`; returns true exactly when this completes the plan.
    /// A transfer the plan no longer lists (it changed meanwhile) is ignored.
    public mutating func finished(_ transfer: RingChange.Transfer, succeeded: Bool) -> Bool {
        guard let index = pending.firstIndex(of: transfer) else { return false }
        pending.remove(at: index)
        if succeeded {
            done.insert(transfer)
            return pending.isEmpty
        }
        pending.append(transfer)
        return false
    }
}
