import NIOCore
import QuorumCore

/// Every bound of the RESP line protocol, in one place.
///
/// The parser bounds what one command may make the server hold before it runs; the
/// connection bounds how much work and how many unsent replies one client may pile up.
/// Defaults follow Redis where Redis has one (inline lines, multibulk counts) and the
/// node's `Limits` where a value is involved.
public struct RESPLimits: Sendable, Equatable {
    /// Longest inline command line (Redis: 64 KiB). Also bounds the `*<count>` and
    /// `$<length>` header lines, which are far shorter in any real client.
    public var inlineBytesMax: Int = 64 * 1024
    /// Largest bulk string. Above the node's value limit by `bulkSlackBytes`, so a value a
    /// little too large reaches the command and gets a `-TOOLARGE` error that says the
    /// limit, while the connection stays open; a bulk past this bound is a protocol error.
    public var bulkBytesMax: Int
    /// Most elements of one multibulk array (Redis: 1024 × 1024).
    public var arrayCountMax: Int = 1024 * 1024
    /// Most bytes one command may take on the wire, headers included: bounds what an
    /// `MSET` of many large values makes the server buffer before it runs.
    public var commandBytesMax: Int
    /// Commands of one connection parsed but not yet answered. Past it the server stops
    /// reading from that connection until replies drain (pipelining backpressure).
    public var pipelineDepthMax: Int = 128
    /// Bytes of commands (their keys and values) one connection may have read and not yet
    /// had answered; past it the server stops reading from that connection. One command
    /// is always let in, however large (it is bounded by `commandBytesMax`).
    public var pendingCommandBytesMax: Int = 64 * 1024 * 1024
    /// Bytes of finished replies one connection may hold while an earlier command is still
    /// running; past it the server stops reading from that connection until they drain.
    public var bufferedReplyBytesMax: Int = 32 * 1024 * 1024
    /// Service calls one multi-key command (`MGET`, `MSET`, `DEL`, `EXISTS`) keeps in
    /// flight at once, so a 100 000-key `DEL` does not flood the coordinator.
    public var multiKeyConcurrencyMax: Int = 32
    /// Compare-and-set attempts one command makes on a key of a strong bucket when it must
    /// answer the value it replaced (`SET … GET`, `SET … XX`, `GETSET`, `GETDEL`, `DEL`):
    /// it reads, then writes only if the key is unchanged since (etag), so every write by
    /// another client in between costs an attempt. Past it the command fails `UNAVAILABLE`
    /// having written nothing, rather than retrying while a hot key keeps changing.
    public var strongSwapAttemptsMax: Int = 8
    /// Keys `KEYS` may look at (every key of the bucket, matching or not); past it `KEYS`
    /// fails and says to use `SCAN`, which pages. Bounds the reply and the time one command
    /// holds the connection.
    public var keysCommandKeysMax: Int = 100_000
    /// Keys `DBSIZE` and `INFO keyspace` may count by listing the bucket; past it they fail
    /// (INFO leaves the line out) rather than list for minutes.
    public var keyCountKeysMax: Int = 1_000_000
    /// `SCAN` cursors a server remembers (the oldest is forgotten first). A cursor is a
    /// number standing for a listing position (a partition and a key of up to 1 KiB), so
    /// this bounds the memory at about 20 MiB.
    public var scanCursorsMax: Int = 16_384
    /// Commands one `MULTI` may queue before `EXEC`; past it the transaction is aborted.
    public var transactionCommandsMax: Int = 10_000
    /// Bytes (keys and values) one `MULTI` may queue; past it the transaction is aborted.
    public var transactionBytesMax: Int = 64 * 1024 * 1024
    /// A connection that sends nothing for this long while none of its commands is being
    /// served is closed (slow or half-open clients).
    public var idleTimeout: TimeAmount = .seconds(300)

    /// How far above `Limits.valueBytesMax` a bulk string may go and still parse.
    public static let bulkSlackBytes = 64 * 1024

    public init(limits: Limits = .defaults) {
        bulkBytesMax = limits.valueBytesMax + Self.bulkSlackBytes
        commandBytesMax = max(64 * 1024 * 1024, bulkBytesMax + 64 * 1024)
    }

    public static let defaults = RESPLimits()
}
