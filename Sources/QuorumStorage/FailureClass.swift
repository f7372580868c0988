import CSQLite
import Logging
import Synchronization

/// What a SQLite failure while writing means for the store: the one place that decides
/// which failures stop the store for good and which only fail the writes at hand.
///
/// An I/O error is fatal because it can't be retried safely: when fsync fails, Linux may
/// already have dropped the dirty pages it could not write and marked them clean, so a
/// retried fsync "succeeds" with the data gone (PostgreSQL's and etcd's reason for treating
/// a failed fsync as a crash). A store that went on could acknowledge writes on top of lost
/// ones, and serve reads of data that is not on disk. Restarting makes SQLite recover from
/// what the disk actually holds; the other replicas then repair what was lost. A full disk
/// loses nothing: SQLite fails the write before the commit record is down and rolls back,
/// so the store goes on and takes writes again once there is space.
enum FailureClass: Equatable, Sendable {
    /// `SQLITE_IOERR` with any extended code (`_FSYNC`, `_WRITE`, `_SHORT_READ`, `_SHMSIZE`,
    /// …), `SQLITE_CORRUPT` and `SQLITE_NOTADB`, met by the writer (BEGIN, a statement of
    /// the group, COMMIT with its WAL write and sync) or by a checkpoint (which writes and
    /// syncs the database file): the store stops taking writes and reports it through
    /// `StoreOptions.onFatal`.
    case fatal
    /// `SQLITE_FULL`: the disk (or SQLite's page limit) is full. The group is rolled back
    /// and its writes fail with `StoreError.diskFull`; a checkpoint is retried later.
    case diskFull
    /// Anything else (`SQLITE_BUSY` from another process, a closed connection, …): the group
    /// is rolled back and its writes fail with the error; the store goes on.
    case clean

    /// The class of a SQLite result code, primary or extended.
    init(sqliteCode code: Int32) {
        switch code & 0xFF {
        case SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_NOTADB: self = .fatal
        case SQLITE_FULL: self = .diskFull
        default: self = .clean
        }
    }

    /// The class of an error the writer's transaction threw.
    init(_ error: any Error) {
        if case .sqlite(let code, _)? = error as? StoreError {
            self.init(sqliteCode: code)
        } else {
            self = .clean
        }
    }
}

/// The store's record that durability failed: set once, by whichever store thread met the
/// fatal failure first, and read by the writer (which then fails every write) and the
/// checkpointer (which stops). The first to set it reports it through `onFatal`.
final class StoreHalt: Sendable {
    private let reason = Mutex<String?>(nil)
    private let onFatal: (@Sendable (String) -> Void)?
    private let logger: Logger

    init(onFatal: (@Sendable (String) -> Void)?, logger: Logger) {
        self.onFatal = onFatal
        self.logger = logger
    }

    /// Why the store stopped taking writes; nil while it takes them.
    var haltReason: String? { reason.withLock { $0 } }

    var isHalted: Bool { haltReason != nil }

    /// Stops the store's writes for `cause` (a SQLite error's message, naming what failed).
    /// The first call calls `onFatal` on the calling thread (which logs it), or logs it at
    /// critical level when there is no `onFatal`; later ones only log. Returns whether this
    /// call was the first.
    @discardableResult
    func halt(_ cause: String) -> Bool {
        let first = reason.withLock { reason in
            guard reason == nil else { return false }
            reason = cause
            return true
        }
        guard first else {
            logger.error("another storage failure after the store stopped taking writes", metadata: ["error": "\(cause)"])
            return false
        }
        if let onFatal {
            onFatal(cause)
        } else {
            logger.critical(
                "storage hit an I/O error or corruption it cannot trust: it takes no more writes; restart so that SQLite recovers what is durable",
                metadata: ["error": "\(cause)"])
        }
        return true
    }

    /// The error every write gets once the store has halted.
    func haltedError() -> StoreError {
        .halted(
            "the replica store stopped taking writes after an I/O error or corruption it cannot trust "
                + "(\(haltReason ?? "unknown")); the node must restart so that SQLite recovers from what is durable; "
                + "retry against another replica")
    }
}
