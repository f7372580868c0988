import Histogram

/// What one load-generator run measured, before it is summarised into a `SettingResult`.
public struct LoadOutcome: Sendable {
    /// Latencies in microseconds; highest trackable 60 s (larger values are clamped).
    public static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    public var measuredSeconds: Double = 0
    public var all = LoadOutcome.makeHistogram()
    public var byKind: [OperationKind: Histogram<UInt64>] = [:]
    public var succeeded: [OperationKind: Int] = [:]
    /// Measured operations that did not succeed, by kind: a server error's first word
    /// (`QUORUM`, `OVERLOADED`, …), or `timeout`, `connection`, `backlog_full`, `protocol`.
    public var errors: [String: Int] = [:]
    /// The text of the first measured error (a server's whole error line, or what the client
    /// saw), at most `firstErrorMaxLength` characters: a refusal such as `ERR … keys do not
    /// expire` then says why, not only how often.
    public var firstError: String?
    public static let firstErrorMaxLength = 200
    /// Measured reads that found no value (`$-1`, or an empty `QGET`). Counted apart from
    /// errors: in the cache workload an expired key misses, as it should.
    public var readMisses = 0
    public var readsChecked = 0
    public var staleReads = 0
    /// Reads that saw more than one sibling (QGET), or a `-SIBLINGS` answer to a GET.
    public var siblingsSeen = 0
    /// Reads whose value was not written by the harness (no sequence number): not judged.
    public var unversionedReads = 0
    /// Measured `cas` compare-and-sets answered nil: the key changed after the read.
    public var casConflicts = 0
    /// PBS bins (see `StalenessTracker.pbsEdgesMs`): reads per bin and stale reads per bin.
    public var pbsReads = [Int](repeating: 0, count: StalenessTracker.pbsEdgesMs.count + 1)
    public var pbsStale = [Int](repeating: 0, count: StalenessTracker.pbsEdgesMs.count + 1)

    public var succeededTotal: Int { succeeded.values.reduce(0, +) }
    public var errorTotal: Int { errors.values.reduce(0, +) }

    mutating func recordError(kind: String, detail: String) {
        errors[kind, default: 0] += 1
        if firstError == nil { firstError = String(detail.prefix(Self.firstErrorMaxLength)) }
    }

    mutating func record(kind: OperationKind, latencyMicros: Int64) {
        let value = UInt64(min(max(latencyMicros, 1), 60_000_000))
        _ = all.record(value)
        _ = byKind[kind, default: LoadOutcome.makeHistogram()].record(value)
        succeeded[kind, default: 0] += 1
    }
}
