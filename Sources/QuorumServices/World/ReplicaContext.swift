import QuorumCore

/// What the replica side reads from and hands to the rest of its node: the clock it keeps
/// in step with the timestamps it sees, hints it takes for other nodes, bucket props and
/// truncation points it stores, how repair batches are compressed; and it is where the replica logs trouble.
public protocol ReplicaContext: ServiceLog {
    /// This store's identity in version vectors (node id plus the store's creation).
    var actorID: String { get }
    /// Moves the node's hybrid logical clock past a timestamp it saw.
    func observe(_ timestamp: HLCTimestamp)
    /// Keeps `state` as a hint for `target`; answers once it is durable, or a refusal.
    func takeHint(
        target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode,
        respond: @escaping (PeerResponse) -> Void)
    /// Keeps a typed key's delta as a hint for `target`; answers once it is durable, or a refusal.
    func takeTypedHint(
        target: String, bucket: String, key: [UInt8], state: TypedState, respond: @escaping (PeerResponse) -> Void)
    /// The type of `bucket`'s keys by this node's copy of its props; nil for plain values.
    /// A replica takes typed updates only for a bucket it knows is of that type, so it
    /// never stores a typed row in a bucket it treats as plain.
    func datatype(of bucket: String) -> DataType?
    /// Stores a bucket's props if newer than the copy held.
    func storeProps(bucket: String, props: BucketProps, completion: @escaping (Result<Void, KVError>) -> Void)
    /// The point below which `bucket`'s versions read as deleted, if it was truncated.
    func truncationPoint(for bucket: String) -> HLCTimestamp?
    /// Adopts a truncation point of `bucket` (nil: every bucket): durable and spread to the
    /// membership state, and the clock moved past it, before `completion` reports success.
    func adoptTruncation(bucket: String?, point: HLCTimestamp, completion: @escaping (Result<Void, KVError>) -> Void)
    /// The consistency of `bucket` by this node's copy of its props: an acceptor votes only
    /// for keys of a bucket it knows is strong.
    func consistency(of bucket: String) -> BucketConsistency
    /// A reading of the node's clock, past every timestamp it issued or observed (ballots
    /// included): what `.paxosFloor` answers.
    func clockReading() -> HLCTimestamp
    /// Where this store stands in Paxos catch-up (issue #17).
    var consensusFloor: ConsensusFloor { get }
    /// Ends catch-up: stores `floor` durably (it must outlive restarts: keys not touched
    /// since keep no promise of their own), then votes again, never below it (nor below a
    /// higher floor another member's catch-up set meanwhile); `relearning` when some other
    /// member held strong values, so this store's lost votes may matter.
    func adoptConsensusFloor(_ floor: PaxosBallot, relearning: Bool, completion: @escaping (Result<Void, KVError>) -> Void)
    /// Another member's catch-up fences this store: from now on it never promises or
    /// accepts below `floor`, durably before `completion` reports success; its standing
    /// (catching up, relearning, voting) stays.
    func raiseConsensusFloor(_ floor: PaxosBallot, completion: @escaping (Result<Void, KVError>) -> Void)
    /// Undoes the compression of an anti-entropy repair batch.
    func decompress(_ bytes: [UInt8], originalLength: Int) throws -> [UInt8]
    /// The replica found `count` versions expired by its clock and answered or stored them
    /// stripped (counted for /status and /metrics).
    func versionsExpired(_ count: Int)
}

/// A store's standing as a Paxos acceptor (issue #17).
///
/// A store that started empty may belong to a node that promised ballots before it lost its
/// disk; voting again below such a promise could let two values be chosen. So it does not
/// vote (prepare and propose answer `notReady`; commits are learned) until it has read the
/// clock of every other member, each past every ballot that member issued or saw, and
/// taken a floor above them all (`PaxosCatchUpDriver`).
///
/// The floor keeps its lost promises, not its lost votes: a value chosen by a bare
/// majority that included it lives on the rest of that majority only. So when any other
/// member held strong values (votes or commits) at catch-up, the store relearns: it
/// promises for a key only once it voted or learned there at or above the floor. In a new
/// cluster nobody held any, and it simply votes.
public enum ConsensusFloor: Sendable, Equatable {
    /// Votes, and never below `floor` when there is one.
    case voting(floor: PaxosBallot?)
    /// Votes, never below `floor`, and promises for a key only once it knows it again
    /// (`AcceptorState.knowsItsVotes`).
    case relearning(floor: PaxosBallot)
    /// Does not vote yet; `floor`: the highest fence other members' catch-ups set meanwhile,
    /// which its own floor will not go below.
    case catchingUp(floor: PaxosBallot?)

    /// Below this nothing is promised or accepted.
    public var floor: PaxosBallot? {
        switch self {
        case .voting(let floor), .catchingUp(let floor): return floor
        case .relearning(let floor): return floor
        }
    }

    public var isCatchingUp: Bool {
        if case .catchingUp = self { return true }
        return false
    }

    /// The same standing, never below `fence`.
    public func raised(to fence: PaxosBallot) -> ConsensusFloor {
        let floor = Swift.max(fence, self.floor ?? fence)
        switch self {
        case .voting: return .voting(floor: floor)
        case .relearning: return .relearning(floor: floor)
        case .catchingUp: return .catchingUp(floor: floor)
        }
    }

    /// The standing at the end of catch-up: `floor`, or a higher fence set meanwhile.
    public func caughtUp(floor: PaxosBallot, relearning: Bool) -> ConsensusFloor {
        let floor = Swift.max(floor, self.floor ?? floor)
        return relearning ? .relearning(floor: floor) : .voting(floor: floor)
    }
}

extension ReplicaContext {
    /// Counts nothing: for contexts without expiry figures (tests).
    public func versionsExpired(_ count: Int) {}
}
