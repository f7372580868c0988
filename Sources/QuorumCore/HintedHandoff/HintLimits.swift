/// The bounds of hinted handoff: how much a stand-in holds, how fast it retries, how
/// long a hint lives.
///
/// Kept apart from `Limits` so handoff can be tuned without touching the request path's
/// bounds; the shell copies these into its settings like the others.
public struct HintLimits: Sendable, Equatable, Codable {
    /// Total `Hint.byteSize` held; past it new hints are refused (and counted), and the
    /// write falls back to needing enough real replicas. A refused hint loses nothing the
    /// real replicas have: anti-entropy repairs the owner later.
    public var bytesMax: Int = 64 * 1024 * 1024
    /// Hints held at most, whatever their size: bounds the per-hint bookkeeping.
    public var countMax: Int = 100_000
    /// Hints handed out per delivery batch (one batch in flight per target).
    public var batchMax: Int = 64
    /// Bytes per delivery batch; a batch always holds at least one hint, however large.
    public var batchBytesMax: Int = 4 * 1024 * 1024
    /// Wait after the first failed delivery to a target; it doubles with each failure in a row.
    public var backoffInitialMilliseconds: UInt64 = 1000
    /// The longest wait between delivery attempts to one target.
    public var backoffMaxMilliseconds: UInt64 = 60_000
    /// A hint older than this is dropped by `HintQueue.expire`. Must stay below the
    /// tombstone grace (`AntiEntropyLimits.tombstoneGraceMilliseconds`, 24 h): a hint
    /// delivered after a tombstone was purged could bring the deleted key back.
    /// Anti-entropy brings a replica that was away longer up to date instead.
    public var ageMaxMilliseconds: UInt64 = 6 * 60 * 60 * 1000

    public init() {}

    public static let defaults = HintLimits()
}
