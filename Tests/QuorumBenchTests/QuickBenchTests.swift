import Foundation
import XCTest

@testable import QuorumBench

/// `quorumkv bench --quick`, the CI check of the harness: runs the real binary against the
/// 3-node cluster it starts, and checks that it exits 0 (its own self-check passed) and,
/// independently, that the report it wrote holds every setting with sane figures.
final class QuickBenchTests: XCTestCase {
    func testQuickBenchReportsEverySettingWithSaneFigures() async throws {
        let binary = try Self.quorumkvBinary()
        let output = NSTemporaryDirectory() + "quorumkv-bench-test-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let basePort = try Self.freeBasePort()
        let started = Date()
        let (status, log) = try await Self.run(
            binary, ["bench", "--quick", "--no-progress", "--base-port", String(basePort), "--output", output])
        let seconds = Date().timeIntervalSince(started)
        print("bench --quick took \(String(format: "%.1f", seconds)) s")
        XCTAssertEqual(status, 0, "bench --quick failed:\n\(log)")
        XCTAssertLessThan(seconds, 120, "bench --quick must finish within two minutes")

        let data = try Data(contentsOf: URL(fileURLWithPath: output + "/report.json"))
        let report = try JSONDecoder().decode(BenchReport.self, from: data)
        let sweep = QuorumSetting.defaultSweep(n: 3)
        XCTAssertEqual(report.setup.workloads, ["A", "F"])
        XCTAssertEqual(report.results.count, 2 * sweep.count)
        XCTAssertEqual(BenchSelfCheck.problems(in: report, expected: sweep), [])
        for result in report.results {
            XCTAssertGreaterThan(result.throughput, 0)
            XCTAssertGreaterThan(result.readsChecked, 0)
            XCTAssertLessThanOrEqual(result.latency.p50, result.latency.p99)
            XCTAssertLessThanOrEqual(result.latency.p99, result.latency.max)
            XCTAssertEqual(result.nodeUsage.count, 3)
            if result.quorumsOverlap { XCTAssertEqual(result.staleReads, 0, result.settingLabel) }
        }
        for name in ["report.csv", "report.txt", "A-throughput.svg", "A-p99.svg", "A-latency-cdf.svg", "F-staleness.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: output + "/" + name), "missing \(name)")
        }
        let csv = try String(contentsOfFile: output + "/report.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 2 * sweep.count)
        XCTAssertFalse(log.contains("nan"), "a NaN in the output:\n\(log)")
    }

    /// `--tls`: the cluster starts with certificates made for the run, the harness speaks
    /// RESP over TLS to it, and the report says so; a run that fails to connect or crashes
    /// on a TLS close (as the first --tls run did) fails here.
    func testTLSRunReportsAndSaysItUsedTLS() async throws {
        let binary = try Self.quorumkvBinary()
        let output = NSTemporaryDirectory() + "quorumkv-bench-tls-test-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let (status, log) = try await Self.run(
            binary, [
                "bench", "--tls", "--nodes", "3", "--n", "3", "--setting", "2,2", "--workload", "C", "--records", "500",
                "--connections", "4", "--duration", "1", "--warmup", "0.5", "--no-progress",
                "--base-port", String(try Self.freeBasePort()), "--output", output,
            ])
        XCTAssertEqual(status, 0, "bench --tls failed:\n\(log)")
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: output + "/report.json")))
        XCTAssertEqual(report.setup.tls, true)
        XCTAssertEqual(report.results.count, 1)
        XCTAssertGreaterThan(report.results.first?.throughput ?? 0, 0)
        XCTAssertEqual(report.results.first?.errors.values.reduce(0, +) ?? -1, 0, log)
    }

    /// The `quorumkv` binary built beside the test bundle (`swift build --build-tests`).
    static func quorumkvBinary() throws -> String {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("quorumkv").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw XCTSkip("no quorumkv binary beside \(testBinary); run `swift build --build-tests` first")
    }

    /// A base port whose cluster ports (base…base+302) are all free, below the kernel's
    /// ephemeral range so parallel tests' ephemeral ports don't land on it.
    static func freeBasePort() throws -> Int {
        for _ in 0..<50 {
            let base = Int.random(in: 20_000...30_000)
            let ports = LocalBenchCluster.ports(nodeCount: 3, basePort: base) + [base + 300]
            if !ports.contains(where: PortCheck.isBusy) { return base }
        }
        throw XCTSkip("no free port range found")
    }

    /// Runs a process to its end (termination handler, not waitUntilExit), with its stdout
    /// and stderr in one log file.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        let logPath = NSTemporaryDirectory() + "quorumkv-bench-test-" + UUID().uuidString.prefix(8) + ".log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let log = try XCTUnwrap(FileHandle(forWritingAtPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try log.close()
        return (status, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }
}
