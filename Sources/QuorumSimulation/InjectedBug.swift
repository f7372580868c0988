/// A deliberate bug the simulator's wiring can switch on, to show the checkers catch it.
///
/// These live only in the simulated node's shell; the core's behaviour never changes.
/// Production has no such switch.
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
    /// the buckets' n (what the node's `AntiEntropyService` did when the simulator found
    /// it): the 4th and 5th replicas of an n = 5 key are never repaired.
    case antiEntropyThreeReplicasDeep
    /// Each run's heartbeat generation is the wall clock at start, not kept above the last
    /// run's (what the node's `MembershipService` did when the simulator found it): a node
    /// restarted after its clock stepped back stays down in every peer's eyes.
    case generationFromWallClock
}

extension InjectedBug {
    /// Every bug `--bug` can switch on, in declaration order: all cases but `none`, so a
    /// new case shows up in `--list-bugs` and `--help` without editing either.
    public static var deliberate: [InjectedBug] { allCases.filter { $0 != .none } }
}
