extension SettingResult {
    /// Summarises a load run into the reported figures.
    init(
        outcome: LoadOutcome, target: BenchTarget.Kind, nodes: Int, workload: Workload, distribution: KeyDistribution,
        setting: QuorumSetting?, pausedNodes: [String], connections: Int, targetRate: Double?,
        nodeUsage: [NodeUsage], clientCPUCores: Double
    ) {
        let succeeded = outcome.succeededTotal
        let failed = outcome.errorTotal
        let edges = StalenessTracker.pbsEdgesMs
        let pbs = (0...edges.count).map { bin -> PBSPoint in
            let reads = outcome.pbsReads[bin]
            let stale = outcome.pbsStale[bin]
            return PBSPoint(
                fromMs: bin == 0 ? 0 : edges[bin - 1], toMs: bin < edges.count ? edges[bin] : nil, reads: reads,
                staleReads: stale, freshProbability: reads == 0 ? nil : Double(reads - stale) / Double(reads))
        }
        func summary(_ kind: OperationKind) -> LatencySummary? { outcome.byKind[kind].map(LatencySummary.init) }
        self.init(
            target: target.rawValue, nodes: nodes, workload: workload.rawValue, distribution: distribution.rawValue,
            n: setting?.n, w: setting?.w, r: setting?.r, pausedNodes: pausedNodes, connections: connections,
            targetRate: targetRate, seconds: outcome.measuredSeconds,
            throughput: Double(succeeded) / outcome.measuredSeconds, succeeded: succeeded, failed: failed,
            availability: succeeded + failed == 0 ? 0 : Double(succeeded) / Double(succeeded + failed),
            errors: outcome.errors, firstError: outcome.firstError, latency: LatencySummary(outcome.all), readLatency: summary(.read),
            updateLatency: summary(.update), rmwLatency: summary(.readModifyWrite), readsChecked: outcome.readsChecked,
            staleReads: outcome.staleReads,
            staleFraction: outcome.readsChecked == 0 ? 0 : Double(outcome.staleReads) / Double(outcome.readsChecked),
            siblingsSeen: outcome.siblingsSeen, unversionedReads: outcome.unversionedReads,
            readMisses: outcome.readMisses, pbs: pbs,
            nodeUsage: nodeUsage, clientCPUCores: clientCPUCores, throughputRatioToReference: nil,
            p99RatioToReference: nil)
    }
}
