import CSQLite

/// Why a storage operation failed. Every case carries, or produces, a message that says
/// what went wrong and what an operator or caller can do about it.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A bounded queue or pool is full; the caller should retry later or shed load.
    case overloaded(String)
    /// SQLite reported an error. `code` is the primary result code (`SQLITE_FULL`, …);
    /// the message names the operation, SQLite's own text and the extended code.
    case sqlite(code: Int32, message: String)
    /// Stored bytes (or a database file) that can't be decoded.
    case corrupt(String)
    /// A blob over `StoreOptions.blobBytesMax` (or over what LZ4 can take).
    case tooLarge(String)
    /// The store has been closed (the node is shutting down).
    case closed
    /// The disk is full (`SQLITE_FULL`): the group of writes was rolled back and nothing of
    /// it stored. Not fatal: reads go on, and writes succeed again once space is freed.
    case diskFull(String)
    /// The store hit an I/O error or corruption while making writes durable, and stopped
    /// taking writes: after a failed fsync the kernel may have dropped the data, so nothing
    /// written since can be trusted. The node must restart; SQLite then recovers what is
    /// durable. See `FailureClass` and `StoreOptions.onFatal`.
    case halted(String)

    public var message: String {
        switch self {
        case .overloaded(let message), .sqlite(_, let message), .corrupt(let message), .tooLarge(let message),
            .diskFull(let message), .halted(let message):
            return message
        case .closed:
            return "the replica store is closed (the node is shutting down); retry against another replica"
        }
    }

    public var description: String { message }

    /// `error`'s message when it is a `StoreError`, else its description.
    static func describe(_ error: any Error) -> String {
        (error as? StoreError)?.message ?? "\(error)"
    }

    /// Builds a `.sqlite` error whose message adds advice chosen by the primary result code.
    static func fromSQLite(extendedCode: Int32, operation: String, detail: String) -> StoreError {
        let primary = extendedCode & 0xFF
        return .sqlite(
            code: primary,
            message: "\(operation) failed: \(detail) (SQLite code \(extendedCode)); \(advice(forPrimaryCode: primary))"
        )
    }

    private static func advice(forPrimaryCode code: Int32) -> String {
        switch code {
        case SQLITE_FULL:
            return "the disk is full: free space on the volume holding the data directory, then retry"
        case SQLITE_IOERR:
            return "an I/O error: check the disk and the kernel log; the node may need to move to healthy storage"
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return "the database is corrupt: stop the node, move its data directory aside and let replication refill it"
        case SQLITE_BUSY, SQLITE_LOCKED:
            return "another connection holds the database lock: make sure only one quorumkv process uses this data directory"
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH:
            return "the database can't be written: check ownership and permissions of the data directory and its files"
        case SQLITE_CANTOPEN:
            return "the database file can't be opened: check that the data directory exists and is writable"
        case SQLITE_NOMEM:
            return "SQLite ran out of memory: lower load or give the node more memory"
        case SQLITE_TOOBIG:
            return "a value is larger than SQLite accepts: lower the value size limits"
        default:
            return "this is unexpected; see the node log and report it"
        }
    }
}
