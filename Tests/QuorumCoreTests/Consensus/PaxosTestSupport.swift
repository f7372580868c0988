@testable import QuorumCore

/// A hand-driven cluster of acceptors for coordinator tests: the test decides which
/// message reaches which node, and when, so interleavings are explicit.
struct PaxosCluster {
    var states: [String: AcceptorState]
    var acceptors: [String: Acceptor]
    /// Every state each node persisted, in order (to check persistence signalling).
    var writes: [String: Int] = [:]

    init(_ nodes: [String], faults: AcceptorFaults = []) {
        states = Dictionary(uniqueKeysWithValues: nodes.map { ($0, AcceptorState.empty) })
        acceptors = Dictionary(uniqueKeysWithValues: nodes.map { ($0, Acceptor(faults: faults)) })
    }

    /// Delivers one message to `node` and returns its reply, persisting any new state first.
    mutating func deliver(_ message: PaxosMessage, to node: String) -> Acceptor.Reply {
        let acceptor = acceptors[node]!
        let state = states[node]!
        let (reply, newState): (Acceptor.Reply, AcceptorState?)
        switch message {
        case .prepare(let ballot): (reply, newState) = acceptor.receivePrepare(ballot: ballot, state: state)
        case .propose(let proposal): (reply, newState) = acceptor.receivePropose(proposal: proposal, state: state)
        case .commit(let commit): (reply, newState) = acceptor.receiveCommit(commit: commit, state: state)
        }
        if let newState {
            states[node] = newState
            writes[node, default: 0] += 1
        }
        return reply
    }
}

enum PaxosMessage: Equatable {
    case prepare(PaxosBallot)
    case propose(PaxosProposal)
    case commit(PaxosCommit)
}

func stamp(_ ms: UInt64, _ logical: UInt32 = 0) -> HLCTimestamp {
    HLCTimestamp(physicalMilliseconds: ms, logical: logical)
}

func ballot(_ ms: UInt64, _ node: String = "a") -> PaxosBallot {
    PaxosBallot(timestamp: stamp(ms), node: node)
}

func text(_ string: String) -> StrongValue {
    .value(bytes: Array(string.utf8), contentType: "text/plain")
}

/// Drives one coordinator against the cluster, delivering every message at once to the
/// nodes in `reachable` (others fail), until it finishes or asks to retry.
/// Returns the actions seen, in order.
@discardableResult
func drive(
    _ coordinator: inout StrongCoordinator, on cluster: inout PaxosCluster, reachable: Set<String>? = nil,
    startingWith first: [StrongCoordinator.Action]
) -> [StrongCoordinator.Action] {
    var queue = first
    var seen: [StrongCoordinator.Action] = []
    while !queue.isEmpty {
        let action = queue.removeFirst()
        seen.append(action)
        switch action {
        case .prepare(let ballot, let nodes):
            for node in nodes {
                if reachable.map({ $0.contains(node) }) ?? true {
                    queue += coordinator.receive(cluster.deliver(.prepare(ballot), to: node), from: node, ballot: ballot)
                } else {
                    queue += coordinator.receiveFailure(from: node, ballot: ballot)
                }
            }
        case .propose(let proposal, let nodes):
            for node in nodes {
                if reachable.map({ $0.contains(node) }) ?? true {
                    queue += coordinator.receive(cluster.deliver(.propose(proposal), to: node), from: node, ballot: proposal.ballot)
                } else {
                    queue += coordinator.receiveFailure(from: node, ballot: proposal.ballot)
                }
            }
        case .commit(let commit, let nodes):
            for node in nodes where reachable.map({ $0.contains(node) }) ?? true {
                _ = cluster.deliver(.commit(commit), to: node)
            }
        case .retry, .finish:
            break
        }
    }
    return seen
}

extension [StrongCoordinator.Action] {
    var outcome: StrongCoordinator.Outcome? {
        for action in self { if case .finish(let outcome) = action { return outcome } }
        return nil
    }
    var retried: Bool {
        contains { if case .retry = $0 { return true } else { return false } }
    }
}
