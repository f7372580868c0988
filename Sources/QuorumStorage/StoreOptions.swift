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
    /// WAL size (in pages) at which the writer checkpoints inside COMMIT. A backstop: the
    /// `Checkpointer` normally copies the WAL back long before, off the commit path.
    public var walAutocheckpointPages: Int = 10_000
    /// How often the background checkpointer copies committed WAL pages into the database
    /// file (when anything was committed since its last run).
    public var checkpointIntervalMilliseconds: Int = 200
    /// The writer connection's page cache (`PRAGMA cache_size`): the pages a write reads
    /// before changing them are mostly found here rather than read from the file.
    public var writerCacheBytes: Int = 16 * 1024 * 1024
    /// How long a connection retries when another connection holds a lock it needs.
    public var busyTimeoutMilliseconds: Int = 5_000
    /// Largest decompressed blob accepted; guards against corrupt or hostile length headers
    /// making the store allocate gigabytes. Writes of larger blobs fail with `tooLarge`.
    public var blobBytesMax: Int = 64 * 1024 * 1024

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
        options.checkpointIntervalMilliseconds = max(1, options.checkpointIntervalMilliseconds)
        options.writerCacheBytes = max(0, options.writerCacheBytes)
        options.busyTimeoutMilliseconds = max(0, options.busyTimeoutMilliseconds)
        options.blobBytesMax = max(0, min(options.blobBytesMax, Int(UInt32.max)))
        return options
    }
}

