import CSQLite
import Foundation
import Logging
import Synchronization

/// What the store has done to keep its WAL bounded: for status, metrics and tests.
///
/// Each commit adds a frame per page it wrote. The WAL only starts over when a commit finds
/// every frame copied back into the database file and no reader using the WAL: that commit
/// writes from the WAL's start (a restart). The writer's backstop (`WALBackstop`) makes
/// sure this happens once the WAL reaches `StoreOptions.walAutocheckpointPages` frames, so
/// the WAL holds at most that many frames plus two groups'.
public struct WALStatistics: Sendable, Equatable {
    /// Frames in the WAL after the last commit that wrote any.
    public var frames = 0
    /// The most frames the WAL has held since the store opened. The WAL file has grown no
    /// longer than this many frames (page size + 24 bytes each) and its 32-byte header.
    public var framesHighWater = 0
    /// The most frames one commit has added (the first commit after the store opens also
    /// counts the frames the WAL held already).
    public var largestCommitFrames = 0
    /// Commits that wrote from the WAL's start: seen as the WAL header's checkpoint
    /// sequence moving (SQLite bumps it on every restart), read after every commit that
    /// wrote frames; by the WAL getting smaller when the header can't be read.
    public var restarts = 0
    /// Commits that left the WAL at the backstop size or past it, after which the writer
    /// ran a backstop checkpoint before its next group.
    public var backstopCheckpoints = 0
    /// Backstop checkpoints that completed: every frame copied back and no reader left in
    /// the WAL, so the next commit restarts it.
    public var backstopCompletions = 0
    /// Backstop checkpoints run as TRUNCATE: after a RESTART that completed, a reader that
    /// began before the next commit took a WAL read mark and that commit appended instead
    /// of restarting; TRUNCATE starts the WAL over inside its own locks (and cuts the file,
    /// which the WAL then grows back, so it is not the usual mode).
    public var backstopTruncations = 0
    /// Backstop checkpoints that gave up waiting: a read outlasted
    /// `walBackstopWaitMilliseconds`, or SQLite failed. Until a later one completes, the WAL
    /// grows past the bound.
    public var backstopTimeouts = 0
    /// Background (PASSIVE) checkpoints run.
    public var backgroundCheckpoints = 0
    /// Background checkpoints that copied every frame back, so the next commit could
    /// restart the WAL if no reader was using it.
    public var backgroundCheckpointsCopyingAll = 0
    /// Snapshots that readers kept between reads, ended so a checkpoint could finish.
    public var keptSnapshotsEnded = 0

    public init() {}
}

/// SQLite's WAL hook on the writer connection: the WAL's frame count after each commit that
/// wrote frames. Installing it replaces SQLite's automatic checkpoint (itself a WAL hook),
/// whose job `WALBackstop` takes over, bounded.
///
/// Touched only on the writer thread (the hook runs inside the writer's COMMIT), like the
/// connection it belongs to. The hook holds an unretained pointer to it, so its owner
/// closes the connection before letting it go.
final class CommitFrameHook {
    private var frames: Int?

    func install(on connection: SQLiteConnection) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(connection.handle, { context, _, _, frames in
            if let context {
                Unmanaged<CommitFrameHook>.fromOpaque(context).takeUnretainedValue().frames = Int(frames)
            }
            return SQLITE_OK
        }, context)
    }

    /// Frames in the WAL after the last commit, if a commit wrote any since the last call.
    func take() -> Int? {
        defer { frames = nil }
        return frames
    }
}

/// Keeps the WAL bounded: the writer's part.
///
/// After a commit that leaves `walAutocheckpointPages` frames or more, and before the next
/// group, the writer ends the snapshots readers keep between reads and runs RESTART
/// checkpoints until one completes, for at most `walBackstopWaitMilliseconds`. A kept
/// snapshot holds a WAL read mark for as long as its connection sits idle, which is what
/// used to keep the WAL from ever restarting under steady reads and writes; reads in
/// progress end on their own. A completed RESTART leaves every frame in the database file
/// and no reader in the WAL, and readers that start after it read the database file alone,
/// so the next commit writes from the WAL's start — unless a reader began in between and
/// took a WAL read mark, which SQLite allows: that commit then appends, the header's
/// checkpoint sequence shows it did not restart, and the next backstop runs as TRUNCATE,
/// which starts the WAL over inside its own locks. The WAL thus holds at most the
/// backstop's frames plus two groups', however readers and the background checkpointer
/// are timed; only a read outlasting the wait (counted in `backstopTimeouts`) lets it grow.
final class WALBackstop: Sendable {
    private let thresholdFrames: Int
    private let waitMilliseconds: Int
    private let retryMilliseconds: Int
    private let busyTimeoutMilliseconds: Int
    private let readers: ReaderPool
    private let halt: StoreHalt
    private let logger: Logger
    // Written only on the writer thread; atomics so that `statistics` can read them anywhere.
    private let frames = Atomic<Int>(0)
    private let framesHighWater = Atomic<Int>(0)
    private let largestCommitFrames = Atomic<Int>(0)
    private let restarts = Atomic<Int>(0)
    private let checkpoints = Atomic<Int>(0)
    private let completions = Atomic<Int>(0)
    private let timeouts = Atomic<Int>(0)
    private let truncations = Atomic<Int>(0)
    /// A backstop completed and the next commit should restart the WAL.
    private let restartExpected = Atomic<Bool>(false)
    /// The last completed RESTART was not followed by a restart: the next backstop truncates.
    private let truncateNext = Atomic<Bool>(false)
    /// WAL size from which the backstop waits for readers. After a wait ran out it is raised
    /// by another `thresholdFrames`, and until then each try is a single one: a long read
    /// stalls the writer once per backstop's worth of frames, not once per commit.
    private let waitFromFrames: Atomic<Int>
    /// The WAL file's header, read to tell a restart for certain (writer thread only).
    private let header: WALHeaderReader

    init(walPath: String, options: StoreOptions, readers: ReaderPool, halt: StoreHalt, logger: Logger) {
        header = WALHeaderReader(path: walPath)
        thresholdFrames = options.walAutocheckpointPages
        waitMilliseconds = options.walBackstopWaitMilliseconds
        retryMilliseconds = options.walBackstopRetryMilliseconds
        busyTimeoutMilliseconds = options.busyTimeoutMilliseconds
        waitFromFrames = Atomic(options.walAutocheckpointPages)
        self.readers = readers
        self.halt = halt
        self.logger = logger
    }

    /// Records the WAL's size after a commit (nil: the commit wrote no frames) and says
    /// whether the backstop must run before the next group.
    func committed(walFrames after: Int?) -> Bool {
        guard let after else { return false }
        let before = frames.exchange(after, ordering: .relaxed)
        // A restart shows as a smaller WAL, except when the commit after it wrote as many
        // frames as the WAL held: the header's checkpoint sequence tells for certain.
        let restarted = header.sequenceMoved() ?? (after < before)
        if restarted { restarts.add(1, ordering: .relaxed) }
        if restartExpected.exchange(false, ordering: .relaxed), !restarted {
            truncateNext.store(true, ordering: .relaxed)
        }
        largestCommitFrames.max(restarted ? after : after - before, ordering: .relaxed)
        framesHighWater.max(after, ordering: .relaxed)
        return thresholdFrames > 0 && after >= thresholdFrames
    }

    /// The backstop, on the writer thread between groups, with the writer's connection
    /// (outside any transaction).
    func checkpoint(on connection: SQLiteConnection) {
        let walFrames = frames.load(ordering: .relaxed)
        let waits = walFrames >= waitFromFrames.load(ordering: .relaxed)
        checkpoints.add(1, ordering: .relaxed)
        let mode: CheckpointMode = truncateNext.load(ordering: .relaxed) ? .truncate : .restart
        if restartCheckpoint(on: connection, mode: mode, waitMilliseconds: waits ? waitMilliseconds : 0) {
            completions.add(1, ordering: .relaxed)
            restartExpected.store(true, ordering: .relaxed)
            if mode == .truncate {
                truncations.add(1, ordering: .relaxed)
                truncateNext.store(false, ordering: .relaxed)
            }
            waitFromFrames.store(thresholdFrames, ordering: .relaxed)
        } else if halt.isHalted {
            return
        } else if waits {
            timeouts.add(1, ordering: .relaxed)
            waitFromFrames.store(walFrames + thresholdFrames, ordering: .relaxed)
            logger.warning("a read kept the WAL from restarting: it grows past its bound until the read ends", metadata: [
                "walFrames": "\(walFrames)", "backstopFrames": "\(thresholdFrames)", "waitedMilliseconds": "\(waitMilliseconds)",
            ])
        }
    }

    /// Tries `mode` checkpoints, ending readers' kept snapshots before each, until one
    /// completes or `waitMilliseconds` have passed. The connection's busy timeout is off
    /// meanwhile, so this loop is the only wait and its bound holds; it also rides out the
    /// background checkpointer, whose lock makes a RESTART fail at once rather than wait.
    private func restartCheckpoint(on connection: SQLiteConnection, mode: CheckpointMode, waitMilliseconds: Int) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(waitMilliseconds)
        connection.setBusyTimeout(milliseconds: 0)
        defer { connection.setBusyTimeout(milliseconds: busyTimeoutMilliseconds) }
        return readers.withoutKeptSnapshots {
            while true {
                readers.endIdleSnapshots()
                let result = connection.checkpoint(mode)
                if result.succeeded { return true }
                guard result.wasBusy else {
                    let error = connection.error(result.code, "checkpointing the WAL").message
                    if FailureClass(sqliteCode: result.code) == .fatal {
                        halt.halt(error)
                    } else {
                        logger.error("the WAL backstop checkpoint failed; the writer tries again after the next commit", metadata: [
                            "error": "\(error)",
                        ])
                    }
                    return false
                }
                guard ContinuousClock.now < deadline else { return false }
                Thread.sleep(forTimeInterval: Double(retryMilliseconds) / 1_000)
            }
        }
    }

    /// The writer's share of `WALStatistics`; the checkpointer and the reader pool fill in the rest.
    var statistics: WALStatistics {
        var statistics = WALStatistics()
        statistics.frames = frames.load(ordering: .relaxed)
        statistics.framesHighWater = framesHighWater.load(ordering: .relaxed)
        statistics.largestCommitFrames = largestCommitFrames.load(ordering: .relaxed)
        statistics.restarts = restarts.load(ordering: .relaxed)
        statistics.backstopCheckpoints = checkpoints.load(ordering: .relaxed)
        statistics.backstopCompletions = completions.load(ordering: .relaxed)
        statistics.backstopTimeouts = timeouts.load(ordering: .relaxed)
        statistics.backstopTruncations = truncations.load(ordering: .relaxed)
        return statistics
    }
}

/// Reads the checkpoint sequence from a WAL file's header (bytes 12–15, big-endian), which
/// SQLite raises each time the WAL starts over, and says whether it moved since the last
/// read: one `pread` per commit on a descriptor kept open (SQLite keeps the file while the
/// writer's connection is open). Confined to the writer thread, like that connection.
final class WALHeaderReader: @unchecked Sendable {
    private let path: String
    private var descriptor: Int32 = -1
    private var lastSequence: UInt32?

    init(path: String) {
        self.path = path
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Whether the sequence moved since the last call; nil when the header can't be read
    /// or there was no earlier reading (then the caller goes by the frame count).
    func sequenceMoved() -> Bool? {
        guard let sequence = readSequence() else { return nil }
        defer { lastSequence = sequence }
        return lastSequence.map { $0 != sequence }
    }

    private func readSequence() -> UInt32? {
        if descriptor < 0 { descriptor = open(path, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { return nil }
        var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0))
        let read = withUnsafeMutableBytes(of: &bytes) { pread(descriptor, $0.baseAddress, 4, 12) }
        guard read == 4 else { return nil }
        return UInt32(bytes.0) << 24 | UInt32(bytes.1) << 16 | UInt32(bytes.2) << 8 | UInt32(bytes.3)
    }
}
