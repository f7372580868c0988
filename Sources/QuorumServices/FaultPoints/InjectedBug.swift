/// A deliberate bug the simulator can switch on in the node's own services, to show the
/// checks catch it. Production code keeps them compiled in but inert: only a simulated
/// world sets `FaultPoints.bug`.
public enum InjectedBug: String, Sendable, CaseIterable, Equatable {
    case none
    /// Read repair sends only the newest sibling (with the full context), so replicas
    /// drop concurrent siblings the client saw.
    case readRepairDropsSiblings
    /// Anti-entropy leaves keys whose merged state is only tombstones unrepaired, so a
    /// replica that missed a delete keeps the old value.
    case antiEntropyIgnoresTombstones
    /// The tombstone purge asks only its own replica, not every replica of the key, so a
    /// replica that missed the delete keeps the old value and anti-entropy copies it back.
    case purgeAsksOnlyItself
    /// The coordinator answers a write as soon as it sends the copies out, before `w`
    /// replicas acknowledged them, so a quorum read right after may miss it.
    case acknowledgeBeforeQuorum
    /// Anti-entropy pairs each partition's owner with the next two replicas only, whatever
    /// the buckets' n (what the node's anti-entropy did when the simulator found it): the
    /// 4th and 5th replicas of an n = 5 key are never repaired.
    case antiEntropyThreeReplicasDeep
    /// Each run's heartbeat generation is the wall clock at start, not kept above the last
    /// run's, and never moved past a later one a peer echoes (what the node did before the
    /// simulator found seeds 2873 and 134): a node restarted after its clock stepped back
    /// stays down in every peer's eyes.
    case generationFromWallClock
    /// A read answers once any replica answered, whatever its `r`, so a quorum read
    /// right after a quorum write may miss it.
    case readAnswersAfterOneReply
    /// A write counts a replica that failed (timed out, refused, could not store) as an
    /// acknowledgement, so it reports `w` copies it does not have.
    case failedReplicaCountsAsAck
    /// A create-only write (`If-None-Match: *`, `SET NX`) skips the lead replica's
    /// existence check, so it succeeds over a live value.
    case createOnlySkipsExistenceCheck
    /// A replica merging an anti-entropy batch drops the batch's last state but
    /// acknowledges the batch, so the key stays diverged until an exchange repairs it
    /// alone in a batch.
    case mergeBatchDropsLast
    /// A stand-in acknowledges a hint without keeping it, so the primary never gets the
    /// write and a write only stand-ins took is lost.
    case hintDroppedOnTake
    /// A replica answers reads with the state it stores, ignoring its bucket's truncation
    /// point, so a row not yet rewritten since a `FLUSHDB` serves the versions it hid.
    case readsIgnoreTruncation
    /// Nodes judge nothing expired: replicas neither strip expired versions from their
    /// answers nor from their stores, and coordinators hand them to clients, so a read
    /// long after a version's deadline still returns it.
    case expiryIgnored
    /// A replica joining a counter's delta or state keeps whichever side has the larger
    /// total instead of joining per actor (the naive merge of a G-counter done wrong),
    /// while still merging the contexts: the smaller side's increments are dropped for
    /// good, so acknowledged increments go missing from the final value.
    case counterMergeTakesMax
    /// A Paxos acceptor accepts a proposal whose ballot is below its promise (issue #17),
    /// so two proposers can each get a different value chosen for one instance.
    case acceptorAcceptsLowerBallot
    /// A Paxos acceptor answers a prepare or a propose before its new promise or vote is
    /// durable; a crash then forgets a promise it gave, and it may vote twice.
    case acceptorRepliesBeforeDurable
    /// A Paxos proposer treats a value as chosen once a single acceptor accepted it, fewer
    /// than a majority.
    case proposerLearnsFromMinority

    /// Every bug `--bug` can switch on, in declaration order: all cases but `none`, so a
    /// new case shows up in `--list-bugs` and `--help` without editing either.
    public static var deliberate: [InjectedBug] { allCases.filter { $0 != .none } }
}

/// Fault points compiled into the node's services (in the spirit of FoundationDB's
/// BUGGIFY): inert unless a simulated world switches one on.
public struct FaultPoints: Sendable, Equatable {
    public var bug: InjectedBug

    public init(bug: InjectedBug = .none) {
        self.bug = bug
    }

    /// No fault: what the real node runs with.
    public static let inert = FaultPoints()

    @inline(__always)
    public func has(_ bug: InjectedBug) -> Bool { self.bug == bug }
}
