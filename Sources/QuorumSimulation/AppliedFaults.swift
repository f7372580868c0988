import QuorumCore

/// Faults that took effect in a run, counted as the world applies them rather than read
/// off the plan: a plan may crash a node an earlier crash already took down, which does
/// nothing, and only what happened should count.
struct AppliedFaults {
    private(set) var crashes = 0
    private(set) var partitions = 0
    private(set) var wipedDisks = 0
    private(set) var joins = 0
    private(set) var leaves = 0

    /// Call just before `world.apply(fault)`, while the world still shows the state the
    /// fault meets.
    mutating func record(_ fault: SimulationPlan.Fault, in world: SimulatedWorld) {
        switch fault {
        case .crash(let node):
            if world.nodes[node].isUp { crashes += 1 }
        case .partition, .cutOneWay:
            partitions += 1
        case .restartWiped(let node):
            if !world.nodes[node].isUp { wipedDisks += 1 }
        case .join(let node, _):
            if world.nodes[node].isUp { joins += 1 }
        case .leave(let node):
            if world.nodes[node].isUp { leaves += 1 }
        case .restart, .healPartitions, .skewClock, .jumpClock, .loss, .failFsync, .fillDisk, .freeDisk:
            break
        }
    }
}

extension History {
    /// Requests the clients issued; the checker's reads at the end are not part of the workload.
    var clientRequestCount: Int {
        entries.reduce(0) { $0 + ($1.client == History.checkerClient ? 0 : 1) }
    }
}
