import Foundation

/// Makes sure the servers a run started die with it, even if the harness itself crashes or
/// is killed with SIGKILL (a clean stop and Ctrl-C stop them anyway). A small shell
/// watches the harness's pid once a second; when the harness is gone it sends SIGCONT and
/// SIGKILL to exactly the pids it was given, then removes the run's temporary folder. A clean stop ends the watcher first, so it
/// never outlives the run and never signals a pid that was reused.
final class OrphanGuard: @unchecked Sendable {
    private let watcher: Process?

    /// `removing`: the temporary folder to delete after the kill (nil keeps it).
    init(pids: [Int32], removing directory: String?) {
        let list = pids.map(String.init).joined(separator: " ")
        let script = """
            parent=$1; folder=$2; shift 2
            while kill -0 "$parent" 2>/dev/null; do sleep 1; done
            kill -CONT "$@" 2>/dev/null; kill -KILL "$@" 2>/dev/null
            sleep 1
            [ -n "$folder" ] && rm -rf -- "$folder"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "orphan-guard", String(getpid()), directory ?? ""] + list.split(separator: " ").map(String.init)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.terminationHandler = { _ in }
        watcher = (try? process.run()) != nil ? process : nil
    }

    /// Ends the watcher (call before stopping the servers it guards).
    func disarm() {
        guard let watcher, watcher.isRunning else { return }
        kill(watcher.processIdentifier, SIGKILL)
    }
}
