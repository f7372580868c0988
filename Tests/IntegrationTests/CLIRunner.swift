import Foundation
import XCTest

/// Runs the built `quorumkv` binary as a user would, with bounded time.
struct CLIRunner {
    struct Run: CustomStringConvertible {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String

        var text: String { String(decoding: stdout, as: UTF8.self) }
        var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(stdout))) as? [String: Any] ?? [:] }

        var description: String { "exit \(status)\nstdout: \(text)\nstderr: \(stderr)" }
    }

    let executable: String
    /// Extra environment; `QUORUMKV_ENDPOINT` is removed from the inherited one.
    var environment: [String: String] = [:]

    init(environment: [String: String] = [:]) throws {
        executable = try ClusterHarness.quorumkvBinary()
        self.environment = environment
    }

    /// `quorumkv <arguments>` with `stdin` (empty when nil), killed after `seconds`.
    func run(_ arguments: [String], stdin: [UInt8]? = nil, seconds: Double = 60) async throws -> Run {
        try await run(executable: executable, arguments, stdin: stdin, seconds: seconds)
    }

    func run(executable: String, _ arguments: [String], stdin: [UInt8]? = nil, seconds: Double = 60) async throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "QUORUMKV_ENDPOINT")
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        let watchdog = Task.detached {
            try await Task.sleep(for: .seconds(seconds))
            if process.isRunning { process.terminate() }
        }
        defer { watchdog.cancel() }
        let writer = Task.detached {
            if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin)) }
            try? input.fileHandleForWriting.close()
        }
        let stderrReader = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }
        let stdout = await Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        let stderr = await stderrReader.value
        await writer.value
        await Task.detached { process.waitUntilExit() }.value
        return Run(status: process.terminationStatus, stdout: Array(stdout), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
