import QuorumCore

/// What the ring-change driver hands to and reads from the rest of its node.
public protocol RingChangeContext: AnyObject {
    /// Installs the rings requests and background work are placed by, and the peers to
    /// keep connections to (every member but this node and those that left).
    func install(serving: Ring, target: Ring, peers: [ClusterMember])
    /// Replaces the partition transfers still to run with `transfers` (anti-entropy runs
    /// them, and tells the driver `transfersDone` when none remain).
    func planTransfers(_ transfers: [RingChange.Transfer])
    /// Transfers still to run, for the operator's answer.
    var transfersPending: Int { get }
    /// The most replicas any bucket keeps: how many copies of a partition to look after.
    var replicasMax: Int { get }
    /// Hints this node still holds for other nodes: a leaving node delivers them before it stops.
    var hintsPending: Int { get }
    /// This node has left and its departure had time to spread: the process may stop.
    func departed()
}
