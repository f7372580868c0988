import Foundation
import NIOCore

/// Debian's `redis-server` on loopback, the reference every figure is compared with: AOF on,
/// `appendfsync everysec`, no RDB snapshots, data in a temporary folder removed at the end.
public final class RedisReferenceServer: @unchecked Sendable {
    public let process: ChildProcess
    public let endpoint: BenchTarget.Endpoint
    public let directory: String
    public let version: String
    private let guardian: OrphanGuard

    public static func findExecutable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") + ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let candidate = "\(folder)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public static func start(port: Int, eventLoop: EventLoop) async throws -> RedisReferenceServer {
        guard let executable = findExecutable() else {
            throw BenchError.startup(
                "--reference redis needs redis-server on PATH (Debian: apt-get install redis-server)")
        }
        try PortCheck.requireFree([port])
        let directory = NSTemporaryDirectory() + "quorumkv-bench-redis-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
            "--appendfsync", "everysec", "--dir", directory, "--daemonize", "no", "--protected-mode", "yes",
        ]
        let process = try ChildProcess(
            name: "redis-server", executable: executable, arguments: arguments, logPath: directory + "/redis.log")
        let endpoint = BenchTarget.Endpoint(host: "127.0.0.1", port: port)
        do {
            try await ServerReadiness.waitForPing(endpoint, eventLoop: eventLoop, seconds: 20, process: process)
        } catch {
            await process.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let version = Self.version(of: executable)
        return RedisReferenceServer(process: process, endpoint: endpoint, directory: directory, version: version)
    }

    private init(process: ChildProcess, endpoint: BenchTarget.Endpoint, directory: String, version: String) {
        self.process = process
        self.endpoint = endpoint
        self.directory = directory
        self.version = version
        guardian = OrphanGuard(pids: [process.pid], removing: directory)
    }

    public func stop() async {
        guardian.disarm()
        await process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// "7.0.15" from `redis-server --version`, or "unknown". Read through a pipe after the
    /// process ends (its termination handler, not waitUntilExit).
    static func version(of executable: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        guard let range = text.range(of: "v=") else { return "unknown" }
        return String(text[range.upperBound...].prefix { $0 != " " && $0 != "\n" })
    }
}
