/// Decides, from heartbeat arrival times alone, how likely it is that each peer is down.
///
/// A phi accrual detector: instead of a fixed timeout it keeps a window of recent
/// heartbeat intervals per node and reports phi, the suspicion level, which rises the
/// longer a heartbeat is overdue relative to that history. So a peer on a jittery path is
/// given more slack than one whose heartbeats run like a clock. Time comes in as
/// milliseconds from the shell (use a monotonic clock); the detector reads none itself.
///
/// Nodes never heard of (and not watched) have phi 0 and count as available: the
/// detector only knows what it is told. `watch` starts the clock on a node that has not
/// sent anything yet, so a peer that is dead from the start is still marked down.
public struct FailureDetector: Sendable, Equatable {
    public let settings: FailureDetectorSettings
    private var histories: [String: HeartbeatHistory] = [:]

    public init(settings: FailureDetectorSettings = .defaults) {
        precondition(
            settings.sampleWindowCount >= 2, "the sample window needs at least 2 intervals, got \(settings.sampleWindowCount)")
        precondition(settings.threshold > 0, "the phi threshold must be positive, got \(settings.threshold)")
        precondition(settings.firstHeartbeatEstimateMilliseconds > 0, "the first heartbeat estimate must be positive")
        self.settings = settings
    }

    /// Records a heartbeat from `node` at `atMilliseconds`. Returns false when it was
    /// ignored because `nodesMax` nodes are already tracked.
    ///
    /// The interval since the previous heartbeat joins the history only if the node was
    /// still available when this one arrived: the gap of an outage (or a stop) says
    /// nothing about normal arrivals and would blunt detection for the next 200 intervals.
    /// Either way the node is available again at once.
    @discardableResult
    public mutating func heartbeat(from node: String, atMilliseconds now: UInt64) -> Bool {
        guard var history = histories[node] else {
            guard histories.count < settings.nodesMax else { return false }
            histories[node] = HeartbeatHistory(settings: settings, lastMilliseconds: now, heard: true)
            return true
        }
        if history.heard, now > history.lastMilliseconds, phi(history, nowMilliseconds: now) < settings.threshold {
            history.add(intervalMilliseconds: Double(now - history.lastMilliseconds), window: settings.sampleWindowCount)
        }
        history.lastMilliseconds = max(history.lastMilliseconds, now)
        history.heard = true
        histories[node] = history
        return true
    }

    /// Starts watching `node` as if it had been heard from at `nowMilliseconds`, so it is
    /// marked down if it never sends a heartbeat. Does nothing for a node already tracked.
    public mutating func watch(_ node: String, nowMilliseconds now: UInt64) {
        guard histories[node] == nil, histories.count < settings.nodesMax else { return }
        histories[node] = HeartbeatHistory(settings: settings, lastMilliseconds: now, heard: false)
    }

    /// Forgets `node` (it left the cluster); it reads as available again, like any unknown node.
    public mutating func remove(_ node: String) {
        histories[node] = nil
    }

    /// Tracked nodes, sorted by id.
    public var trackedNodes: [String] { histories.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }

    /// The suspicion that `node` is down: −log10 of the probability that its next heartbeat
    /// is still to come this long after the last one. 0 for a node not tracked.
    public func phi(of node: String, nowMilliseconds now: UInt64) -> Double {
        guard let history = histories[node] else { return 0 }
        return phi(history, nowMilliseconds: now)
    }

    /// Whether `node` should be treated as up: phi below the threshold.
    public func isAvailable(_ node: String, nowMilliseconds now: UInt64) -> Bool {
        phi(of: node, nowMilliseconds: now) < settings.threshold
    }

    /// Every tracked node's phi and verdict, sorted by node id (for status pages and logs).
    public func statuses(nowMilliseconds now: UInt64) -> [NodeHealth] {
        trackedNodes.map { node in
            let history = histories[node]!
            let value = phi(history, nowMilliseconds: now)
            return NodeHealth(
                node: node, phi: value, isAvailable: value < settings.threshold,
                millisecondsSinceHeartbeat: now > history.lastMilliseconds ? now - history.lastMilliseconds : 0,
                heard: history.heard, meanIntervalMilliseconds: history.mean)
        }
    }

    /// Phi from a normal distribution fitted to the intervals, using the logistic
    /// approximation of its tail that Akka uses (error below 1e-4 in the CDF):
    /// P(later) ≈ 1 / (1 + e^z), z = y(1.5976 + 0.070566 y²), y = (t − μ)/σ,
    /// so phi = log10(1 + e^z), computed so that neither branch overflows.
    private func phi(_ history: HeartbeatHistory, nowMilliseconds now: UInt64) -> Double {
        let elapsed = now > history.lastMilliseconds ? Double(now - history.lastMilliseconds) : 0
        let mean = history.mean + Double(settings.acceptableHeartbeatPauseMilliseconds)
        let deviation = max(history.standardDeviation, Double(settings.minimumStandardDeviationMilliseconds), 1)
        let y = (elapsed - mean) / deviation
        let z = y * (1.5976 + 0.070566 * y * y)
        if z > 0 {
            return z / Elementary.ln10 + Elementary.log10(1 + Elementary.exp(-z))
        }
        return Elementary.log10(1 + Elementary.exp(z))
    }
}

/// One node's verdict at one moment, as the detector sees it.
public struct NodeHealth: Sendable, Equatable {
    public var node: String
    public var phi: Double
    public var isAvailable: Bool
    public var millisecondsSinceHeartbeat: UInt64
    /// False while the node is only watched: nothing has been heard from it yet.
    public var heard: Bool
    /// The mean of the remembered intervals (the first estimate until heartbeats replace it).
    public var meanIntervalMilliseconds: Double
}

/// The last heartbeat time and a sliding window of intervals, with running sums so mean
/// and variance cost O(1) per heartbeat.
struct HeartbeatHistory: Sendable, Equatable {
    var lastMilliseconds: UInt64
    var heard: Bool
    private var intervals: [Double] = []
    private var oldest = 0
    private var sum = 0.0
    private var sumOfSquares = 0.0

    init(settings: FailureDetectorSettings, lastMilliseconds: UInt64, heard: Bool) {
        self.lastMilliseconds = lastMilliseconds
        self.heard = heard
        intervals.reserveCapacity(min(settings.sampleWindowCount, 256))
        // Akka's seeding: mean = estimate, σ = estimate/4.
        let estimate = Double(settings.firstHeartbeatEstimateMilliseconds)
        add(intervalMilliseconds: estimate - estimate / 4, window: settings.sampleWindowCount)
        add(intervalMilliseconds: estimate + estimate / 4, window: settings.sampleWindowCount)
    }

    mutating func add(intervalMilliseconds interval: Double, window: Int) {
        if intervals.count < window {
            intervals.append(interval)
        } else {
            let dropped = intervals[oldest]
            sum -= dropped
            sumOfSquares -= dropped * dropped
            intervals[oldest] = interval
            oldest = (oldest + 1) % window
        }
        sum += interval
        sumOfSquares += interval * interval
    }

    var mean: Double { sum / Double(intervals.count) }

    var standardDeviation: Double {
        let mean = self.mean
        let variance = sumOfSquares / Double(intervals.count) - mean * mean
        return variance > 0 ? variance.squareRoot() : 0
    }
}
