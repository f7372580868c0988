/// What a sweep covered: how many seeds, which failed, and totals over all of them.
public struct SweepSummary: Sendable {
    public let first: UInt64
    /// Seeds run.
    public private(set) var seeds: UInt64 = 0
    public private(set) var failedSeeds: [UInt64] = []
    /// Kept whole for `--shrink`; later failures keep only their seed, so a soak with a bug
    /// switched on does not hold every failing history.
    public private(set) var firstFailure: SimulationReport?
    /// Events the simulator handled, over all runs.
    public private(set) var events = 0
    public private(set) var totals = EventTotals()

    public init(first: UInt64) {
        self.first = first
    }

    public var passed: Bool { failedSeeds.isEmpty }

    public mutating func add(_ report: SimulationReport) {
        seeds += 1
        events += report.events
        totals.add(report.counts)
        guard !report.passed else { return }
        failedSeeds.append(report.seed)
        if firstFailure == nil { firstFailure = report }
    }

    /// The closing line: `seeds 1...500: 498 passed, 2 failed, 2000000 events`. A time-bounded
    /// sweep passes its budget, which the line then names next to the seed count.
    public func render(seconds: Int? = nil) -> String {
        let range = seeds == 0 ? "no seeds" : "seeds \(first)...\(first + (seeds - 1))"
        let budget = seconds.map { " (\(seeds) in \($0) s)" } ?? ""
        return "\(range)\(budget): \(seeds - UInt64(failedSeeds.count)) passed, \(failedSeeds.count) failed, \(events) events"
    }

    /// The `--summary-json` document.
    public var document: Document {
        Document(seeds: seeds, failed: failedSeeds.count, events: totals)
    }

    /// `{"seeds": N, "failed": F, "events": {"requests": …, "crashes": …, …}}`.
    public struct Document: Sendable, Equatable, Codable {
        public var seeds: UInt64
        public var failed: Int
        public var events: EventTotals

        public init(seeds: UInt64, failed: Int, events: EventTotals) {
            self.seeds = seeds
            self.failed = failed
            self.events = events
        }
    }
}
