/// Everything reported for one setting of one run: what ran, and what it measured.
public struct SettingResult: Codable, Sendable {
    public struct PBSPoint: Codable, Sendable {
        /// Reads that began in [fromMs, toMs) after the key's latest acknowledged write;
        /// `toMs` is nil for the open last bin.
        public var fromMs: Double
        public var toMs: Double?
        public var reads: Int
        public var staleReads: Int
        /// P(the read returned the latest acknowledged value); nil when no read fell in the bin.
        public var freshProbability: Double?
    }

    public struct NodeUsage: Codable, Sendable {
        public var node: String
        /// CPU the node used during the setting, in cores (CPU seconds / wall seconds).
        public var cpuCores: Double
        public var residentMiB: Double
        public var paused: Bool
    }

    /// `quorumkv` or `redis` (the reference).
    public var target: String
    public var nodes: Int
    public var workload: String
    public var distribution: String
    public var n: Int?
    public var w: Int?
    public var r: Int?
    /// Ids of nodes paused (SIGSTOP) during the setting; empty with no fault.
    public var pausedNodes: [String]
    public var connections: Int
    /// Target rate in operations per second (open loop), nil for closed loop.
    public var targetRate: Double?
    public var seconds: Double
    /// Operations per second that succeeded.
    public var throughput: Double
    public var succeeded: Int
    public var failed: Int
    /// succeeded / (succeeded + failed).
    public var availability: Double
    public var errors: [String: Int]
    /// The first measured error's text (see `LoadOutcome.firstError`), nil with no error.
    public var firstError: String?
    public var latency: LatencySummary
    public var readLatency: LatencySummary?
    public var updateLatency: LatencySummary?
    public var rmwLatency: LatencySummary?
    public var readsChecked: Int
    public var staleReads: Int
    public var staleFraction: Double
    public var siblingsSeen: Int
    public var unversionedReads: Int
    /// Reads that found no value: expected in the cache workload (expired keys), not errors.
    public var readMisses: Int
    public var pbs: [PBSPoint]
    public var nodeUsage: [NodeUsage]
    /// CPU of the harness itself during the setting, in cores: it shares the machine.
    public var clientCPUCores: Double
    /// Throughput and p99 over the reference's (redis-server, same workload, same run).
    public var throughputRatioToReference: Double?
    public var p99RatioToReference: Double?
    /// `strong` for a strong workload (a strongly consistent bucket: no w or r; `n` is the
    /// bucket's), nil for an eventual one.
    public var consistency: String? = nil
    /// The `cas` workload's compare-and-sets whose condition failed because another client
    /// changed the key after the read (answered nil): counted among the successes, since
    /// the server answered, and here; nil for other workloads.
    public var casConflicts: Int? = nil

    public var settingLabel: String {
        if consistency == "strong" { return "n=\(n ?? 0) strong" + (pausedNodes.isEmpty ? "" : " paused") }
        if let w, let r, let n { return "n=\(n) w=\(w) r=\(r)" + (pausedNodes.isEmpty ? "" : " paused") }
        return target
    }

    public var shortLabel: String {
        if consistency == "strong" { return "strong" + (pausedNodes.isEmpty ? "" : "*") }
        if let w, let r { return "w\(w)r\(r)" + (pausedNodes.isEmpty ? "" : "*") }
        return target
    }

    public var quorumsOverlap: Bool {
        guard let n, let w, let r else { return true }
        return w + r > n
    }
}
