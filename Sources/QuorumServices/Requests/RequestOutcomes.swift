import QuorumCore

/// What a coordinated read came to: the merged state of the replicas that answered
/// (nil: absent everywhere asked) and how many answered in time.
public struct ReadOutcome: Sendable, Equatable {
    public var state: KeyState?
    public var replies: Int

    /// The state a client is shown when the coordinator's wall clock reads
    /// `nowMilliseconds`: replicas answered versions expired by their clocks stripped,
    /// and this strips those the coordinator's clock has passed too, so a version is
    /// absent once any node that judged the read saw its deadline pass. The node's service
    /// and the simulator both show reads through this.
    public func visibleState(atMilliseconds nowMilliseconds: UInt64) -> KeyState? {
        state?.strippingExpired(atMilliseconds: nowMilliseconds)
    }
}

/// What a coordinated write came to: the key's state after it, the acknowledgements, and
/// which version it made: the stamped `lwwVersion` in an lww bucket, else the lead's new dot.
public struct WriteOutcome: Sendable, Equatable {
    public var state: KeyState
    public var acks: Int
    /// The replica that ran the write's read-modify-write (vclock buckets).
    public var lead: String?
    /// The version the coordinator stamped (lww buckets).
    public var lwwVersion: Sibling?
    /// The replica slots that acknowledged it before the answer: each slot's node, and the
    /// primary it belongs to (itself, or the one a stand-in keeps the write for as a hint).
    public var acknowledged: [ReplicaPlan.Slot] = []
}

/// A client's write as the request path takes it: the value (or tombstone) and its context.
public struct WriteCommand: Sendable, Equatable {
    public var bucket: String
    public var key: [UInt8]
    public var intent: WriteIntent
    public var options: RequestOptions
    /// Create only: refused when the lead holds a live value.
    public var ifAbsent: Bool
    /// Stand-ins may take slots of unreachable primaries.
    public var sloppy: Bool

    public init(bucket: String, key: [UInt8], intent: WriteIntent, options: RequestOptions, ifAbsent: Bool = false, sloppy: Bool) {
        self.bucket = bucket
        self.key = key
        self.intent = intent
        self.options = options
        self.ifAbsent = ifAbsent
        self.sloppy = sloppy
    }
}

/// A client's expiry change as the request path takes it (`RequestDriver.touch`).
public struct TouchCommand: Sendable, Equatable {
    public var bucket: String
    public var key: [UInt8]
    public var change: ExpiryChange
    /// `NX XX GT LT`, judged on the read; all must hold (none: always).
    public var conditions: [ExpiryCondition]
    /// r for the read and w for the write-back.
    public var options: RequestOptions
    public var sloppy: Bool

    public init(
        bucket: String, key: [UInt8], change: ExpiryChange, conditions: [ExpiryCondition] = [], options: RequestOptions,
        sloppy: Bool
    ) {
        self.bucket = bucket
        self.key = key
        self.change = change
        self.conditions = conditions
        self.options = options
        self.sloppy = sloppy
    }
}
