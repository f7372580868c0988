import QuorumCore
import QuorumServices

/// Everything that shapes one simulated run besides its seed. The defaults are sized so a
/// debug build runs hundreds of seeds a minute: a few clients, a few operations each, a
/// few keys, so concurrent writes to one key are common.
public struct SimulationConfig: Sendable, Equatable {
    public var nodeCount = 5
    /// Nodes started outside the cluster (alone and empty, as `serve --join` starts one),
    /// which membership faults make join and leave. Clients never address them directly.
    public var spareNodeCount = 1
    /// Ring partitions; small so few partitions hold keys and repair cycles are short.
    public var partitionCount = 16
    /// The workload: clients, each issuing its requests one after another. 6 × 16 keeps
    /// clients busy through most of the 4 s fault window (a request and its think time take
    /// about 0.2 s), so late faults still meet traffic; most of a seed's cost is the repair
    /// after it, so 96 requests cost about a third more than 40 did.
    public var clientCount = 6
    public var operationsPerClient = 16
    /// Clients that, beside the others, write, read, delete and truncate a bucket of their
    /// own (`SimulatedBuckets.flushed`), checked by (i). Their requests are drawn after
    /// everything else, so a seed's other requests and faults don't depend on them.
    public var truncatingClients = 1
    /// Clients that, beside the others, update and read the typed buckets (a counter, a
    /// set, a map: `SimulatedBuckets.typedNames`), checked by (k), (l) and (a). Drawn after
    /// the truncating clients, so adding them leaves every other request and fault as it was.
    public var typedClients = 1
    /// Clients that, beside the others, read, write, delete and compare-and-set the keys
    /// of the strongly consistent bucket (`SimulatedBuckets.strong`, issue #17), each
    /// through the node's consensus path, checked for linearizability by (m). Drawn after
    /// the typed clients, so adding them leaves every other request and fault as it was.
    /// Two, so two proposers often work one key at once.
    public var strongClients = 2
    /// Keys of the strong bucket: few, so proposers contend, and each key's history stays
    /// small enough for the linearizability checker to decide within its budget.
    public var strongKeys = 2
    /// Keys per bucket.
    public var keysPerBucket = 2
    /// Whether the workload uses the `expiring` bucket (writes with short ttls, expiry
    /// changes; checked by `ExpiryCheck`). Off, plans are drawn exactly as before expiry
    /// existed, so the seeds kept as regression tests still replay their runs.
    public var expiryWorkload = true
    /// Faults; nil picks the seed's own mix (`FaultMix.forSeed`).
    public var faults: FaultMix?
    public var bug: InjectedBug = .none
    /// How long faults may be injected, from the start.
    public var faultWindowMilliseconds: UInt64 = 4000
    /// After faults heal: how long to run before checking whether repair is done, so
    /// failure detectors have seen healed peers (heartbeats every 500 ms, a peer flagged
    /// down 2–3.6 s after its last one).
    public var settleMilliseconds: UInt64 = 5000
    /// After faults heal: how long repair may take before check (a) fails.
    public var repairWindowMilliseconds: UInt64 = 40_000
    /// Anti-entropy tree shape and bounds: the node's defaults but a smaller tree, which
    /// holds the few keys of a run just as well and costs less per exchange.
    ///
    /// The tombstone grace is scaled down from a day to 15 s so purges happen within a run;
    /// the bounds it must exceed are scaled with it: hints live 12 s (`hintAgeMaxMilliseconds`;
    /// on the node 6 h of 24 h, here kept above the longest wait for delivery: faults until
    /// 6 s in, then failure detection and a delivery tick), outages last at most ~2 s.
    public var antiEntropyLimits: AntiEntropyLimits = {
        var limits = AntiEntropyLimits.defaults
        limits.segmentCount = 64
        limits.fanOut = 8
        limits.tombstoneGraceMilliseconds = 15_000
        return limits
    }()
    /// How long a stand-in keeps an undelivered hint (the node's 6 h, scaled with the grace).
    public var hintAgeMaxMilliseconds: UInt64 = 12_000
    /// Whether nodes purge tombstones (`TombstonePurgeRule`, as the node's purger does).
    public var purgesTombstones = true
    /// After healing, the run goes on until the grace plus this much has passed, so every
    /// owner's purge sweep (one partition a second, 3–4 partitions each) has run.
    public var purgeSweepMilliseconds: UInt64 = 6000
    /// Intervals of the node's timers: the node's defaults.
    public var gossipIntervalMilliseconds = UInt64(ServiceDefaults.gossipIntervalMilliseconds)
    public var hintDeliveryIntervalMilliseconds = UInt64(ServiceDefaults.hintDeliveryIntervalMilliseconds)
    public var antiEntropyIntervalMilliseconds = UInt64(ServiceDefaults.antiEntropyIntervalMilliseconds)
    /// Share of reads that repair afterwards: the node's default (always).
    public var readRepairProbability = ServiceDefaults.readRepairProbability
    /// Bound on scheduled events at once; a run past it is a simulator bug.
    public var eventsMax = 200_000
    /// Bound on events handled in one run.
    public var stepsMax = 5_000_000

    public init() {}

    public func mix(forSeed seed: UInt64) -> FaultMix { faults ?? FaultMix.forSeed(seed) }

    /// Client requests a drawn plan holds.
    public var requestsPerSeed: Int { (clientCount + truncatingClients + typedClients + strongClients) * operationsPerClient }
}
