/// Counts replica answers against a quorum: the three-way result of every request.
///
/// It fails as soon as the quorum can no longer be met, so a client waits for a timeout
/// only when replicas are silent, not when they have already refused.
public struct QuorumTally: Sendable, Equatable {
    public enum Status: Sendable, Equatable { case pending, succeeded, failed }

    public let needed: Int
    public let primariesNeeded: Int
    public private(set) var succeeded: Int = 0
    public private(set) var primariesSucceeded: Int = 0
    public private(set) var failed: Int = 0
    public private(set) var primariesFailed: Int = 0
    /// Replicas asked in all, and how many of them are primaries.
    public let contacted: Int
    public let primariesContacted: Int

    public init(needed: Int, primariesNeeded: Int = 0, contacted: Int, primariesContacted: Int) {
        precondition(needed >= 1 && needed <= contacted, "quorum \(needed) of \(contacted) replicas")
        self.needed = needed
        self.primariesNeeded = primariesNeeded
        self.contacted = contacted
        self.primariesContacted = primariesContacted
    }

    public mutating func recordSuccess(primary: Bool) {
        succeeded += 1
        if primary { primariesSucceeded += 1 }
    }

    public mutating func recordFailure(primary: Bool) {
        failed += 1
        if primary { primariesFailed += 1 }
    }

    public var status: Status {
        if succeeded >= needed && primariesSucceeded >= primariesNeeded { return .succeeded }
        let stillPossible = contacted - failed
        let primariesStillPossible = primariesContacted - primariesFailed
        if stillPossible < needed || primariesStillPossible < primariesNeeded { return .failed }
        return .pending
    }

    public var answeredAll: Bool { succeeded + failed >= contacted }

    public func error(for operation: QuorumOperation) -> KVError {
        .quorumNotMet(
            operation: operation, needed: needed, answered: succeeded,
            primariesNeeded: primariesNeeded, primariesAnswered: primariesSucceeded)
    }
}
