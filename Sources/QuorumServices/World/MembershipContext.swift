import QuorumCore

/// What the membership driver hands to the rest of its node.
public protocol MembershipContext: AnyObject {
    /// Saves the state so a node that joined remembers its cluster across restarts;
    /// `completion` runs once it is stored (or failed, logged by the implementation), in
    /// the order the saves were asked for.
    func save(_ state: MembershipState, completion: @escaping () -> Void)
    /// The membership changed (already saved): install what it implies.
    func membershipChanged(_ state: MembershipState)
    /// The peers believed down now, for readers on other executors (the request path).
    func publish(unreachable: Set<String>)
    /// Peers that just came back: work waiting for them resumes at once.
    func reachableAgain(_ nodes: [String])
}

/// How a node reaches an address that is not a member yet: a seed it joins through.
public protocol SeedCaller: AnyObject {
    /// Sends `request` to the peer listening at `address` (`host:port`); nil when nothing
    /// answered in time. `completion` runs on the caller's executor.
    func call(address: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void)
}
