/// Options of one `quorumkv bench` run (the command line fills it in).
public struct BenchConfiguration: Sendable {
    public enum Reference: String, Sendable {
        case none
        case redis
    }

    public var workloads: [Workload] = [.a]
    /// The cache workload's expiry (`--ttl`, `--short-ttl`, `--short-ttl-share`).
    public var expiry = CacheExpiry()
    public var distribution: KeyDistribution = .uniform
    public var recordCount = 10_000
    public var valueSize = 100
    public var connections = 50
    public var durationSeconds = 10.0
    public var operations: Int?
    public var warmupSeconds = 2.0
    public var targetRate: Double?
    /// Replicas per key for the sweep.
    public var n = 3
    /// (w, r) settings; empty means the default sweep for n.
    public var settings: [QuorumSetting] = []
    /// Nodes of the local cluster the harness starts (ignored with `endpoints`).
    public var nodeCount = 3
    /// Start the local cluster with TLS on every port (certificates made for the run) and
    /// speak RESP over TLS to it (`--tls`).
    public var tls = false
    /// RESP endpoints of a running cluster; empty: start a local one.
    public var endpoints: [BenchTarget.Endpoint] = []
    public var bucket: String?
    /// Repeat the sweep with one node paused (SIGSTOP), local clusters only.
    public var pauseNode = false
    /// Seconds between pausing the node and measuring, so the others' failure detectors see it.
    public var pauseSettleSeconds = 3.0
    public var reference: Reference = .none
    public var requestTimeoutMs = 2_000
    public var basePort = 17_000
    public var sync = "full"
    public var eventLoopThreads: Int?
    public var keepData = false
    public var seed: UInt64 = 42
    /// Folder for report.json, report.csv and the SVG plots; nil writes none.
    public var outputDirectory: String?
    public var executable: String = ""
    /// Check the run's own output (every setting reported, no negative or NaN figure, no
    /// stale reads where w + r > n without faults) and fail when it doesn't hold.
    public var selfCheck = false
    public var progress = true

    public init() {}

    /// `--quick`: what CI runs, about half a minute on a debug build: a 3-node cluster, the
    /// full sweep for n = 3 under workloads A and F, reads favouring fresh writes (`latest`).
    public static func quick() -> BenchConfiguration {
        var configuration = BenchConfiguration()
        configuration.workloads = [.a, .f]
        configuration.distribution = .latest
        configuration.recordCount = 1_000
        configuration.connections = 8
        configuration.durationSeconds = 1.5
        configuration.warmupSeconds = 0.3
        configuration.selfCheck = true
        return configuration
    }

    public var sweep: [QuorumSetting] { settings.isEmpty ? QuorumSetting.defaultSweep(n: n) : settings }
}
