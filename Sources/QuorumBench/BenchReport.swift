import Foundation

/// The whole run: how it was configured and every setting's result. Written as JSON and CSV;
/// the terminal table and the plots are drawn from it.
public struct BenchReport: Codable, Sendable {
    public struct Setup: Codable, Sendable {
        public var workloads: [String]
        public var distribution: String
        public var records: Int
        public var valueSize: Int
        public var connections: Int
        public var secondsPerSetting: Double
        public var operationsPerSetting: Int?
        public var warmupSeconds: Double
        public var targetRate: Double?
        public var nodes: Int
        public var n: Int
        public var sync: String
        public var requestTimeoutMs: Int
        public var reference: String
        public var redisVersion: String?
        public var cores: Int
        /// The cache workload's expiry (`CacheExpiry`); nil when the run has no cache workload.
        public var cacheTTLSeconds: Int?
        public var cacheShortTTLSeconds: Int?
        public var cacheShortTTLShare: Double?
        /// True when the run spoke RESP over TLS to a cluster with TLS on every port (`--tls`).
        public var tls: Bool?
    }

    public var startedAt: String
    public var setup: Setup
    public var results: [SettingResult]

    public init(startedAt: Date, configuration c: BenchConfiguration, redisVersion: String?, results: [SettingResult]) {
        let formatter = ISO8601DateFormatter()
        self.startedAt = formatter.string(from: startedAt)
        setup = Setup(
            workloads: c.workloads.map(\.rawValue), distribution: c.distribution.rawValue, records: c.recordCount,
            valueSize: c.valueSize, connections: c.connections, secondsPerSetting: c.durationSeconds,
            operationsPerSetting: c.operations, warmupSeconds: c.warmupSeconds, targetRate: c.targetRate,
            nodes: c.endpoints.isEmpty ? c.nodeCount : c.endpoints.count, n: c.n, sync: c.sync,
            requestTimeoutMs: c.requestTimeoutMs, reference: c.reference.rawValue, redisVersion: redisVersion,
            cores: ProcessInfo.processInfo.activeProcessorCount)
        if c.tls { setup.tls = true }
        if c.workloads.contains(where: \.setsExpiry) {
            setup.cacheTTLSeconds = c.expiry.ttlSeconds
            setup.cacheShortTTLSeconds = c.expiry.shortTTLSeconds
            setup.cacheShortTTLShare = c.expiry.shortTTLSeconds == nil ? nil : c.expiry.shortShare
        }
        self.results = results
    }

    /// Each QuorumKV result's throughput and p99 over the redis-server result of the same
    /// workload from the same run.
    static func withRatios(_ results: [SettingResult]) -> [SettingResult] {
        var references: [String: SettingResult] = [:]
        for result in results where result.target == BenchTarget.Kind.redis.rawValue {
            references[result.workload] = result
        }
        return results.map { result in
            var result = result
            if result.target == BenchTarget.Kind.quorumkv.rawValue, let reference = references[result.workload] {
                if reference.throughput > 0 { result.throughputRatioToReference = result.throughput / reference.throughput }
                if reference.latency.p99 > 0 { result.p99RatioToReference = result.latency.p99 / reference.latency.p99 }
            }
            return result
        }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static let csvHeader = [
        "target", "nodes", "workload", "distribution", "n", "w", "r", "paused", "connections", "target_rate", "seconds",
        "throughput", "succeeded", "failed", "availability", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
        "read_p99_ms", "update_p99_ms", "rmw_p99_ms", "reads_checked", "stale_reads", "stale_fraction",
        "siblings_seen", "errors", "throughput_ratio_to_redis", "p99_ratio_to_redis", "node_cpu_cores",
        "node_rss_mib", "client_cpu_cores", "consistency", "cas_conflicts", "read_misses", "first_error",
    ].joined(separator: ",")

    /// A CSV field in double quotes, its quotes doubled (RFC 4180): error texts hold commas.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public func csv() -> String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.4g", $0) } ?? "" }
        var lines = [Self.csvHeader]
        for r in results {
            let errors = r.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
            let fields: [String] = [
                r.target, String(r.nodes), r.workload, r.distribution, r.n.map(String.init) ?? "",
                r.w.map(String.init) ?? "", r.r.map(String.init) ?? "", r.pausedNodes.joined(separator: ";"),
                String(r.connections), number(r.targetRate), number(r.seconds), number(r.throughput),
                String(r.succeeded), String(r.failed), number(r.availability), number(r.latency.p50),
                number(r.latency.p90), number(r.latency.p99), number(r.latency.p999), number(r.latency.max),
                number(r.readLatency?.p99), number(r.updateLatency?.p99), number(r.rmwLatency?.p99),
                String(r.readsChecked), String(r.staleReads), number(r.staleFraction), String(r.siblingsSeen), errors,
                number(r.throughputRatioToReference), number(r.p99RatioToReference),
                r.nodeUsage.map { String(format: "%.2f", $0.cpuCores) }.joined(separator: ";"),
                r.nodeUsage.map { String(format: "%.0f", $0.residentMiB) }.joined(separator: ";"),
                number(r.clientCPUCores), r.consistency ?? "eventual", r.casConflicts.map(String.init) ?? "",
                String(r.readMisses), r.firstError.map(Self.quoted) ?? "",
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
