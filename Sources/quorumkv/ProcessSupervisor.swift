import Dispatch
import Foundation

/// Starts node processes, forwards Ctrl-C/SIGTERM to them, and waits for them to end.
final class ProcessSupervisor: @unchecked Sendable {
    private let lock = NSLock()
    private var children: [(name: String, process: Process)] = []
    private var signalSources: [DispatchSourceSignal] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// How long a node gets to stop cleanly before it is killed.
    private let stopGraceSeconds: Double = 10

    func launch(name: String, executable: String, arguments: [String], logPath: String) throws {
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: logPath])
        }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.terminationHandler = { [weak self] finished in
            if finished.terminationReason == .uncaughtSignal || finished.terminationStatus != 0 {
                say("\(name) exited (status \(finished.terminationStatus)); see \(logPath)")
            }
            self?.childExited()
        }
        try process.run()
        lock.lock()
        children.append((name, process))
        lock.unlock()
    }

    /// On SIGINT or SIGTERM, asks every node to stop.
    func stopOnSignals() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { @Sendable [weak self] in
                say("\nstopping the cluster…")
                self?.stopAll()
            }
            source.resume()
            lock.lock()
            signalSources.append(source)
            lock.unlock()
        }
    }

    /// SIGTERM to every running node, then SIGKILL to any still running after the grace period.
    func stopAll() {
        lock.lock()
        let running = children.map(\.process).filter(\.isRunning)
        lock.unlock()
        for process in running { kill(process.processIdentifier, SIGTERM) }
        DispatchQueue.global().asyncAfter(deadline: .now() + stopGraceSeconds) {
            for process in running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Returns once every node has exited. Waits on termination handlers, not on
    /// `Process.waitUntilExit`, which spins a core on Linux.
    func waitForAll() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = lock.withLock { () -> Bool in
                if children.allSatisfy({ !$0.process.isRunning }) { return true }
                waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func childExited() {
        let ready = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            guard children.allSatisfy({ !$0.process.isRunning }) else { return [] }
            defer { waiters = [] }
            return waiters
        }
        for waiter in ready { waiter.resume() }
    }
}

/// Prints a line at once, unbuffered, so a supervising terminal or log sees it even when
/// stdout is a pipe.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
