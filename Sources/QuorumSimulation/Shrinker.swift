/// Makes a failing plan shorter while it still fails the same check: drops chunks of
/// steps (halves, then quarters, …, then single steps), keeping each removal after which
/// the run still breaks that check. The seed stays the same; so does the replay.
///
/// Bounded by `runsMax` runs, since each costs a whole simulation.
public enum Shrinker {
    public struct Result: Sendable {
        /// Numbers of the steps kept (see `SimulationPlan.stepCount`).
        public var kept: [Int]
        public var report: SimulationReport
        public var runs: Int
    }

    public static func shrink(
        seed: UInt64, config: SimulationConfig, failing report: SimulationReport, runsMax: Int = 150
    ) -> Result {
        guard let target = report.failedChecks.first else { return Result(kept: [], report: report, runs: 0) }
        let full = report.plan
        var kept = Array(0..<full.stepCount)
        var best = report
        var runs = 0
        var chunk = max(1, kept.count / 2)
        while runs < runsMax {
            var start = 0
            var removedAny = false
            while start < kept.count && runs < runsMax {
                let candidate = Array(kept[..<start] + kept[min(kept.count, start + chunk)...])
                runs += 1
                let trial = Simulation.run(seed: seed, config: config, plan: full.keeping(Set(candidate)))
                if trial.failedChecks.contains(target) {
                    kept = candidate
                    best = trial
                    removedAny = true
                } else {
                    start += chunk
                }
            }
            if chunk == 1 && !removedAny { break }
            chunk = max(1, chunk / 2)
        }
        return Result(kept: kept, report: best, runs: runs)
    }

    /// `0-3,7,9-12` for the steps 0,1,2,3,7,9,10,11,12.
    public static func ranges(_ steps: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = steps.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// Parses `ranges`' output; nil when it isn't one.
    public static func parseRanges(_ text: String) -> [Int]? {
        guard !text.isEmpty else { return [] }
        var steps: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = Int(bounds[0]), let high = Int(bounds.last!), low <= high, low >= 0 else { return nil }
            steps += Array(low...high)
        }
        return steps
    }
}
