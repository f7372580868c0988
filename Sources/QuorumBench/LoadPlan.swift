/// Everything one load-generator run needs: what to talk to, what to do, for how long.
public struct LoadPlan: Sendable {
    public var target: BenchTarget
    public var workload: Workload
    public var distribution: KeyDistribution
    public var recordCount: Int
    public var valueSize: Int
    public var connections: Int
    /// Seconds of measured load (after the warm-up); ignored when `operations` is set.
    public var durationSeconds: Double
    /// Measured operations to issue instead of a duration.
    public var operations: Int?
    /// Seconds of load before measuring, not recorded.
    public var warmupSeconds: Double
    /// Operations per second, issued on a fixed schedule whatever the replies do (open loop:
    /// latency counts from when an operation was due, so a stall shows as latency instead
    /// of silently slowing the client — no coordinated omission). nil: closed loop, each
    /// connection sends its next operation when the last one is answered.
    public var targetRate: Double?
    /// The consistency setting sent with every QuorumKV command; nil for redis-server.
    public var setting: QuorumSetting?
    /// Server-side `TIMEOUT` of each QuorumKV command, in milliseconds. The client gives up
    /// on a reply one second after that.
    public var requestTimeoutMs: Int
    public var seed: UInt64
    /// Indices of `target.endpoints` not to connect to (a paused node: a client would not
    /// pick a node that doesn't answer).
    public var excludedEndpoints: Set<Int>
    /// A short name for progress lines.
    public var label: String
    /// The expiry of the cache workload's SETs; unused by the other workloads.
    public var expiry: CacheExpiry

    public init(
        target: BenchTarget, workload: Workload, distribution: KeyDistribution, recordCount: Int, valueSize: Int,
        connections: Int, durationSeconds: Double, operations: Int? = nil, warmupSeconds: Double, targetRate: Double?,
        setting: QuorumSetting?, requestTimeoutMs: Int, seed: UInt64, excludedEndpoints: Set<Int> = [], label: String,
        expiry: CacheExpiry = CacheExpiry()
    ) {
        self.target = target
        self.workload = workload
        self.distribution = distribution
        self.recordCount = recordCount
        self.valueSize = valueSize
        self.connections = connections
        self.durationSeconds = durationSeconds
        self.operations = operations
        self.warmupSeconds = warmupSeconds
        self.targetRate = targetRate
        self.setting = setting
        self.requestTimeoutMs = requestTimeoutMs
        self.seed = seed
        self.excludedEndpoints = excludedEndpoints
        self.label = label
        self.expiry = expiry
    }

    /// Endpoints the run connects to, in order; connection i uses the (i mod count)-th.
    public var liveEndpoints: [BenchTarget.Endpoint] {
        target.endpoints.enumerated().filter { !excludedEndpoints.contains($0.offset) }.map(\.element)
    }
}
