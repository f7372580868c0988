/// How hard SQLite pushes each commit to stable storage (`PRAGMA synchronous`).
///
/// `full` survives power loss; `normal` survives a process crash (`kill -9`) but can lose
/// the last commits if the machine loses power. On this hardware fsync is cheap, so `full`
/// costs little (docs/PERF-NOTES) and is the default.
public enum SyncMode: String, Sendable, Codable {
    case normal
    case full
}

/// Settings for one node's `ReplicaStore`. Every queue and buffer the store owns is bounded here.
public struct StoreOptions: Sendable {
    public var syncMode: SyncMode = .full
    /// Blobs at or above this size are LZ4-compressed, when compression actually saves space.
    public var compressionThresholdBytes: Int = 4096
    /// Writes taken into one transaction: more amortises the fsync, fewer bounds the latency
    /// of the first write in a group.
    public var groupCommitOperationsMax: Int = 512
    /// Writes queued for the writer, being committed, or waiting for their completions to start;
    /// past it `update` fails at once with `StoreError.overloaded` instead of letting memory
    /// and latency grow without bound.
    public var writeQueueOperationsMax: Int = 20_000
    /// Read-only connections; each serves one reader thread at a time. Point reads run on
    /// the network threads when a connection is idle (else they queue), scans on a queue,
    /// so this covers the event loops plus the background readers.
    public var readerConnections: Int = 4
    /// How long a read waits for a free reader connection before failing with `overloaded`.
    public var readerCheckoutTimeoutMilliseconds: Int = 5_000
    /// The WAL's bound, in frames (one per page a commit writes): it holds at most this many
    /// plus two groups'. After a commit that leaves at least this many, the writer, before
    /// its next group, ends the snapshots readers keep and runs a RESTART checkpoint
    /// (`WALBackstop`; a TRUNCATE when a reader kept the last one from taking effect), so
    /// the next commit writes from the WAL's start. The `Checkpointer`
    /// copies frames back long before, off the commit path, but the WAL only restarts when a
    /// checkpoint completes between two commits with no reader in the WAL, which under
    /// steady writes only this arranges. Only a read outlasting `walBackstopWaitMilliseconds`
    /// lets the WAL past the bound. 0 turns the backstop off, and with it the bound.
    public var walAutocheckpointPages: Int = 10_000
    /// How long the backstop waits for reads in progress to leave the WAL. Point reads and
    /// scan pages take microseconds to milliseconds even on a loaded machine; a read that
    /// outlasts this (a count over every row, another process's reader) is waited for no
    /// longer, because the writer starts no group meanwhile. When it runs out the WAL grows
    /// on: the writer tries again without waiting after each commit, and waits again once
    /// the WAL has grown by another `walAutocheckpointPages`.
    public var walBackstopWaitMilliseconds: Int = 200
    /// Pause between the backstop's tries while it waits: what it waits for (a read
    /// finishing) usually takes microseconds, so it looks again soon.
    public var walBackstopRetryMilliseconds: Int = 1
    /// Size the WAL file is cut back to when the WAL restarts after growing past it
    /// (`PRAGMA journal_size_limit`). A restart reuses the file from its start but never
    /// shrinks it, so a WAL that once outgrew the backstop (while a long read held it) would
    /// otherwise keep that size for the life of the node. Above the backstop's 10 000 frames
    /// of 4 KiB pages (41 MB) plus a large group, so an ordinary restart never truncates a
    /// file it would grow again at once.
    public var walSizeLimitBytes: Int = 64 * 1024 * 1024
    /// How often the background checkpointer copies committed WAL pages into the database
    /// file (when anything was committed since its last run).
    public var checkpointIntervalMilliseconds: Int = 200
    /// The writer connection's page cache (`PRAGMA cache_size`): the pages a write reads
    /// before changing them are mostly found here rather than read from the file.
    public var writerCacheBytes: Int = 16 * 1024 * 1024
    /// Rows the row cache keeps in memory (`RowCache`): point reads of them skip SQLite and
    /// writes to them skip reading the row back. 0 turns the cache off.
    public var rowCacheEntriesMax: Int = 262_144
    /// Bytes the row cache may hold: states plus keys plus a fixed share per entry.
    public var rowCacheBytesMax: Int = 64 * 1024 * 1024
    /// States larger than this are never cached: a few large values would push out many
    /// small hot ones.
    public var rowCacheBlobBytesMax: Int = 16 * 1024
    /// How long a connection retries when another connection holds a lock it needs.
    public var busyTimeoutMilliseconds: Int = 5_000
    /// Largest decompressed blob accepted; guards against corrupt or hostile length headers
    /// making the store allocate gigabytes. Writes of larger blobs fail with `tooLarge`.
    public var blobBytesMax: Int = 64 * 1024 * 1024
    /// Told, once, when the store hits an I/O error or corruption while making writes
    /// durable (a failed COMMIT, WAL write or sync, or checkpoint sync; see `FailureClass`).
    /// The store has then stopped taking writes for good: the writes it was committing
    /// failed unacknowledged, and every later one fails at once with `StoreError.halted`.
    /// Reads go on. The owner should end the process so that it restarts and SQLite
    /// recovers from what is durable (the node exits with status 74). Gets the reason; runs
    /// on a store thread (the writer or the checkpointer), which it may end the process on,
    /// and must not wait for the store. Nil: the store only logs it.
    public var onFatal: (@Sendable (String) -> Void)?
    /// Meta rows (`ReplicaStore.metaValue`) a database file gets in the transaction that
    /// creates it, and never again: a mark that the store started empty which no crash can
    /// separate from the file (the node's Paxos catch-up marker, issue #17). An existing
    /// file, upgraded or not, is left as it is.
    public var metaAtCreation: [String: String] = [:]
    /// The SQLite VFS every connection opens the database through; nil is SQLite's default.
    /// Only tests set it, to one that fails chosen writes and syncs.
    var vfsName: String?

    public init() {}

    /// The same options with values that would stall or break the store raised to the least workable ones.
    var normalized: StoreOptions {
        var options = self
        options.compressionThresholdBytes = max(0, options.compressionThresholdBytes)
        options.groupCommitOperationsMax = max(1, options.groupCommitOperationsMax)
        options.writeQueueOperationsMax = max(1, options.writeQueueOperationsMax)
        options.readerConnections = max(1, options.readerConnections)
        options.readerCheckoutTimeoutMilliseconds = max(0, options.readerCheckoutTimeoutMilliseconds)
        options.walAutocheckpointPages = max(0, options.walAutocheckpointPages)
        options.walBackstopWaitMilliseconds = max(0, options.walBackstopWaitMilliseconds)
        options.walBackstopRetryMilliseconds = max(1, options.walBackstopRetryMilliseconds)
        options.walSizeLimitBytes = max(0, options.walSizeLimitBytes)
        options.checkpointIntervalMilliseconds = max(1, options.checkpointIntervalMilliseconds)
        options.writerCacheBytes = max(0, options.writerCacheBytes)
        options.busyTimeoutMilliseconds = max(0, options.busyTimeoutMilliseconds)
        options.rowCacheEntriesMax = max(0, options.rowCacheEntriesMax)
        options.rowCacheBytesMax = max(0, options.rowCacheBytesMax)
        options.rowCacheBlobBytesMax = max(0, options.rowCacheBlobBytesMax)
        options.blobBytesMax = max(0, min(options.blobBytesMax, Int(UInt32.max)))
        return options
    }
}

