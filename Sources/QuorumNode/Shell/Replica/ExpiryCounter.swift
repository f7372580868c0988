import Synchronization

/// Versions this node's replicas found expired and stored stripped, counted by every event
/// loop's replica driver and read by `/status` and `/metrics`.
final class ExpiryCounter: Sendable {
    private let count = Atomic<Int>(0)

    func add(_ versions: Int) { count.add(versions, ordering: .relaxed) }

    var value: Int { count.load(ordering: .relaxed) }
}
