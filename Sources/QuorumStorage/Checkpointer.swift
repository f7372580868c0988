import Dispatch
import Foundation
import Logging
import Synchronization

/// Copies the WAL back into the database file on a thread of its own.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, so one
/// unlucky group of writes waits for thousands of pages to be copied and synced (the
/// stalls behind the write p99 in PERF-NOTES). This runs a PASSIVE checkpoint, which never
/// blocks the writer or readers, every `checkpointIntervalMilliseconds` when something was
/// committed since the last one. It keeps the WAL's frames copied back, but it cannot make
/// the WAL restart: that needs a checkpoint to complete between two commits with no reader
/// in the WAL, which under steady writes is luck. The writer's `WALBackstop` arranges it at
/// `walAutocheckpointPages`, so the WAL stays bounded however this is timed.
final class Checkpointer: Sendable {
    private let connection: CheckpointConnection
    private let intervalMilliseconds: Int
    private let committed: @Sendable () -> Int
    private let beforeCheckpoint: @Sendable () -> Void
    private let stop = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    private let stopping = Atomic<Bool>(false)
    private let checkpoints = Atomic<Int>(0)
    private let checkpointsCopyingAll = Atomic<Int>(0)
    private let halt: StoreHalt
    private let logger: Logger

    /// `committed` counts the writer's transactions: no new one, no checkpoint.
    /// `beforeCheckpoint` runs first each time: the readers end snapshots that would keep
    /// the checkpoint from copying the newest frames. A checkpoint that fails with an I/O
    /// error or corruption halts the store through `halt`; once it is halted (by anyone)
    /// no more checkpoints run.
    init(
        path: String, options: StoreOptions, committed: @escaping @Sendable () -> Int,
        beforeCheckpoint: @escaping @Sendable () -> Void, halt: StoreHalt, logger: Logger
    ) throws {
        connection = try CheckpointConnection(path: path, options: options)
        intervalMilliseconds = max(1, options.checkpointIntervalMilliseconds)
        self.committed = committed
        self.beforeCheckpoint = beforeCheckpoint
        self.halt = halt
        self.logger = logger
    }

    /// Background checkpoints run so far.
    var completedCheckpoints: Int { checkpoints.load(ordering: .relaxed) }

    /// Background checkpoints that copied every frame back: after one, the next commit
    /// restarts the WAL if no reader is using it.
    var completedCheckpointsCopyingAll: Int { checkpointsCopyingAll.load(ordering: .relaxed) }

    func start() {
        finished.enter()
        // Read here, not on the new thread: a commit made before that thread first runs
        // must still be checkpointed.
        let committedAtStart = committed()
        let thread = Thread { [self] in run(checkpointedThrough: committedAtStart) }
        thread.name = "quorumkv-storage-checkpointer"
        thread.start()
    }

    /// Stops the thread (after the checkpoint in progress, if any) and closes its connection.
    func close() {
        guard stopping.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        stop.signal()
        finished.wait()
    }

    private func run(checkpointedThrough start: Int) {
        var checkpointedThrough = start
        while stop.wait(timeout: .now() + .milliseconds(intervalMilliseconds)) == .timedOut {
            let now = committed()
            guard now != checkpointedThrough, !halt.isHalted else { continue }
            beforeCheckpoint()
            if checkpoint() { checkpointedThrough = now }
        }
        if halt.isHalted { connection.connection.skipCheckpointOnClose() }
        connection.connection.close()
        finished.leave()
    }

    /// One passive checkpoint; false (and logged) when SQLite refused it, to retry next time,
    /// unless it failed with an I/O error or corruption, which halts the store.
    private func checkpoint() -> Bool {
        let result = connection.connection.checkpoint(.passive)
        guard result.succeeded else {
            // BUSY: another checkpoint (the writer's backstop) is running; the next tick retries.
            if !result.wasBusy {
                let error = connection.connection.error(result.code, "checkpointing the WAL").message
                if FailureClass(sqliteCode: result.code) == .fatal {
                    halt.halt(error)
                } else {
                    logger.warning("background WAL checkpoint failed; the writer's backstop still bounds the WAL",
                                   metadata: ["error": "\(error)"])
                }
            }
            return false
        }
        checkpoints.add(1, ordering: .relaxed)
        if result.copiedAll { checkpointsCopyingAll.add(1, ordering: .relaxed) }
        return true
    }
}

/// The checkpointer's own connection. `@unchecked Sendable` like `WriterConnection`: only
/// the thread running `Checkpointer.init`, then the checkpointer thread, ever touch it.
final class CheckpointConnection: @unchecked Sendable {
    let connection: SQLiteConnection

    init(path: String, options: StoreOptions) throws {
        connection = try SQLiteConnection(
            path: path, readOnly: false, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds, vfs: options.vfsName)
        do {
            // It only checkpoints: its own automatic checkpoint would never fire, and it
            // must sync the database file as hard as the writer syncs the WAL.
            try connection.exec("PRAGMA synchronous=\(options.syncMode == .full ? "FULL" : "NORMAL")")
        } catch {
            connection.close()
            throw error
        }
    }
}
