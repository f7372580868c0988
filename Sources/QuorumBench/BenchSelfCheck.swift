/// The checks `--quick` runs on its own report (what CI relies on): every setting of the
/// sweep reported for every workload (a strong workload once), no negative or non-finite
/// figure, something succeeded, and no stale read where the quorums overlap (w + r > n)
/// or the bucket is strong, and nothing was paused.
public enum BenchSelfCheck {
    public static func problems(in report: BenchReport, expected settings: [QuorumSetting]) -> [String] {
        var problems: [String] = []
        for workload in report.setup.workloads {
            if (try? Workload.parse(workload))?.isStrong == true {
                // Run once, in the strong bucket, whatever the sweep.
                let found = report.results.contains {
                    $0.target == "quorumkv" && $0.workload == workload && $0.consistency == "strong" && $0.pausedNodes.isEmpty
                }
                if !found { problems.append("workload \(workload) in the strong bucket: not reported") }
                continue
            }
            for setting in settings {
                let found = report.results.contains {
                    $0.target == "quorumkv" && $0.workload == workload && $0.n == setting.n && $0.w == setting.w
                        && $0.r == setting.r && $0.pausedNodes.isEmpty
                }
                if !found { problems.append("workload \(workload) \(setting): not reported") }
            }
        }
        for result in report.results {
            let name = "\(result.workload) \(result.settingLabel)"
            for (label, value) in figures(of: result) where !value.isFinite || value < 0 {
                problems.append("\(name): \(label) is \(value)")
            }
            if result.succeeded == 0 { problems.append("\(name): no operation succeeded") }
            if result.pausedNodes.isEmpty && result.quorumsOverlap && result.staleReads > 0 {
                problems.append(
                    "\(name): \(result.staleReads) stale reads of \(result.readsChecked) with w + r > n and no fault")
            }
            if result.target == "quorumkv" && result.readsChecked == 0 && !["W", Workload.strongWrite.rawValue].contains(result.workload) {
                problems.append("\(name): no read was checked for staleness")
            }
            if let conflicts = result.casConflicts, conflicts > result.succeeded {
                problems.append("\(name): \(conflicts) compare-and-set conflicts, more than the \(result.succeeded) operations answered")
            }
        }
        return problems
    }

    static func figures(of r: SettingResult) -> [(String, Double)] {
        var list: [(String, Double)] = [
            ("throughput", r.throughput), ("seconds", r.seconds), ("availability", r.availability),
            ("stale fraction", r.staleFraction), ("client CPU", r.clientCPUCores),
            ("succeeded", Double(r.succeeded)), ("failed", Double(r.failed)),
        ]
        for (name, summary) in [("latency", r.latency), ("read", r.readLatency), ("update", r.updateLatency), ("rmw", r.rmwLatency)] {
            guard let summary else { continue }
            list += [
                ("\(name) mean", summary.mean), ("\(name) p50", summary.p50), ("\(name) p90", summary.p90),
                ("\(name) p99", summary.p99), ("\(name) p99.9", summary.p999), ("\(name) max", summary.max),
            ]
        }
        for point in r.pbs { if let fresh = point.freshProbability { list.append(("P(fresh) from \(point.fromMs) ms", fresh)) } }
        for usage in r.nodeUsage { list += [("\(usage.node) CPU", usage.cpuCores), ("\(usage.node) RSS", usage.residentMiB)] }
        if let ratio = r.throughputRatioToReference { list.append(("throughput ratio", ratio)) }
        if let ratio = r.p99RatioToReference { list.append(("p99 ratio", ratio)) }
        return list
    }
}
