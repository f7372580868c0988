/// Which node serves each of a key's `n` replica slots for one request.
///
/// Each slot belongs to a primary (a node of the preference list). With sloppy quorum a
/// primary believed down, or one that fails during the request, is replaced by a
/// stand-in: the next healthy node clockwise past the preference list, which holds
/// the data as a hint for the primary. Without sloppy quorum a failed primary's slot fails.
public struct ReplicaPlan: Sendable, Equatable {
    public enum SlotStatus: Sendable, Equatable { case pending, answered, failed }

    public struct Slot: Sendable, Equatable {
        public let primary: String
        /// The primary itself, or its stand-in.
        public fileprivate(set) var node: String
        public fileprivate(set) var status: SlotStatus

        public var isStandIn: Bool { node != primary }
    }

    public private(set) var slots: [Slot]
    /// Fallback nodes not used yet, in ring order.
    private var spares: [String]
    public let sloppy: Bool

    /// - Parameters:
    ///   - primaries: the first `n` nodes of the preference list.
    ///   - fallbacks: the nodes after them, clockwise (`Ring.fallbacks`).
    ///   - down: nodes the failure detector believes down; their slots start on stand-ins.
    public init(primaries: [String], fallbacks: [String], down: Set<String>, sloppy: Bool) {
        self.sloppy = sloppy
        spares = fallbacks.filter { !down.contains($0) }
        slots = primaries.map { Slot(primary: $0, node: $0, status: .pending) }
        guard sloppy else { return }
        for index in slots.indices where down.contains(slots[index].primary) {
            guard !spares.isEmpty else { break }
            slots[index].node = spares.removeFirst()
        }
    }

    public func slotIndex(of node: String) -> Int? {
        slots.firstIndex { $0.node == node }
    }

    /// Records an answer from `node`; false when `node` serves no pending slot.
    public mutating func recordAnswer(from node: String) -> Bool {
        guard let index = slotIndex(of: node), slots[index].status == .pending else { return false }
        slots[index].status = .answered
        return true
    }

    /// A primary answered, even one whose slot had moved to a stand-in (a lead believed
    /// down that answered after all): the slot returns to it, counted as answered.
    public mutating func recordPrimaryAnswer(_ primary: String) {
        guard let index = slots.firstIndex(where: { $0.primary == primary }), slots[index].status != .answered else { return }
        slots[index].node = primary
        slots[index].status = .answered
    }

    /// `node` failed: its slot moves to the next spare (returned), or fails when sloppy
    /// quorum is off or no spare is left.
    public mutating func recordFailure(of node: String) -> String? {
        guard let index = slotIndex(of: node), slots[index].status == .pending else { return nil }
        guard sloppy, !spares.isEmpty else {
            slots[index].status = .failed
            return nil
        }
        slots[index].node = spares.removeFirst()
        return slots[index].node
    }

    public var answered: Int { slots.count { $0.status == .answered } }
    public var primariesAnswered: Int { slots.count { $0.status == .answered && !$0.isStandIn } }
    public var pending: Int { slots.count { $0.status == .pending } }
    /// Primaries that have answered or still may.
    public var primariesPossible: Int { slots.count { $0.status != .failed && !$0.isStandIn } }

    /// Whether `needed` answers (of which `primariesNeeded` from primaries) are in, out
    /// of reach, or still possible.
    public func status(needed: Int, primariesNeeded: Int) -> QuorumStatus {
        if answered >= needed && primariesAnswered >= primariesNeeded { return .succeeded }
        if answered + pending < needed || primariesPossible < primariesNeeded { return .failed }
        return .pending
    }

    public func error(for operation: QuorumOperation, needed: Int, primariesNeeded: Int) -> KVError {
        .quorumNotMet(
            operation: operation, needed: needed, answered: answered, primariesNeeded: primariesNeeded,
            primariesAnswered: primariesAnswered)
    }
}

extension Ring {
    /// Nodes clockwise after the first `n` distinct ones: where stand-ins come from.
    public func fallbacks(partition: Int, n: Int) -> [String] {
        Array(preferenceList(partition: partition, n: members.count).dropFirst(n))
    }
}

/// A quorum's three-way state; it fails as soon as the quorum is out of reach, so a client
/// waits for a timeout only when replicas are silent, not when they already refused.
public enum QuorumStatus: Sendable, Equatable { case pending, succeeded, failed }
