/// The knobs of the phi accrual failure detector, with defaults for heartbeats every 500 ms.
///
/// Phi is −log10 of the probability that a heartbeat still arrives this late, estimated
/// from the recent intervals as a normal distribution (Hayashibara et al. 2004, in the
/// form Akka and Cassandra use). A node is down while phi ≥ `threshold`.
///
/// With the defaults and a steady 500 ms heartbeat, phi crosses 8 about
/// `500 + acceptableHeartbeatPause + 5.2 × max(σ, minimumStandardDeviation)` ≈ 2.0 s after
/// the last heartbeat; irregular arrivals (σ up to ~400 ms, as when heartbeats arrive
/// second-hand through gossip) stretch that to ≈ 3.6 s. Both stay inside the 5 s within
/// which a killed node must be treated as down, while single heartbeats late by a second
/// are not taken for a failure.
public struct FailureDetectorSettings: Sendable, Equatable, Codable {
    /// Phi at and above which a node is down. 8 means "a heartbeat this late happens about
    /// once in 10^8 intervals": Akka's and Cassandra's default. Lower detects sooner and
    /// errs more often.
    public var threshold: Double = 8
    /// Intervals remembered per node; older ones drop out so the estimate follows a
    /// changing network, and memory stays bounded.
    public var sampleWindowCount: Int = 200
    /// Floor under the observed standard deviation. Perfectly regular heartbeats would
    /// otherwise make σ ≈ 0 and a few milliseconds of lateness look like a failure.
    public var minimumStandardDeviationMilliseconds: UInt64 = 100
    /// Lateness forgiven outright: added to the mean interval, so a pause this long (a
    /// busy event loop, a slow disk flush, a dropped gossip message) raises phi only a little.
    public var acceptableHeartbeatPauseMilliseconds: UInt64 = 1000
    /// The interval assumed before any is measured: the history starts with two samples,
    /// this ± a quarter, so a node heard from once (or only watched) has a sensible
    /// timeout. Set it to the shell's heartbeat interval.
    public var firstHeartbeatEstimateMilliseconds: UInt64 = 500
    /// Nodes tracked at most; heartbeats from further nodes are ignored (reported as such).
    public var nodesMax: Int = 1024

    public init() {}

    public static let defaults = FailureDetectorSettings()
}
