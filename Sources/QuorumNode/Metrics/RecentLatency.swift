import Synchronization

/// The latency of the last requests per operation, for the status page's "recent latency".
///
/// Prometheus histograms count since the process started, so a slow minute disappears in
/// a day of fast ones; people looking at `/` want what is happening now. This keeps the
/// last `samplesMax` durations of each operation and answers percentiles over those no
/// older than `window`. Bounded: at most `samplesMax` samples per operation, and
/// operations come from a fixed set (get, put, delete).
public final class RecentLatency: Sendable {
    /// How far back "recent" reaches.
    public static let window: Duration = .seconds(60)
    /// Samples kept per operation; under heavy load the window is the last this many requests.
    public static let samplesMax = 1024

    private struct Samples {
        var at: [ContinuousClock.Instant] = []
        var seconds: [Double] = []
        /// Where the next sample goes once the buffer is full.
        var next = 0

        mutating func add(_ instant: ContinuousClock.Instant, _ value: Double) {
            if at.count < RecentLatency.samplesMax {
                at.append(instant)
                seconds.append(value)
            } else {
                at[next] = instant
                seconds[next] = value
                next = (next + 1) % RecentLatency.samplesMax
            }
        }
    }

    private let state = Mutex<[String: Samples]>([:])

    public init() {}

    public func record(operation: String, duration: Duration, at instant: ContinuousClock.Instant = .now) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { $0[operation, default: Samples()].add(instant, seconds) }
    }

    /// One summary per operation that had a request in the window, sorted by operation.
    public func summaries(now: ContinuousClock.Instant = .now) -> [RecentLatencySummary] {
        let cutoff = now - Self.window
        let recent: [(String, [Double])] = state.withLock { operations in
            operations.map { operation, samples in
                (operation, zip(samples.at, samples.seconds).filter { $0.0 >= cutoff }.map(\.1))
            }
        }
        return recent.compactMap { operation, values in
            RecentLatencySummary(operation: operation, seconds: values)
        }.sorted { $0.operation < $1.operation }
    }
}

/// Percentiles of one operation's recent requests, in milliseconds.
public struct RecentLatencySummary: Sendable, Equatable {
    public var operation: String
    public var count: Int
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double

    public init(operation: String, count: Int, p50: Double, p95: Double, p99: Double, max: Double) {
        self.operation = operation
        self.count = count
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.max = max
    }

    /// Nearest-rank percentiles of `seconds`; nil when there are none.
    init?(operation: String, seconds: [Double]) {
        guard !seconds.isEmpty else { return nil }
        let sorted = seconds.sorted()
        func rank(_ fraction: Double) -> Double {
            let index = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))] * 1000
        }
        self.init(
            operation: operation, count: sorted.count, p50: rank(0.5), p95: rank(0.95), p99: rank(0.99),
            max: sorted[sorted.count - 1] * 1000)
    }
}
