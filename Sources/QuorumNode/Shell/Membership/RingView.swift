import QuorumCore
import Synchronization

/// The rings this node routes by, swapped whole when gossip changes the membership:
/// `serving` places every request; `target` is where the cluster is heading while a
/// member joins or leaves (equal to `serving` otherwise).
///
/// Readers take a copy per request (a `Ring` is two arrays, copied by reference), so a
/// request uses one ring from start to end even if the membership changes meanwhile.
final class RingView: Sendable {
    private let rings: Mutex<(serving: Ring, target: Ring)>

    init(serving: Ring, target: Ring) {
        precondition(serving.partitionCount == target.partitionCount, "both rings have the cluster's partition count")
        rings = Mutex((serving, target))
    }

    var serving: Ring { rings.withLock { $0.serving } }
    var target: Ring { rings.withLock { $0.target } }

    /// Installs new rings; returns whether either changed.
    @discardableResult
    func update(serving: Ring, target: Ring) -> Bool {
        rings.withLock { current in
            guard current.serving != serving || current.target != target else { return false }
            current = (serving, target)
            return true
        }
    }

    /// Partitions `node` replicates in either ring, with `replicas` copies of each: the
    /// trees it keeps current and reports.
    func partitions(heldBy node: String, replicas: Int) -> [Int] {
        let (serving, target) = rings.withLock { ($0.serving, $0.target) }
        return (0..<serving.partitionCount).filter { partition in
            serving.preferenceList(partition: partition, n: min(replicas, serving.members.count)).contains(node)
                || target.preferenceList(partition: partition, n: min(replicas, target.members.count)).contains(node)
        }
    }
}
