/// Which (partition, peer) pairs a node starts anti-entropy exchanges for: every
/// partition it owns, with each other node of that partition's preference list up to
/// `replicas` deep. The rule inside `AntiEntropyDriver`, kept pure so it is tested on
/// its own.
public enum AntiEntropySchedule {
    public struct Pair: Sendable, Equatable, Hashable {
        public var partition: Int
        public var peer: String

        public init(partition: Int, peer: String) {
            self.partition = partition
            self.peer = peer
        }
    }

    /// The pairs `node` visits round-robin, by partition then preference order.
    /// - Parameter replicas: how deep in each preference list to pair; the largest `n`
    ///   of any bucket, capped at the cluster's size, so every replica of every key is
    ///   paired with the partition's owner.
    public static func pairs(ring: Ring, node: String, replicas: Int) -> [Pair] {
        let depth = min(max(replicas, 1), ring.members.count)
        return (0..<ring.partitionCount).filter { ring.owner(of: $0) == node }.flatMap { partition in
            ring.preferenceList(partition: partition, n: depth).dropFirst().map { Pair(partition: partition, peer: $0) }
        }
    }
}
