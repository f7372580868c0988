/// Runs seeds one after another from `first`, the loop behind `quorumkv-sim --seeds` and
/// `--seconds`. The simulator reads no clock (a run must replay from its seed alone), so a
/// time budget comes in as a predicate the caller backs with one, asked between seeds.
public struct SeedSweep {
    public var first: UInt64
    public var config: SimulationConfig

    public init(first: UInt64 = 1, config: SimulationConfig = SimulationConfig()) {
        self.first = first
        self.config = config
    }

    /// What the caller sees as the sweep goes: each seed before it runs (so a trap can be
    /// pinned on it), each report after (so failures print at once, not at the end).
    public struct Observer {
        public var willRun: (UInt64) -> Void
        public var didRun: (SimulationReport) -> Void

        public init(willRun: @escaping (UInt64) -> Void = { _ in }, didRun: @escaping (SimulationReport) -> Void = { _ in }) {
            self.willRun = willRun
            self.didRun = didRun
        }
    }

    /// Runs `count` seeds.
    public func run(count: UInt64, observer: Observer = Observer()) -> SweepSummary {
        run(limit: count, isOver: { false }, observer: observer)
    }

    /// Runs seeds until `isOver` holds. It is asked before each seed, so a seed once begun
    /// finishes, and at least one seed runs unless it holds from the start.
    public func run(until isOver: () -> Bool, observer: Observer = Observer()) -> SweepSummary {
        run(limit: nil, isOver: isOver, observer: observer)
    }

    /// How a sweep reports a failing seed: the first violation, then the command that replays it.
    public func failureLines(for report: SimulationReport) -> String {
        let checks = report.failedChecks.map(\.rawValue).joined(separator: ",")
        return """
            seed \(report.seed) (\(report.mix.rawValue)) FAILED (\(checks)): \(report.violations[0])
              replay: quorumkv-sim --seed \(report.seed)\(config.replayFlags)

            """
    }

    private func run(limit: UInt64?, isOver: () -> Bool, observer: Observer) -> SweepSummary {
        var summary = SweepSummary(first: first)
        var seed = first
        while summary.seeds < limit ?? .max, !isOver() {
            observer.willRun(seed)
            let report = Simulation.run(seed: seed, config: config)
            summary.add(report)
            observer.didRun(report)
            guard seed < UInt64.max else { break }
            seed += 1
        }
        return summary
    }
}
