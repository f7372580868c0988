import Synchronization

/// Counts of background work, shown in `/status` and logged: what repair and handoff did.
final class NodeCounters: Sendable {
    /// Reads after which at least one stale replica was sent the merged version.
    let readRepairs = Atomic<Int>(0)
    /// Replica copies sent by read repair.
    let readRepairReplicas = Atomic<Int>(0)

    func snapshot() -> RepairStatus {
        RepairStatus(
            readRepairs: readRepairs.load(ordering: .relaxed), readRepairReplicas: readRepairReplicas.load(ordering: .relaxed))
    }
}
