import Foundation

/// The terminal table printed at the end of a run, and the one-line summary printed as each
/// setting finishes.
public enum BenchTable {
    public static func line(_ r: SettingResult) -> String {
        String(
            format: "%@ %-16@ %9.0f ops/s  p50 %6.2f  p99 %7.2f  p99.9 %7.2f ms  avail %.3f  stale %d/%d  misses %d  errors %@",
            r.workload, r.settingLabel, r.throughput, r.latency.p50, r.latency.p99, r.latency.p999, r.availability,
            r.staleReads, r.readsChecked, r.readMisses, errorText(r))
            + (r.casConflicts.map { "  cas conflicts \($0)" } ?? "")
            + (r.firstError.map { "  first error: \($0)" } ?? "")
    }

    static func errorText(_ r: SettingResult) -> String {
        r.errors.isEmpty ? "0" : r.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    public static func render(_ report: BenchReport) -> String {
        let header = [
            "wl", "setting", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "avail", "stale",
            "misses", "siblings", "P(fresh)<1ms", "×redis ops", "×redis p99", "node CPU", "errors",
        ]
        var rows: [[String]] = []
        for r in report.results {
            let fresh = r.pbs.first?.freshProbability.map { String(format: "%.3f", $0) } ?? "-"
            rows.append([
                r.workload, r.settingLabel, String(format: "%.0f", r.throughput), String(format: "%.2f", r.latency.p50),
                String(format: "%.2f", r.latency.p90), String(format: "%.2f", r.latency.p99),
                String(format: "%.2f", r.latency.p999), String(format: "%.2f", r.latency.max),
                String(format: "%.4f", r.availability), "\(r.staleReads)/\(r.readsChecked)",
                String(r.readMisses), String(r.siblingsSeen),
                fresh, r.throughputRatioToReference.map { String(format: "%.2f", $0) } ?? "-",
                r.p99RatioToReference.map { String(format: "%.2f", $0) } ?? "-",
                r.nodeUsage.map { String(format: "%.2f", $0.cpuCores) }.joined(separator: "/"), errorText(r),
            ])
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func format(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                index < 2 || index == row.count - 1
                    ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var lines = [format(header), format(widths.map { String(repeating: "-", count: $0) })]
        lines += rows.map(format)
        // Below the table: cas conflicts (answers, not errors); the errors column gives counts by kind, this says why.
        for r in report.results {
            if let conflicts = r.casConflicts {
                lines.append("cas conflicts, \(r.workload) \(r.settingLabel): \(conflicts) of \(r.succeeded) compare-and-sets found the key changed since their read")
            }
        }
        for r in report.results {
            if let firstError = r.firstError { lines.append("first error, \(r.workload) \(r.settingLabel): \(firstError)") }
        }
        return lines.joined(separator: "\n")
    }
}
