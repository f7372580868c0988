import Synchronization

/// Peers believed down, as the membership driver last published them (every gossip round
/// and whenever one comes back), for readers on every loop: the request path's replica
/// plans, hint delivery, purges.
///
/// `generation` counts the changes: publishing the set already held (most rounds) leaves
/// it alone, so readers that keep something derived from the set (the request drivers'
/// replica plans) rebuild it only when the set really changed.
final class DownPeers: Sendable {
    private let nodes = Mutex<Set<String>>([])
    private let changes = Atomic<UInt64>(0)

    var snapshot: Set<String> { nodes.withLock { $0 } }

    /// Raised after each change of the set. Read it before `snapshot`: a set read after a
    /// generation is at least as new as that generation.
    var generation: UInt64 { changes.load(ordering: .acquiring) }

    func publish(_ down: Set<String>) {
        nodes.withLock { current in
            guard current != down else { return }
            current = down
            changes.add(1, ordering: .releasing)
        }
    }
}

/// The peers a request treats as down: those the failure detector believes down, plus
/// those the transport could not connect to lately (a refused connection is known before
/// heartbeats stop), with one generation that changes whenever either does.
final class UnreachablePeers: Sendable {
    private let down: DownPeers
    private let peers: PeerDirectory

    init(down: DownPeers, peers: PeerDirectory) {
        self.down = down
        self.peers = peers
    }

    /// Changes whenever `snapshot` may answer otherwise: the sum of two counters that only
    /// grow. Read it before `snapshot`.
    var generation: UInt64 { down.generation &+ peers.reachabilityGeneration }

    var snapshot: Set<String> { down.snapshot.union(peers.unreachableNodeIDs()) }
}
