import Metrics
import Prometheus
import Synchronization

/// The process-wide swift-metrics backend: a Prometheus registry that `MetricsSystem`
/// is bootstrapped with, once per process, so libraries that record through swift-metrics
/// show up on `/metrics` too. QuorumKV's own request metrics live in `NodeMetrics`, one
/// registry per node, so several nodes (or test servers) in one process keep separate counts.
public enum ProcessMetrics {
    private static let state = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The bootstrapped registry; nil until `bootstrap()` ran.
    public static var registry: PrometheusCollectorRegistry? { state.withLock { $0 } }

    /// Bootstraps `MetricsSystem` with a Prometheus factory the first time it is called;
    /// later calls return the same registry. Safe from any thread. Nothing else in the
    /// process may bootstrap `MetricsSystem` (swift-metrics allows one bootstrap).
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        state.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: created))
            registry = created
            return created
        }
    }
}
