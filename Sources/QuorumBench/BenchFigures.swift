import Foundation

/// The plots of a run, per workload: throughput and p99 per setting (with and without a
/// paused node, and redis-server beside them), latency CDFs, and the stale-read
/// probability against the time since the write was acknowledged.
public enum BenchFigures {
    /// File name to SVG text.
    public static func render(_ report: BenchReport) -> [(name: String, svg: String)] {
        var figures: [(String, String)] = []
        for workload in report.setup.workloads {
            let results = report.results.filter { $0.workload == workload }
            let healthy = results.filter { $0.target == "quorumkv" && $0.pausedNodes.isEmpty }
            let paused = results.filter { $0.target == "quorumkv" && !$0.pausedNodes.isEmpty }
            let reference = results.first { $0.target == "redis" }
            guard !healthy.isEmpty else { continue }
            var categories = healthy.map(\.shortLabel)
            if reference != nil { categories.append("redis") }
            func values(_ pick: (SettingResult) -> Double) -> [(name: String, values: [Double?])] {
                var series: [(name: String, values: [Double?])] = [
                    ("no fault", healthy.map { pick($0) } + (reference.map { [pick($0)] } ?? []))
                ]
                if !paused.isEmpty {
                    let byLabel = Dictionary(paused.map { ("w\($0.w ?? 0)r\($0.r ?? 0)", $0) }, uniquingKeysWith: { a, _ in a })
                    series.append(("1 node paused", healthy.map { byLabel[$0.shortLabel].map(pick) }))
                }
                return series
            }
            let setting = "\(report.setup.nodes) nodes, n=\(report.setup.n), workload \(workload)"
            figures.append((
                "\(workload)-throughput.svg",
                SVGPlot.bars(
                    title: "Throughput per setting (\(setting))", categories: categories,
                    series: values(\.throughput), yLabel: "operations/s")
            ))
            figures.append((
                "\(workload)-p99.svg",
                SVGPlot.bars(
                    title: "p99 latency per setting (\(setting))", categories: categories, series: values { $0.latency.p99 },
                    yLabel: "p99 latency (ms)")
            ))
            let cdfSeries = (healthy + (reference.map { [$0] } ?? [])).map { result in
                SVGPlot.Series(name: result.shortLabel, points: result.latency.cdf.map { ($0.ms, $0.fraction) })
            }
            figures.append((
                "\(workload)-latency-cdf.svg",
                SVGPlot.lines(
                    title: "Latency CDF (\(setting))", series: cdfSeries, xLabel: "latency (ms, log scale)",
                    yLabel: "fraction of operations", logX: true, yMax: 1)
            ))
            let staleSeries = healthy.filter { $0.readsChecked > 0 }.map { result in
                SVGPlot.Series(
                    name: result.shortLabel,
                    points: result.pbs.compactMap { point in
                        guard let fresh = point.freshProbability, let upper = point.toMs else { return nil }
                        return (upper, 1 - fresh)
                    })
            }
            if !staleSeries.isEmpty {
                figures.append((
                    "\(workload)-staleness.svg",
                    SVGPlot.lines(
                        title: "P(stale read) by time since the write was acked (\(setting))", series: staleSeries,
                        xLabel: "read began within t ms of the key's latest acknowledged write (bin upper edge, log)",
                        yLabel: "P(stale)", logX: true)
                ))
            }
        }
        return figures
    }
}
