import Foundation

/// A server the harness started (a QuorumKV node or redis-server), its output in a log
/// file. Waits on the termination handler, never `Process.waitUntilExit`, which spins a
/// core on Linux.
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    public let logPath: String
    private let process = Process()
    private let lock = NSLock()
    private var exited = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// How long `stop` waits after SIGTERM before SIGKILL.
    static let stopGraceSeconds = 10.0

    public init(name: String, executable: String, arguments: [String], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw BenchError.startup("cannot write \(logPath)") }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [weak self] _ in self?.didExit() }
        do {
            try process.run()
        } catch {
            throw BenchError.startup("could not start \(executable): \(error)")
        }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { lock.withLock { !exited } }

    /// SIGSTOP: the process stays, its sockets accept connections, nothing answers. This is
    /// the fault the availability sweep injects.
    public func pause() { if isRunning { kill(pid, SIGSTOP) } }
    public func resume() { if isRunning { kill(pid, SIGCONT) } }

    /// SIGCONT (in case it was paused), SIGTERM, and SIGKILL after the grace period; returns
    /// once it has exited.
    public func stop() async {
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        let pid = self.pid
        let killer = DispatchWorkItem { [weak self] in if self?.isRunning == true { kill(pid, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.stopGraceSeconds, execute: killer)
        await waitForExit()
        killer.cancel()
    }

    /// SIGKILL at once, for an emergency exit (Ctrl-C); does not wait.
    public func killNow() {
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGKILL)
    }

    public func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = lock.withLock { () -> Bool in
                if exited { return true }
                waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The last lines of the log, for error messages.
    public func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    private func didExit() {
        let ready = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            exited = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in ready { waiter.resume() }
    }
}
