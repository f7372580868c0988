/// What a run exercised (its report's `counts`), or a set of runs summed: the `events`
/// object of `quorumkv-sim --summary-json`, so a soak can show it covered each kind of fault.
public struct EventTotals: Sendable, Equatable, Codable {
    /// Client requests issued (the checker's final reads not included).
    public var requests = 0
    /// Crashes that took a node down (a crash of a node already down does nothing).
    public var crashes = 0
    /// Partitions and one-way cuts applied.
    public var partitions = 0
    /// Membership changes: a spare node joining, and leaving again.
    public var joins = 0
    public var leaves = 0
    /// Store errors that took effect (failed commits, writes a full disk refused), and disks
    /// wiped under a restarting node.
    public var storeErrors = 0
    public var wipedDisks = 0

    public init(
        requests: Int = 0, crashes: Int = 0, partitions: Int = 0, joins: Int = 0, leaves: Int = 0, storeErrors: Int = 0,
        wipedDisks: Int = 0
    ) {
        self.requests = requests
        self.crashes = crashes
        self.partitions = partitions
        self.joins = joins
        self.leaves = leaves
        self.storeErrors = storeErrors
        self.wipedDisks = wipedDisks
    }

    public mutating func add(_ other: EventTotals) {
        requests += other.requests
        crashes += other.crashes
        partitions += other.partitions
        joins += other.joins
        leaves += other.leaves
        storeErrors += other.storeErrors
        wipedDisks += other.wipedDisks
    }
}
