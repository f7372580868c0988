import QuorumCore

/// The properties every run is checked for, named as in the simulator's issue.
public enum Check: String, Sendable, CaseIterable, Comparable {
    /// (a) After faults heal and repair runs, all replicas of every key hold the same state.
    case convergence = "a"
    /// (b) No acknowledged write is lost: present at r = n afterwards, or superseded.
    case durability = "b"
    /// (c) vclock: concurrent acknowledged writes survive as siblings until a write whose
    /// context covers them, and not after it.
    case siblings = "c"
    /// (d) No deleted key resurrects.
    case resurrection = "d"
    /// (e) With w + r > n, no sloppy quorum and no faults, reads see every write
    /// acknowledged before they began.
    case quorumReads = "e"
    /// (f) LWW under no skew: later writes win, and no value read is older than one read before.
    case lwwOrder = "f"
    /// (g) After faults heal, every node's failure detector sees every other node up again
    /// within the repair window (beyond the list: a node believed down forever gets
    /// no hints and no lead role).
    case liveness = "g"
    /// (h) A create-only write is acknowledged only where its lead held no live value: in
    /// vclock buckets its answer holds no live version but its own.
    case createOnly = "h"
    /// (i) No read that began after a version's deadline plus the skew bound returns it, and
    /// an expired version keeps shadowing what it superseded.
    case expiry = "i"
    /// (j) Once a truncation answered, no later read returns a version it hid (beyond the
    /// issue's list: `FLUSHDB`).
    case truncation = "j"
    /// (k) Typed counters (issue #16): no acknowledged increment is lost or counted twice,
    /// so the final value lies between the acknowledged sum and the attempted one.
    case counterBounds = "k"
    /// (l) Typed sets and maps: add wins, so an element (a field) whose add was acknowledged
    /// and that no remove named is present at the end.
    case addWins = "l"
    /// (m) Strong keys (issue #17): each key's history of reads, writes, deletes and
    /// compare-and-sets is linearizable, and a refused compare-and-set's condition was false
    /// on the value it answered.
    case linearizable = "m"

    public var title: String {
        switch self {
        case .convergence: return "(a) replicas converge"
        case .durability: return "(b) acknowledged writes survive"
        case .siblings: return "(c) concurrent writes stay siblings"
        case .resurrection: return "(d) deleted keys stay deleted"
        case .quorumReads: return "(e) quorum reads see acknowledged writes"
        case .lwwOrder: return "(f) LWW never goes back in time"
        case .liveness: return "(g) healed nodes are seen up again"
        case .createOnly: return "(h) create-only writes create"
        case .expiry: return "(i) expired versions stay unread"
        case .truncation: return "(j) truncated versions stay hidden"
        case .counterBounds: return "(k) counters count every acknowledged increment once"
        case .addWins: return "(l) acknowledged adds no remove named stay"
        case .linearizable: return "(m) strong keys are linearizable"
        }
    }

    public static func < (lhs: Check, rhs: Check) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One broken property, with what broke it.
public struct CheckViolation: Sendable, Equatable, CustomStringConvertible {
    public var check: Check
    public var message: String

    public var description: String { "\(check.title): \(message)" }
}

/// What the checkers look at: the history, the final r = n reads, and every replica's
/// state once repair ran.
struct CheckInput {
    struct KeyName: Hashable, Comparable {
        var bucket: String
        var key: [UInt8]

        static func < (lhs: KeyName, rhs: KeyName) -> Bool {
            lhs.bucket != rhs.bucket ? lhs.bucket < rhs.bucket : lhs.key.lexicographicallyPrecedes(rhs.key)
        }

        var text: String { bucket + "/" + String(decoding: key, as: UTF8.self) }
    }

    var history: History
    var mix: FaultMix
    /// No clock was skewed or stepped in this run (the plan has no clock faults).
    var clocksExact = true
    /// Every key the ordinary clients used, sorted: the checks on writes and deletes look at
    /// these. The truncating clients' bucket is judged by (a) and (i) only, since a
    /// truncation hides acknowledged writes by design.
    var keys: [KeyName]
    /// Per key: the final r = n read's state (nil: nothing held); absent when that read failed.
    var finalStates: [KeyName: KeyState?]
    /// Per key, per replica of its preference list (in order), the stored state after repair.
    var replicaStates: [KeyName: [(node: String, state: KeyState?)]]
    var nodeCount: Int
    /// Per node, the peers its failure detector still believed down when repair ended.
    var believedDown: [(node: String, peers: [String])] = []
    /// Some node lost its disk: reads and their order no longer follow from the writes
    /// alone, so the checks on quorum overlap and lww order do not apply.
    var disksWiped = false
    /// The largest distance any node's clock was from true time during the run.
    var clockOffsetMaxMilliseconds: UInt64 = 0
    /// Every typed key the typed clients used, sorted (not in `keys`).
    var typedKeys: [KeyName] = []
    /// Per typed key: the final r = n read of every member (nil: nothing held); absent when it failed.
    var typedFinalStates: [KeyName: TypedState?] = [:]
    /// Per typed key, per replica of its preference list (in order), its stored rows after repair.
    var typedReplicaStates: [KeyName: [(node: String, rows: StoredTyped?)]] = [:]
    /// Every key the strong clients used, sorted (in neither `keys` nor `typedKeys`).
    var strongKeys: [KeyName] = []
    /// Strong keys a majority of whose replicas lost their disks during the run, with
    /// those replicas: their committed values may be gone through no fault of the
    /// protocol, so (m) does not judge them.
    var strongExempt: [KeyName: [String]] = [:]
    /// Per strong key, per replica of its preference list (in order), its latest commit
    /// after repair.
    var strongReplicaCommits: [KeyName: [(node: String, commit: PaxosCommit?)]] = [:]

    /// The input without the keys and requests of `buckets`, for checks that do not apply to them.
    func excluding(buckets: Set<String>) -> CheckInput {
        var input = self
        input.history = history.excluding(buckets: buckets)
        input.keys = keys.filter { !buckets.contains($0.bucket) }
        input.finalStates = finalStates.filter { !buckets.contains($0.key.bucket) }
        input.replicaStates = replicaStates.filter { !buckets.contains($0.key.bucket) }
        input.typedKeys = typedKeys.filter { !buckets.contains($0.bucket) }
        input.typedFinalStates = typedFinalStates.filter { !buckets.contains($0.key.bucket) }
        input.typedReplicaStates = typedReplicaStates.filter { !buckets.contains($0.key.bucket) }
        input.strongKeys = strongKeys.filter { !buckets.contains($0.bucket) }
        input.strongExempt = strongExempt.filter { !buckets.contains($0.key.bucket) }
        input.strongReplicaCommits = strongReplicaCommits.filter { !buckets.contains($0.key.bucket) }
        return input
    }

    func props(_ name: KeyName) -> BucketProps { SimulatedBuckets.props[name.bucket] ?? .defaults }

    /// The client requests (not the checkers' reads) on one key, in invocation order.
    func requests(on name: KeyName) -> [History.Entry] {
        history.entries.filter { $0.client != History.checkerClient && $0.bucket == name.bucket && $0.key == name.key }
    }

    /// The numbers a request ran with, resolved as the coordinator resolved them.
    func resolved(_ entry: History.Entry) -> ResolvedOptions? {
        try? entry.options.resolve(
            props: props(KeyName(bucket: entry.bucket, key: entry.key)), clusterSize: nodeCount, limits: .defaults,
            for: entry.isWrite ? .write : .read)
    }

    static func describe(_ entry: History.Entry) -> String {
        History.render(entry, origin: SimulatedWorld.origin)
    }
}

/// Runs every check on one run's results.
enum Checker {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        var violations: [CheckViolation] = []
        // Values in the expiring bucket vanish by design: the checks on acknowledged
        // values skip it; convergence and expiry cover it. The typed buckets have checks
        // of their own (the plain ones reason about versions, which typed keys don't have).
        let withoutExpiry = input.excluding(buckets: SimulatedBuckets.expiringNames.union(SimulatedBuckets.typedNames))
        violations += ConvergenceCheck.check(input)
        violations += DurabilityCheck.check(withoutExpiry)
        violations += SiblingCheck.check(withoutExpiry)
        violations += ResurrectionCheck.check(withoutExpiry)
        violations += CreateOnlyCheck.check(withoutExpiry)
        violations += QuorumReadCheck.check(withoutExpiry)
        violations += LWWOrderCheck.check(withoutExpiry)
        violations += LivenessCheck.check(input)
        violations += ExpiryCheck.check(input)
        violations += TruncationCheck.check(input)
        violations += CounterCheck.check(input)
        violations += AddWinsCheck.check(input)
        violations += LinearizabilityCheck.check(input)
        return violations
    }
}
