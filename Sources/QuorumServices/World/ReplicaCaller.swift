import QuorumCore

/// How a node's services reach a replica: its own (straight to the local replica) or a
/// peer's (over the transport: real TCP, or the simulated network as encoded frames).
public protocol ReplicaCaller: AnyObject {
    /// Sends `request` to `node`. `completion` runs exactly once, on the caller's
    /// executor (possibly before `call` returns, when the answer is local and at hand),
    /// with the answer or nil when there was none in time (timeout, refused connection,
    /// undecodable answer).
    func call(
        _ node: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void)
}
