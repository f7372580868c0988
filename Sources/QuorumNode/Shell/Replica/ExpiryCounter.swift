import Synchronization

/// Expirations on this node, counted from every event loop and read by `/status` and
/// `/metrics`: versions its replicas stored stripped, and versions reads it coordinated
/// hid because its clock had passed their deadline before the replicas' clocks did.
final class ExpiryCounter: Sendable {
    private let stripped = Atomic<Int>(0)
    private let hidden = Atomic<Int>(0)

    func add(_ versions: Int) { stripped.add(versions, ordering: .relaxed) }

    func addHidden(_ versions: Int) { hidden.add(versions, ordering: .relaxed) }

    var value: Int { stripped.load(ordering: .relaxed) }

    var hiddenValue: Int { hidden.load(ordering: .relaxed) }
}
