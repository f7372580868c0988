/// What a set of runs exercised, summed over their reports: the `events` object of
/// `quorumkv-sim --summary-json`, so a soak can show it covered each kind of fault.
public struct EventTotals: Sendable, Equatable, Codable {
    public var requests = 0
    public var crashes = 0
    public var partitions = 0
    public var joins = 0
    public var leaves = 0
    public var storeErrors = 0
    public var wipedDisks = 0

    public init() {}

    public mutating func add(_ report: SimulationReport) {
        requests += report.requests
        crashes += report.crashes
        partitions += report.partitions
        joins += report.joins
        leaves += report.leaves
        storeErrors += report.storeErrors
        wipedDisks += report.wipedDisks
    }
}
