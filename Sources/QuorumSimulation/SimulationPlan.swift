import QuorumCore

/// What a run will do, drawn from its seed before it starts: each client's requests and
/// the faults with their times. Shrinking removes steps from it; everything the plan
/// doesn't fix (delays, losses, disk latency) is drawn as the run goes.
public struct SimulationPlan: Sendable, Equatable {
    public struct Operation: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable {
            case get, put, putWithContext, delete, deleteWithContext
            /// A create-only write (`If-None-Match: *`, `SET NX`): refused when the lead holds a live value.
            case putIfAbsent
            /// A truncation of the operation's bucket (`FLUSHDB`); its key is unused.
            case truncate
            /// An expiry change (`PEXPIRE key ttl`): `ttlMilliseconds` from the coordinator's clock.
            case expire
            /// Typed keys (issue #16), issued by the typed clients (`SimulatedTypedClient`):
            /// a read of every member, and one of only the members the client wrote.
            case typedRead, typedReadSome
            /// A counter increment by `amount` (negative: a decrement), with a unique operation id.
            case increment
            /// A set add of an element unique to this request.
            case setAdd
            /// A set remove of an element the client added and last read present: as the
            /// lead replica has seen it (`SREM`), or only the dots its read saw (HTTP with a context).
            case setRemove, setRemoveObserved
            /// Map updates: the client's own register field set to a unique value, the
            /// shared counter field incremented by `amount`, the client's own field removed.
            case mapSetField, mapIncrementField, mapRemoveField
            /// Strong keys (issue #17), issued by the strong clients (`SimulatedStrongRequests`)
            /// through the node's consensus path: a read, a write of a value unique to the
            /// request, a delete, and compare-and-sets of a unique value on a condition the
            /// client fills in at run time from what it last saw of the key (the value it
            /// read, absence, the etag it was given).
            case strongRead, strongWrite, strongDelete, strongIfEquals, strongIfAbsent, strongIfMatch

            /// An operation on a key of the strong bucket.
            public var isStrong: Bool {
                switch self {
                case .strongRead, .strongWrite, .strongDelete, .strongIfEquals, .strongIfAbsent, .strongIfMatch: return true
                default: return false
                }
            }

            /// An update of a typed key.
            public var isTypedUpdate: Bool {
                switch self {
                case .increment, .setAdd, .setRemove, .setRemoveObserved, .mapSetField, .mapIncrementField, .mapRemoveField:
                    return true
                default: return false
                }
            }

            public var isTyped: Bool { isTypedUpdate || self == .typedRead || self == .typedReadSome }
        }

        public var kind: Kind
        public var bucket: String
        public var key: [UInt8]
        /// Index of the node the client sends it to.
        public var node: Int
        public var options: RequestOptions
        public var sloppy: Bool
        /// Wait before issuing it, after the client's previous request finished.
        public var thinkMilliseconds: UInt64
        /// A write's ttl (or an expiry change's new one), from the coordinator's clock; nil: none.
        public var ttlMilliseconds: UInt64?
        /// An increment's amount (`increment`, `mapIncrementField`); 0 for other kinds.
        public var amount: Int64

        public init(
            kind: Kind, bucket: String, key: [UInt8], node: Int, options: RequestOptions = RequestOptions(), sloppy: Bool = false,
            thinkMilliseconds: UInt64 = 0, ttlMilliseconds: UInt64? = nil, amount: Int64 = 0
        ) {
            self.amount = amount
            self.ttlMilliseconds = ttlMilliseconds
            self.kind = kind
            self.bucket = bucket
            self.key = key
            self.node = node
            self.options = options
            self.sloppy = sloppy
            self.thinkMilliseconds = thinkMilliseconds
        }
    }

    public enum Fault: Sendable, Equatable {
        case crash(node: Int)
        case restart(node: Int)
        /// Cuts `side` off from the other nodes, both ways.
        case partition(side: [Int])
        /// Cuts the link from one node to another; the reverse still works.
        case cutOneWay(from: Int, to: Int)
        case healPartitions
        case skewClock(node: Int, offsetMilliseconds: Int64)
        case jumpClock(node: Int, deltaMilliseconds: Int64)
        case loss(dropPerMillion: UInt64, duplicatePerMillion: UInt64)
        /// Restarts a crashed node on an empty disk (a replaced drive, a lost volume).
        case restartWiped(node: Int)
        /// The node's next commit cannot be made durable (fsync fails): the node stops.
        case failFsync(node: Int)
        /// The node's disk is full: writes fail cleanly until `freeDisk`.
        case fillDisk(node: Int)
        case freeDisk(node: Int)
        /// A spare node joins the cluster through `seed`'s peer address.
        case join(node: Int, seed: Int)
        /// A member hands its partitions off and leaves (then stops).
        case leave(node: Int)

        /// Skews or steps a clock: LWW's order check (f) does not apply to such runs.
        public var changesClock: Bool {
            switch self {
            case .skewClock, .jumpClock: return true
            default: return false
            }
        }
    }

    public struct TimedFault: Sendable, Equatable {
        /// Milliseconds after the run starts.
        public var atMilliseconds: UInt64
        public var fault: Fault

        public init(atMilliseconds: UInt64, fault: Fault) {
            self.atMilliseconds = atMilliseconds
            self.fault = fault
        }
    }

    /// Per client, in order.
    public var operations: [[Operation]]
    /// In time order.
    public var faults: [TimedFault]

    /// A hand-written plan (a schedule a test wants exactly); seeds draw theirs.
    public init(operations: [[Operation]], faults: [TimedFault]) {
        self.operations = operations
        self.faults = faults
    }

    /// Steps, numbered for shrinking: every client's operations in order, then the faults.
    public var stepCount: Int { operations.reduce(0) { $0 + $1.count } + faults.count }

    /// The plan with only the steps whose numbers are in `kept`.
    public func keeping(_ kept: Set<Int>) -> SimulationPlan {
        var index = 0
        var result = SimulationPlan(operations: [], faults: [])
        for client in operations {
            var ops: [Operation] = []
            for operation in client {
                if kept.contains(index) { ops.append(operation) }
                index += 1
            }
            result.operations.append(ops)
        }
        for fault in faults {
            if kept.contains(index) { result.faults.append(fault) }
            index += 1
        }
        return result
    }
}

/// Buckets every simulated cluster has: one per conflict mode at the default n = 3, and
/// one that keeps a copy on every node of five (n = 5).
public enum SimulatedBuckets {
    public static let lww = "lww"
    public static let vclock = "vclock"
    public static let wide = "wide"
    /// Written, read and truncated by the truncating clients only (`SimulationConfig`).
    public static let flushed = "flushed"
    /// Where writes carry short ttls and expiry changes run, one bucket per conflict mode;
    /// the checks that reason about acknowledged values (which expire here) skip them,
    /// `ExpiryCheck` and convergence don't.
    public static let expiring = "expiring"
    public static let expiringSiblings = "expiring-vc"
    public static let expiringNames: Set<String> = [expiring, expiringSiblings]
    /// Typed buckets (issue #16), used by the typed clients only (`SimulationConfig.typedClients`).
    public static let counter = "counter"
    public static let set = "set"
    public static let map = "map"
    public static let typedNames: Set<String> = [counter, set, map]
    /// The strongly consistent bucket (issue #17), used by the strong clients only
    /// (`SimulationConfig.strongClients`) and judged by the linearizability check (m).
    public static let strong = "strong"

    public static let props: [String: BucketProps] = [
        lww: BucketProps(n: 3, r: .quorum, w: .quorum, conflict: .lww),
        vclock: BucketProps(n: 3, r: .quorum, w: .quorum, conflict: .vclock),
        wide: BucketProps(n: 5, r: .quorum, w: .quorum, conflict: .vclock),
        flushed: BucketProps(n: 3, r: .quorum, w: .quorum, conflict: .lww),
        expiring: BucketProps(n: 3, r: .quorum, w: .quorum, conflict: .lww),
        expiringSiblings: BucketProps(n: 3, r: .quorum, w: .quorum, conflict: .vclock),
        counter: BucketProps(n: 3, r: .quorum, w: .quorum, datatype: .counter),
        set: BucketProps(n: 3, r: .quorum, w: .quorum, datatype: .set),
        map: BucketProps(n: 3, r: .quorum, w: .quorum, datatype: .map),
        strong: BucketProps(n: 3, r: .quorum, w: .quorum, consistency: .strong),
    ]

    /// The buckets the ordinary clients use.
    public static let names = [lww, vclock, wide, expiring, expiringSiblings]

    /// The largest n of any bucket: how deep anti-entropy pairs replicas.
    public static var replicasMax: Int { props.values.map(\.n).max()! }
}

extension SimulationPlan {
    /// Draws a plan for `config` from `random`.
    static func draw(config: SimulationConfig, mix: FaultMix, using random: inout SplitMix64) -> SimulationPlan {
        var operations: [[Operation]] = []
        for _ in 0..<config.clientCount {
            var ops: [Operation] = []
            for _ in 0..<config.operationsPerClient { ops.append(drawOperation(config: config, mix: mix, using: &random)) }
            operations.append(ops)
        }
        let faults = drawFaults(config: config, mix: mix, using: &random)
        // Drawn last, so adding them leaves every other client's requests and the faults as they were.
        for _ in 0..<config.truncatingClients {
            operations.append((0..<config.operationsPerClient).map { _ in drawTruncatingOperation(config: config, mix: mix, using: &random) })
        }
        // Drawn after those, for the same reason.
        for _ in 0..<config.typedClients {
            operations.append((0..<config.operationsPerClient).map { _ in drawTypedOperation(config: config, mix: mix, using: &random) })
        }
        // And the strong clients after those.
        for _ in 0..<config.strongClients {
            operations.append((0..<config.operationsPerClient).map { _ in drawStrongOperation(config: config, mix: mix, using: &random) })
        }
        return SimulationPlan(operations: operations, faults: faults)
    }

    /// A truncating client's request: on its own bucket, reads and writes at the bucket's
    /// quorums, deletes, and about one truncation in eight.
    private static func drawTruncatingOperation(config: SimulationConfig, mix: FaultMix, using random: inout SplitMix64) -> Operation {
        let kinds: [Operation.Kind] = [.get, .get, .get, .put, .put, .put, .delete, .truncate]
        let kind = kinds[Int(random.below(UInt64(kinds.count)))]
        let key = kind == .truncate ? [] : Array("k\(random.below(UInt64(config.keysPerBucket)))".utf8)
        return Operation(
            kind: kind, bucket: SimulatedBuckets.flushed, key: key, node: Int(random.below(UInt64(config.nodeCount))),
            sloppy: random.below(2) == 0, thinkMilliseconds: thinkTime(mix: mix, using: &random))
    }

    private static func drawOperation(config: SimulationConfig, mix: FaultMix, using random: inout SplitMix64) -> Operation {
        let kinds: [Operation.Kind] = [
            .get, .get, .get, .put, .put, .putWithContext, .putWithContext, .delete, .deleteWithContext, .putIfAbsent,
        ]
        let kind = kinds[Int(random.below(UInt64(kinds.count)))]
        let names = config.expiryWorkload ? SimulatedBuckets.names : SimulatedBuckets.names.filter { !SimulatedBuckets.expiringNames.contains($0) }
        let bucket = names[Int(random.below(UInt64(names.count)))]
        let (key, options, sloppy) = drawTarget(in: bucket, config: config, mix: mix, using: &random)
        var chosen = kind
        var ttl: UInt64?
        if SimulatedBuckets.expiringNames.contains(bucket), kind != .get, kind != .delete {
            // Short ttls, so versions expire while clients still read them; some writes
            // carry none, and some requests change a ttl instead of writing.
            if kind == .deleteWithContext { chosen = .expire }
            ttl = random.below(5) == 0 && chosen != .expire ? nil : 20 + random.below(1500)
        }
        return Operation(
            kind: chosen, bucket: bucket, key: key, node: Int(random.below(UInt64(config.nodeCount))),
            options: options, sloppy: sloppy, thinkMilliseconds: thinkTime(mix: mix, using: &random), ttlMilliseconds: ttl)
    }

    /// Up to 300 ms; in the calm mix a third of requests follow the previous at once, so
    /// reads often start while a write's copies are still in flight.
    static func thinkTime(mix: FaultMix, using random: inout SplitMix64) -> UInt64 {
        if mix.isCalm && random.below(3) == 0 { return 0 }
        return random.below(300)
    }

    /// A request's key in `bucket` and its per-request levels, drawn the same way for
    /// every client: mostly the bucket's n, sometimes fewer replicas; sometimes a short
    /// timeout, so answers arrive after the coordinator gave up; random r, w and pw; and
    /// sloppy quorums more often when faults are on.
    static func drawTarget(
        in bucket: String, config: SimulationConfig, mix: FaultMix, using random: inout SplitMix64
    ) -> (key: [UInt8], options: RequestOptions, sloppy: Bool) {
        let key = Array("k\(random.below(UInt64(config.keysPerBucket)))".utf8)
        var options = RequestOptions()
        let bucketN = SimulatedBuckets.props[bucket]!.n
        let n = random.below(4) == 0 ? 1 + random.below(bucketN) : bucketN
        if n != bucketN { options.n = n }
        if random.below(5) == 0 { options.timeoutMilliseconds = 10 + random.below(300) }
        options.r = drawLevel(n: n, using: &random)
        options.w = drawLevel(n: n, using: &random)
        if random.below(10) == 0 { options.pw = .count(1) }
        let sloppy = random.below(mix.isCalm ? 4 : 2) == 0
        return (key, options, sloppy)
    }

    static func drawLevel(n: Int, using random: inout SplitMix64) -> ConsistencyLevel? {
        switch random.below(5) {
        case 0: return nil
        case 1: return .quorum
        case 2: return .all
        default: return .count(Int(1 + random.below(UInt64(n))))
        }
    }

    /// A spare node joins through a founder, and half the time leaves again a little later:
    /// the ring grows and shrinks while clients write. (Not in the calm mix: a read at r < n
    /// on a new replica may miss writes the old ones took during the change, by design.)
    private static func drawMembershipChange(config: SimulationConfig, using random: inout SplitMix64) -> [TimedFault] {
        let spare = config.nodeCount
        let at = random.below(config.faultWindowMilliseconds / 2)
        var faults = [TimedFault(atMilliseconds: at, fault: .join(node: spare, seed: Int(random.below(UInt64(config.nodeCount)))))]
        if random.below(2) == 0 {
            faults.append(TimedFault(atMilliseconds: at + 1500 + random.below(2000), fault: .leave(node: spare)))
        }
        return faults
    }

    /// Disk trouble in the crash mixes: a commit whose fsync fails (the node stops, and is
    /// restarted later) and a disk that fills up for a while.
    private static func drawDiskFaults(config: SimulationConfig, using random: inout SplitMix64) -> [TimedFault] {
        var faults: [TimedFault] = []
        let nodes = UInt64(config.nodeCount)
        let window = config.faultWindowMilliseconds
        if random.below(2) == 0 {
            let node = Int(random.below(nodes))
            let at = random.below(window)
            faults.append(TimedFault(atMilliseconds: at, fault: .failFsync(node: node)))
            faults.append(TimedFault(atMilliseconds: at + 300 + random.below(1700), fault: .restart(node: node)))
        }
        if random.below(2) == 0 {
            let node = Int(random.below(nodes))
            let at = random.below(window)
            faults.append(TimedFault(atMilliseconds: at, fault: .fillDisk(node: node)))
            faults.append(TimedFault(atMilliseconds: at + 200 + random.below(1500), fault: .freeDisk(node: node)))
        }
        return faults
    }

    private static func drawFaults(config: SimulationConfig, mix: FaultMix, using random: inout SplitMix64) -> [TimedFault] {
        var faults: [TimedFault] = []
        let window = config.faultWindowMilliseconds
        let nodes = UInt64(config.nodeCount)
        if mix.dropsMessages {
            faults.append(TimedFault(
                atMilliseconds: 0,
                fault: .loss(dropPerMillion: 30_000 + random.below(120_000), duplicatePerMillion: 20_000 + random.below(80_000))))
        }
        if mix.skewsClocks {
            for node in 0..<config.nodeCount {
                let offset = Int64(random.below(1001)) - 500
                faults.append(TimedFault(atMilliseconds: 0, fault: .skewClock(node: node, offsetMilliseconds: offset)))
            }
            for _ in 0..<(1 + random.below(3)) {
                let delta = Int64(random.below(4001)) - 2000
                faults.append(TimedFault(
                    atMilliseconds: random.below(window),
                    fault: .jumpClock(node: Int(random.below(nodes)), deltaMilliseconds: delta)))
            }
        }
        if mix.crashesNodes {
            for _ in 0..<(1 + random.below(3)) {
                let node = Int(random.below(nodes))
                let at = random.below(window)
                faults.append(TimedFault(atMilliseconds: at, fault: .crash(node: node)))
                let wiped = random.below(4) == 0
                faults.append(TimedFault(
                    atMilliseconds: at + 100 + random.below(2000), fault: wiped ? .restartWiped(node: node) : .restart(node: node)))
            }
            faults += drawDiskFaults(config: config, using: &random)
        }
        if !mix.isCalm && config.spareNodeCount > 0 && random.below(2) == 0 {
            faults += drawMembershipChange(config: config, using: &random)
        }
        if mix.partitionsNodes {
            for _ in 0..<(1 + random.below(3)) {
                let at = random.below(window)
                if random.below(2) == 0 {
                    var side: [Int] = []
                    for node in 0..<config.nodeCount where random.below(2) == 0 { side.append(node) }
                    if side.isEmpty || side.count == config.nodeCount { side = [Int(random.below(nodes))] }
                    faults.append(TimedFault(atMilliseconds: at, fault: .partition(side: side)))
                } else {
                    let from = Int(random.below(nodes))
                    let to = (from + 1 + Int(random.below(nodes - 1))) % config.nodeCount
                    faults.append(TimedFault(atMilliseconds: at, fault: .cutOneWay(from: from, to: to)))
                }
                faults.append(TimedFault(atMilliseconds: at + 200 + random.below(1500), fault: .healPartitions))
            }
        }
        // Stable order by time; faults drawn for the same time keep their drawing order.
        return faults.enumerated().sorted { ($0.element.atMilliseconds, $0.offset) < ($1.element.atMilliseconds, $1.offset) }.map(\.element)
    }
}
