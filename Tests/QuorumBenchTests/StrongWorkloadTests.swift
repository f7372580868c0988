import Foundation
import NIOCore
import NIOPosix
import XCTest

@testable import QuorumBench

/// The strong workloads (#17): `strong-read`, `strong-write` and `cas` run in the strong
/// bucket, once per run, sending only `TIMEOUT` (a strong bucket refuses levels); `cas`
/// reads, then sends `SET … IFEQ` of the value read (`NX` when it read none), and counts a
/// nil answer as a conflict, not an error.
final class StrongWorkloadTests: XCTestCase {
    /// The share of operations that must succeed in the real-cluster run, each workload.
    static let availabilityMin = 0.95

    func testStrongWorkloadsRunOnceInTheStrongBucket() throws {
        XCTAssertEqual(try Workload.parse("strong-read"), .strongRead)
        XCTAssertEqual(try Workload.parse("STRONG-WRITE"), .strongWrite)
        XCTAssertEqual(try Workload.parse("cas"), .cas)
        XCTAssertEqual(Workload.allCases.filter(\.isStrong), [.strongRead, .strongWrite, .cas])
        XCTAssertEqual(Workload.strongRead.operation(draw: 0.9999), .read)
        XCTAssertEqual(Workload.strongWrite.operation(draw: 0), .update)
        XCTAssertEqual(Workload.cas.operation(draw: 0), .readModifyWrite)
        let target = BenchTarget(kind: .quorumkv, endpoints: [BenchTarget.Endpoint(host: "127.0.0.1", port: 1)], bucket: "b")
        XCTAssertEqual(BenchRunner.target(target, for: .cas).bucket, Workload.strongBucket)
        XCTAssertEqual(BenchRunner.target(target, for: .c).bucket, "b")
        let sweep = [QuorumSetting(n: 3, w: 2, r: 2), QuorumSetting(n: 3, w: 1, r: 1)]
        XCTAssertEqual(BenchRunner.settings(for: .strongRead, sweep: sweep), [nil])
        XCTAssertEqual(BenchRunner.settings(for: .c, sweep: sweep), sweep)
    }

    func testCasReadsThenSetsIfEqualAndCountsConflicts() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await FakeNode.start(on: group)
        let operations = 400
        let target = BenchRunner.target(BenchTarget(kind: .quorumkv, endpoints: [server.endpoint]), for: .cas)
        let plan = LoadPlan(
            target: target, workload: .cas, distribution: .uniform, recordCount: 40, valueSize: 20, connections: 4,
            durationSeconds: 0, operations: operations, warmupSeconds: 0, targetRate: nil, setting: nil,
            requestTimeoutMs: 1_500, seed: 11, label: "cas", expiry: CacheExpiry())
        let outcome = try await LoadGenerator(
            plan: plan, eventLoop: group.next(), clock: BenchClock(), tracker: StalenessTracker(recordCount: 40), progress: nil
        ).run()
        let commands = server.commands()
        try await server.channel.close()
        try await group.shutdownGracefully()

        XCTAssertEqual(outcome.errors, [:])
        XCTAssertEqual(outcome.succeeded[.readModifyWrite], operations, "a conflict is an answer, not an error")
        XCTAssertEqual(Set(commands.filter { $0.first == "SELECT" }), [["SELECT", Workload.strongBucket]])
        XCTAssertFalse(commands.contains { $0.first == "CONSISTENCY" || $0.first == "QGET" || $0.first == "QSET" })
        let gets = commands.filter { $0.first == "GET" }
        let sets = commands.filter { $0.first == "SET" }
        XCTAssertEqual(gets.count, operations)
        XCTAssertEqual(sets.count, operations)
        XCTAssertTrue(gets.allSatisfy { $0.count == 4 && $0[2...] == ["TIMEOUT", "1500"] }, "GET key TIMEOUT ms, no levels")
        // The fake answers absent for odd keys, "0|xxxxxxxxxxxx" for even ones.
        let index = { (words: [String]) in Int(words[1].dropFirst(VersionedValue.keyPrefix.count)) ?? -1 }
        for set in sets {
            let expected = index(set) % 2 == 1 ? ["NX"] : ["IFEQ", "0|xxxxxxxxxxxx"]
            XCTAssertEqual(Array(set[3...]), expected + ["TIMEOUT", "1500"], "\(set)")
        }
        let conflicts = sets.filter { $0.contains("IFEQ") && index($0) % 4 == 0 }.count
        XCTAssertGreaterThan(conflicts, 0)
        XCTAssertEqual(outcome.casConflicts, conflicts, "each nil answer to IFEQ is one conflict")
    }

    func testSelfCheckWantsEachStrongWorkloadOnce() {
        let sweep = [QuorumSetting(n: 3, w: 2, r: 2)]
        var strong = Self.result(workload: "strong-read")
        strong.consistency = "strong"
        var configuration = BenchConfiguration()
        configuration.workloads = [.strongRead]
        var report = BenchReport(startedAt: Date(), configuration: configuration, redisVersion: nil, results: [])
        XCTAssertEqual(BenchSelfCheck.problems(in: report, expected: sweep), ["workload strong-read in the strong bucket: not reported"])
        report.results = [strong]
        XCTAssertEqual(BenchSelfCheck.problems(in: report, expected: sweep), [])
        XCTAssertEqual(strong.settingLabel, "n=3 strong")
        strong.staleReads = 1
        report.results = [strong]
        XCTAssertEqual(
            BenchSelfCheck.problems(in: report, expected: sweep), ["strong-read n=3 strong: 1 stale reads of 10 with w + r > n and no fault"],
            "a strong read must never be stale")
    }

    func testConflictsAreReportedApartFromErrors() throws {
        var cas = Self.result(workload: "cas")
        cas.consistency = "strong"
        cas.casConflicts = 3
        XCTAssertTrue(BenchTable.line(cas).contains("errors 0  cas conflicts 3"), BenchTable.line(cas))
        var configuration = BenchConfiguration()
        configuration.workloads = [.cas]
        let report = BenchReport(startedAt: Date(), configuration: configuration, redisVersion: nil, results: [cas])
        XCTAssertTrue(
            BenchTable.render(report).contains("cas conflicts, cas n=3 strong: 3 of 10 compare-and-sets found the key changed"),
            BenchTable.render(report))
        let header = BenchReport.csvHeader.split(separator: ",").map(String.init)
        let row = try XCTUnwrap(report.csv().split(separator: "\n").last).split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(row[try XCTUnwrap(header.firstIndex(of: "consistency"))], "strong")
        XCTAssertEqual(row[try XCTUnwrap(header.firstIndex(of: "cas_conflicts"))], "3")
        let decoded = try JSONDecoder().decode(BenchReport.self, from: try report.json())
        XCTAssertEqual(decoded.results.first?.casConflicts, 3)
        XCTAssertEqual(decoded.results.first?.consistency, "strong")
    }

    /// The real binary against the 3-node cluster it starts: the strong workloads beside
    /// eventual C and W at w=r=2, as docs/benchmarks.md runs them, self-checked (each strong
    /// workload reported, no stale strong read), with at most timeouts of strong operations.
    /// Needs nodes that run strong buckets (the storage and props sides of #17).
    func testStrongWorkloadsRunBesideEventualOnARealCluster() async throws {
        let binary = try QuickBenchTests.quorumkvBinary()
        let output = NSTemporaryDirectory() + "quorumkv-bench-strong-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let (status, log) = try await QuickBenchTests.run(binary, [
            "bench", "--no-progress", "--check", "--base-port", String(try QuickBenchTests.freeBasePort()), "--nodes", "3", "--n", "3",
            "--setting", "2,2", "--workload", "C", "--workload", "W", "--workload", "strong-read", "--workload", "strong-write",
            "--workload", "cas", "--records", "300", "--connections", "8", "--duration", "1.5",
            "--warmup", "0.3", "--output", output,
        ])
        XCTAssertEqual(status, 0, "bench with strong workloads failed:\n\(log)")
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: output + "/report.json")))
        XCTAssertEqual(report.results.map(\.workload), ["C", "W", "strong-read", "strong-write", "cas"])
        for result in report.results {
            // A strong operation may time out under contention (UNAVAILABLE, saying so); nothing else may fail.
            let name = "\(result.workload) \(result.settingLabel): \(result.firstError ?? "")"
            XCTAssertTrue(Set(result.errors.keys).isSubset(of: ["UNAVAILABLE"]), name)
            XCTAssertGreaterThanOrEqual(result.availability, Self.availabilityMin, name)
            XCTAssertGreaterThan(result.succeeded, 0, result.workload)
            if result.workload.hasPrefix("strong") || result.workload == "cas" {
                XCTAssertEqual(result.consistency, "strong")
                XCTAssertEqual(result.staleReads, 0, "a strong read is never stale")
            }
        }
        let cas = try XCTUnwrap(report.results.last)
        XCTAssertNotNil(cas.casConflicts)
        XCTAssertGreaterThan(cas.readsChecked, 0)
    }

    static func result(workload: String) -> SettingResult {
        let latency = LatencySummary(LoadOutcome.makeHistogram())
        return SettingResult(
            target: "quorumkv", nodes: 3, workload: workload, distribution: "uniform", n: 3, w: nil, r: nil, pausedNodes: [],
            connections: 1, targetRate: nil, seconds: 1, throughput: 10, succeeded: 10, failed: 0, availability: 1, errors: [:],
            firstError: nil, latency: latency, readLatency: nil, updateLatency: nil, rmwLatency: nil, readsChecked: 10,
            staleReads: 0, staleFraction: 0, siblingsSeen: 0, unversionedReads: 0, readMisses: 0, pbs: [], nodeUsage: [],
            clientCPUCores: 0, throughputRatioToReference: nil, p99RatioToReference: nil)
    }
}
