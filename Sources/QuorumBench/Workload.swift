/// A YCSB-style operation mix. Every workload runs over records preloaded before it starts,
/// so reads find a value and writes are updates.
public enum Workload: String, Codable, CaseIterable, Sendable {
    /// 50% read, 50% update (YCSB A, "update heavy").
    case a = "A"
    /// 95% read, 5% update (YCSB B, "read mostly").
    case b = "B"
    /// 100% read (YCSB C).
    case c = "C"
    /// 50% read, 50% read-modify-write: read with its context, then write with that context (YCSB F).
    case f = "F"
    /// 100% update: not YCSB; the SET-only figure to set beside redis-server's SET.
    case w = "W"
    /// 90% read, 10% update with an expiry (`SET key value EX ttl`, see `CacheExpiry`): not
    /// YCSB; what a cache in front of a database sends. Keys expire during the run when the
    /// ttl is short, so reads of this workload may miss, and a miss is reported, not an error.
    case cache
    /// 100% `INCR` of counters (issue #16): not YCSB. Runs in its own counter bucket
    /// (`typedBucket`), created by the harness; keys `incr:<n>`, so redis-server's
    /// preloaded strings are not in the way.
    case incr
    /// 100% `SADD` of a new element to a set (issue #16): not YCSB. Every add names an
    /// element no earlier add did, so sets only grow and the figure shows whether an add
    /// costs more as its set gets larger (it should not: storage touches one member row).
    case sadd
    /// 100% `GET` in a strongly consistent bucket (issue #17): a linearizable read through
    /// per-key consensus. Runs in its own strong bucket (`strongBucket`), created and
    /// preloaded by the harness, once per run rather than per (w, r) setting: a strong
    /// bucket takes no levels.
    case strongRead = "strong-read"
    /// 100% `SET` in the strong bucket: an unconditional write through consensus.
    case strongWrite = "strong-write"
    /// 100% compare-and-set in the strong bucket: `GET`, then `SET key new IFEQ old` of
    /// the value read. When another client changed the key in between, the condition
    /// fails (nil): a conflict, counted apart, not an error.
    case cas

    /// The share of operations that are plain reads; the rest are updates (or, for F,
    /// read-modify-writes).
    public var readProportion: Double {
        switch self {
        case .a: return 0.5
        case .b: return 0.95
        case .c: return 1.0
        case .f: return 0.5
        case .w: return 0.0
        case .cache: return 0.9
        case .incr, .sadd: return 0.0
        case .strongRead: return 1.0
        case .strongWrite, .cas: return 0.0
        }
    }

    public var summary: String {
        switch self {
        case .a: return "A: 50% read, 50% update"
        case .b: return "B: 95% read, 5% update"
        case .c: return "C: read only"
        case .f: return "F: 50% read, 50% read-modify-write with the context"
        case .w: return "W: update only (not YCSB)"
        case .cache: return "cache: 90% read, 10% update with an expiry (SET … EX ttl)"
        case .incr: return "incr: INCR of a counter only (a counter bucket)"
        case .sadd: return "sadd: SADD of a new element only (a set bucket)"
        case .strongRead: return "strong-read: GET only (a strongly consistent bucket)"
        case .strongWrite: return "strong-write: SET only (a strongly consistent bucket)"
        case .cas: return "cas: GET, then SET … IFEQ of the value read (a strongly consistent bucket)"
        }
    }

    /// The bucket datatype a typed workload needs ("counter" or "set"), nil for the others.
    public var datatype: String? {
        switch self {
        case .incr: return "counter"
        case .sadd: return "set"
        default: return nil
        }
    }

    /// The QuorumKV bucket a typed workload runs in (typed buckets hold nothing else).
    public var typedBucket: String? { datatype.map { "bench-\($0)s" } }

    /// Whether the workload runs in the strongly consistent bucket (`strongBucket`).
    public var isStrong: Bool { self == .strongRead || self == .strongWrite || self == .cas }

    /// The strongly consistent bucket every strong workload shares (so `cas` and
    /// `strong-read` see what `strong-write` wrote).
    public static let strongBucket = "bench-strong"

    /// The bucket the workload needs apart from the run's own: a typed or the strong one.
    public var ownBucket: String? { typedBucket ?? (isStrong ? Self.strongBucket : nil) }

    /// The RESP command a typed workload sends.
    public var typedCommand: String? {
        switch self {
        case .incr: return "INCR"
        case .sadd: return "SADD"
        default: return nil
        }
    }

    /// Whether the workload's updates carry an expiry.
    public var setsExpiry: Bool { self == .cache }

    /// The next operation kind, from a uniform draw in [0, 1).
    public func operation(draw: Double) -> OperationKind {
        if draw < readProportion { return .read }
        return self == .f || self == .cas ? .readModifyWrite : .update
    }

    public static func parse(_ text: String) throws -> Workload {
        guard let workload = allCases.first(where: { $0.rawValue.uppercased() == text.uppercased() }) else {
            throw BenchError.usage("unknown workload '\(text)'; use A, B, C, F, W, cache, incr, sadd, strong-read, strong-write or cas")
        }
        return workload
    }
}

/// What one operation of a workload does.
public enum OperationKind: String, Codable, CaseIterable, Sendable {
    case read
    case update
    case readModifyWrite = "rmw"
}
