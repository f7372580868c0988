import Synchronization

/// Peers believed down, as the membership driver last published them (every gossip round
/// and whenever one comes back), for readers on every loop: the request path's replica
/// plans, hint delivery, purges.
final class DownPeers: Sendable {
    private let nodes = Mutex<Set<String>>([])

    var snapshot: Set<String> { nodes.withLock { $0 } }

    func publish(_ down: Set<String>) { nodes.withLock { $0 = down } }
}
