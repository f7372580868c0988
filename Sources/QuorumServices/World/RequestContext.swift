import QuorumCore

/// What the request path reads from the rest of its node: the ring, bucket props, who is
/// believed down, the clock for write timestamps, and the admission bound. The real node
/// answers from its shared, lock-guarded state; the simulator from its simulated node.
public protocol RequestContext: AnyObject {
    /// The ring requests are placed by now.
    var serving: Ring { get }
    /// The ring the cluster is heading to (`serving` unless a member joins or leaves):
    /// operations every member must adopt (a truncation) go to the members of both.
    var target: Ring { get }
    func props(for bucket: String) -> BucketProps
    /// Peers believed down: their replica slots start on stand-ins.
    func unreachable() -> Set<String>
    /// Changes whenever `unreachable()` may answer otherwise, and only then (so not on a
    /// gossip round that found the same peers down). The driver reads it on every request
    /// and `unreachable()` only when it changed; read before `unreachable()`, it never
    /// makes a driver keep a set older than the generation it saw.
    var unreachableGeneration: UInt64 { get }
    /// A hybrid logical timestamp for a write this node coordinates.
    func tick() -> HLCTimestamp
    /// Moves the node's hybrid logical clock past a timestamp it saw (a Paxos ballot an
    /// acceptor refused it with), so its next `tick` is above it.
    func observe(_ timestamp: HLCTimestamp)
    /// This node's store identity, for lww versions it stamps.
    var actorID: String { get }
    /// Claims a slot for one more coordinated request; false when the node's bound is reached.
    func admit() -> Bool
    /// Gives back a slot `admit` claimed.
    func release()
    /// Read repair sent the merged version to `replicas` stale replicas.
    func readRepairSent(replicas: Int)
}
