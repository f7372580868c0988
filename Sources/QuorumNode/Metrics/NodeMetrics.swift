import Prometheus
import QuorumCore
import Synchronization

/// One node's request metrics, in its own Prometheus registry, rendered by `GET /metrics`.
///
/// Each node owns one (tests run many nodes and servers in one process; a registry per
/// node keeps their counts apart). Labels come from small fixed sets, so the number of
/// series is bounded: `operation` is an `HTTPEndpoint.operationLabel` (or `unrouted`,
/// `malformed`), `status` an HTTP status code, `consistency` one of
/// `NodeMetrics.consistencyLabel`'s values.
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `quorumkv_http_requests_total` | counter | operation, status |
/// | `quorumkv_request_duration_seconds` | histogram | operation (get, put, delete), consistency |
/// | `quorumkv_quorum_failures_total` | counter | operation |
/// | `quorumkv_requests_in_flight` | gauge | — |
///
/// Hints, read repair, anti-entropy, members and storage come from the node's status at
/// scrape time (`StatusMetrics`); failed replica calls from `ReplicaCallMetrics`.
public final class NodeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The last minute's latencies per operation, for the status page.
    public let recent = RecentLatency()
    private let inFlight: Gauge

    /// Histogram buckets for request latency: 1 ms up to the longest request timeout (60 s).
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60),
    ]

    // Computed: `MetricNameDescriptor` is not `Sendable`, so it can't be a stored static.
    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "quorumkv", metricName: "http_requests", unitName: "total",
            helpText: "HTTP requests answered, by operation and status code.")
    }
    static var duration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "quorumkv", metricName: "request_duration", unitName: "seconds",
            helpText: "Time to answer a get, put or delete, by operation and the r or w the request asked for.")
    }
    static var quorumFailures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "quorumkv", metricName: "quorum_failures", unitName: "total",
            helpText: "Requests that failed with quorum_not_met, by operation.")
    }
    static var inFlightName: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "quorumkv", metricName: "requests_in_flight", unitName: "",
            helpText: "Key requests (get, put, delete, key listing) this node's HTTP server is serving now.")
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        inFlight = registry.makeGauge(descriptor: Self.inFlightName)
        // Quorum failures are rare: start their series at 0 so alerts on rate() see them.
        for operation in Self.quorumOperations { _ = registry.makeCounter(descriptor: Self.quorumFailures, labels: [("operation", operation)]) }
    }

    /// Operations that can fail with quorum_not_met.
    public static let quorumOperations = ["get", "put", "delete", "list_keys"]

    /// Counts one answered request.
    public func recordResponse(operation: String, status: UInt) {
        let key = SeriesKey(operation: operation, label: String(status))
        let counter = responseCounters.withLock { $0[key] } ?? responseCounters.withLock { counters in
            // The registry validates names and labels on every make; look each series up once.
            let made = registry.makeCounter(descriptor: Self.requests, labels: [("operation", operation), ("status", key.label)])
            counters[key] = made
            return made
        }
        counter.increment()
    }

    /// Records how long a get, put or delete took.
    public func recordDuration(operation: String, consistency: String, duration: Duration) {
        let key = SeriesKey(operation: operation, label: consistency)
        let histogram = durationHistograms.withLock { $0[key] } ?? durationHistograms.withLock { histograms in
            let made = registry.makeDurationHistogram(
                descriptor: Self.duration, labels: [("operation", operation), ("consistency", consistency)],
                buckets: Self.durationBuckets)
            histograms[key] = made
            return made
        }
        histogram.record(duration)
        recent.record(operation: operation, duration: duration)
    }

    /// One series of a labelled metric: the operation and its other label's value. The
    /// label sets are bounded (see the type's doc), so these maps are too.
    private struct SeriesKey: Hashable {
        var operation: String
        var label: String
    }

    private let responseCounters = Mutex<[SeriesKey: Counter]>([:])
    private let durationHistograms = Mutex<[SeriesKey: DurationHistogram]>([:])

    public func recordQuorumFailure(operation: String) {
        registry.makeCounter(descriptor: Self.quorumFailures, labels: [("operation", operation)]).increment()
    }

    public func requestStarted() { inFlight.increment() }
    public func requestFinished() { inFlight.decrement() }

    /// The `consistency` label for a request's r or w: the level as asked (`quorum`, `2`,
    /// …), `default` when the request named none (the bucket's default applies), and
    /// `invalid` past `replicasMax`, so a client cannot grow the series without bound.
    public static func consistencyLabel(_ level: ConsistencyLevel?, replicasMax: Int) -> String {
        guard let level else { return "default" }
        if case .count(let number) = level, number > replicasMax { return "invalid" }
        return level.description
    }

    /// Prometheus text exposition (format 0.0.4): this node's request metrics, its
    /// background work read from `status` (when given), then whatever was recorded through
    /// swift-metrics in the process (`ProcessMetrics`, `ReplicaCallMetrics`).
    public func exposition(status: NodeStatus? = nil) -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        if let status { buffer += Array(StatusMetrics.exposition(status).utf8) }
        if let process = ProcessMetrics.registry, process !== registry { process.emit(into: &buffer) }
        return buffer
    }
}
