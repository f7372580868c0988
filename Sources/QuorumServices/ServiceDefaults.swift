import QuorumCore

/// The node's defaults for what drives its services, in one place: the real node's
/// config starts from them and the simulator runs with them (scaled only where it says so).
public enum ServiceDefaults {
    /// Gossip rounds; the failure detector is tuned for 500 ms.
    public static let gossipIntervalMilliseconds = 500
    /// How often a node tries to deliver the hints it holds.
    public static let hintDeliveryIntervalMilliseconds = 500
    /// One anti-entropy exchange (one partition with one peer) per interval: its rate limit.
    public static let antiEntropyIntervalMilliseconds = 1000
    /// How late a request's deadline may fire: a request that gets too few answers fails
    /// no sooner than its timeout and at most this much after it (plus however late its
    /// event loop runs). The request driver bounds its waiting requests with one timer
    /// (`DeadlineSweep`), so deadlines this close share a tick.
    public static let requestDeadlineGranularityMilliseconds = 5
    /// Replica plans a request driver keeps (one per partition, `n` and sloppiness in use),
    /// rebuilt when the ring or the unreachable peers change. 64 partitions with a few
    /// distinct `n` need a few hundred; past the bound plans share slots and are rebuilt
    /// more often, never wrong.
    public static let replicaPlansCachedMax = 1024
    /// Share of reads that repair stale replicas afterwards: 1 always, 0 never.
    public static let readRepairProbability: Double = 1
    /// Hint bounds; a failed delivery backs off at most 5 s so a returning node drains soon.
    public static let hintLimits: HintLimits = {
        var limits = HintLimits.defaults
        limits.backoffMaxMilliseconds = 5000
        return limits
    }()
}
