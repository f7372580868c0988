import ArgumentParser
import Dispatch
import Foundation
import QuorumBench

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, latency, staleness and availability across (w, r) settings.",
        discussion: """
            YCSB-style workloads over RESP, against a local cluster the command starts
            for itself (the same binary's `serve`, on loopback from --base-port, data in
            a temporary folder, all stopped at the end) or against running nodes given
            with --endpoint. For each workload it runs every (w, r) setting of the sweep
            for --n (for n = 3: 1,1 1,2 2,1 2,2 3,1 1,3 3,3), optionally again with one
            node paused (SIGSTOP), and with --reference redis the same workload against
            Debian's redis-server (appendfsync everysec) through the same client code,
            so every figure has a ratio to a known server.

            Workloads: A 50% read / 50% update; B 95/5; C read only; F 50% read / 50%
            read-modify-write (QGET, then QSET with the context); W update only (not
            YCSB); cache 90% GET / 10% SET key value EX ttl (not YCSB; --ttl, and
            --short-ttl so some keys expire during the run and GETs miss); incr INCR of
            counters only and sadd SADD of a new element only (not YCSB: convergent types,
            each in its own bucket, bench-counters or bench-sets, which the harness makes
            typed on its local cluster; with --endpoint create them first with `quorumkv
            type create counter --bucket bench-counters`); strong-read GET only,
            strong-write SET only and cas (GET, then SET … IFEQ of the value read,
            counting conflicts) in bench-strong, a strongly consistent bucket the harness
            creates (issue #17), each run once rather than per (w, r) setting, since a
            strong bucket takes no levels; name them beside C and W to compare with eventual
            reads and writes on the same cluster. Keys: uniform, zipfian (scrambled, theta 0.99) or latest (reads
            favour recent writes).

            Without --rate each connection sends its next operation when the last is
            answered (closed loop). With --rate operations are issued on a fixed
            schedule and latency counts from when each was due, so a stall shows up as
            latency (no coordinated omission).

            A server that refuses a command (a node without expiry answers the cache
            workload's SET … EX with "-ERR … keys do not expire") is reported, not
            fatal: an error count by kind and the first error's text per setting.

            Reported per setting: throughput; latency p50/p90/p99/p99.9/max
            (HdrHistogram); errors by kind and the first error's text; availability;
            read misses (reads that found no value); stale reads (a read returning
            a version older than a write acknowledged before the read began, per key);
            siblings seen; P(fresh read) by the time since the key's latest acknowledged
            write (PBS-style); CPU and memory of each node. A live progress line while
            it runs, a table at the end, and with --output report.json, report.csv,
            report.txt and SVG plots.

            Examples:
              quorumkv bench --quick
              quorumkv bench --workload A --workload C --reference redis --output out
              quorumkv bench --nodes 1 --n 1 --setting 1,1 --workload W --reference redis
              quorumkv bench --nodes 1 --n 1 --setting 1,1 --workload cache --short-ttl 2 --reference redis
              quorumkv bench --nodes 3 --n 3 --setting 3,2 --workload incr --workload sadd --reference redis
              quorumkv bench --nodes 3 --n 3 --setting 2,2 --workload C --workload W --workload strong-read --workload strong-write --workload cas
              quorumkv bench --pause-node --distribution latest --rate 4000
              quorumkv bench --endpoint 127.0.0.1:6381 --endpoint 127.0.0.1:6382 --n 2

            Exit codes:
              0  the run finished (with --quick or --check: and passed its checks)
              1  the run could not finish: a busy port, a server that didn't start
              2  usage error: a bad flag
              3  the run finished but failed its own checks (--quick, --check)
            """
    )

    @Flag(help: "The CI run: 3 nodes, the n=3 sweep, workloads A and F, latest keys, 1.5 s per setting, self-checked. Other flags given override it.")
    var quick = false

    @Option(name: .customLong("workload"), help: "A, B, C, F, W, cache, incr, sadd, strong-read, strong-write or cas; repeat for several (default A).")
    var workloads: [String] = []

    @Option(help: "Seconds of expiry (EX) on the cache workload's SETs (default 60).")
    var ttl: Int?

    @Option(name: .customLong("short-ttl"), help: "Give a share of the cache workload's SETs this shorter expiry in seconds, so keys expire during the run and GETs miss (default: off).")
    var shortTTL: Int?

    @Option(name: .customLong("short-ttl-share"), help: "Share of the cache workload's SETs, in (0, 1], that get --short-ttl (default 0.25).")
    var shortTTLShare: Double?

    @Option(help: "Key choice: uniform, zipfian or latest (default uniform).")
    var distribution: String?

    @Option(help: "Records preloaded and used by the workload (default 10000).")
    var records: Int?

    @Option(name: .customLong("value-size"), help: "Bytes per value, at least 12 (default 100).")
    var valueSize: Int?

    @Option(help: "Client connections, spread over the nodes (default 50).")
    var connections: Int?

    @Option(help: "Measured seconds per setting (default 10).")
    var duration: Double?

    @Option(help: "Measured operations per setting, instead of --duration.")
    var operations: Int?

    @Option(help: "Seconds of unmeasured load before each setting (default 2).")
    var warmup: Double?

    @Option(help: "Target operations per second, open loop; without it, closed loop.")
    var rate: Double?

    @Option(help: "Replicas per key for the sweep (default 3).")
    var n: Int?

    @Option(name: .customLong("setting"), help: "A (w, r) setting as w,r, e.g. 2,2; repeat for several (default: the sweep for --n).")
    var settings: [String] = []

    @Option(help: "Nodes of the local cluster to start (default 3).")
    var nodes: Int?

    @Flag(help: "Start the local cluster with TLS on every port (a CA and node certificates made for the run, mutual TLS between nodes) and speak RESP over TLS; compare with the same run without it. Not with --endpoint.")
    var tls = false

    @Option(name: .customLong("endpoint"), help: "RESP address host:port of a running node; repeat for each. No local cluster is started.")
    var endpoints: [String] = []

    @Option(help: "Bucket to use (SELECT), default bucket when not given.")
    var bucket: String?

    @Flag(name: .customLong("pause-node"), help: "Repeat the sweep with the last node paused (SIGSTOP), to show availability per setting.")
    var pauseNode = false

    @Option(help: "none, or redis: run each workload against redis-server too, for ratios.")
    var reference: String = "none"

    @Option(name: .customLong("timeout"), help: "Server-side TIMEOUT of each command in ms (default 2000); the client gives up 1 s later.")
    var timeoutMs: Int?

    @Option(name: .customLong("base-port"), help: "First port of the local cluster: HTTP base+i, peer base+100+i, RESP base+200+i, redis-server base+300 (default 17000). Busy ports are refused.")
    var basePort: Int?

    @Option(help: "SQLite sync level of the local nodes: full or normal (default full).")
    var sync: String?

    @Option(name: .customLong("event-loop-threads"), help: "Network threads per local node (default: the node's own default).")
    var eventLoopThreads: Int?

    @Option(help: "Seed of the key and operation choice.")
    var seed: UInt64?

    @Option(help: "Folder for report.json, report.csv, report.txt and the SVG plots.")
    var output: String?

    @Flag(help: "Check the output as --quick does (every setting reported, no negative or NaN figure, no stale read where w + r > n without faults).")
    var check = false

    @Flag(help: "Print the JSON report on stdout instead of the table.")
    var json = false

    @Flag(name: .customLong("no-progress"), help: "No live progress line.")
    var noProgress = false

    @Flag(name: .customLong("keep-data"), help: "Keep the local nodes' data folder (its path is printed).")
    var keepData = false

    func run() async throws {
        let configuration: BenchConfiguration
        do {
            configuration = try makeConfiguration()
        } catch let error as BenchError {
            throw ValidationError(error.description)
        }
        let interactive = isatty(STDERR_FILENO) == 1
        let status: @Sendable (String) -> Void = { text in
            FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + text + "\n").utf8))
        }
        let live: @Sendable (String) -> Void = { text in
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + text : text + "\n").utf8))
        }
        let progress = noProgress ? nil : live
        let runner = BenchRunner(configuration: configuration, say: status, progress: progress)
        let signals = Self.killChildrenOnSignals(runner)
        defer { signals.forEach { $0.cancel() } }
        let report: BenchReport
        do {
            report = try await runner.run()
        } catch let error as BenchError {
            if case .usage(let message) = error { throw ValidationError(message) }
            status("error: \(error)")
            throw ExitCode(1)
        }
        if json {
            FileHandle.standardOutput.write(try report.json())
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(("\n" + BenchTable.render(report) + "\n").utf8))
        }
        if let output {
            let files = try BenchOutput.write(report, to: output)
            status("wrote \(files.count) files to \(output)")
        }
        if configuration.selfCheck {
            let problems = BenchSelfCheck.problems(in: report, expected: configuration.sweep)
            if !problems.isEmpty {
                status("error: \(BenchError.selfCheckFailed(problems))")
                throw ExitCode(3)
            }
            status("self-check passed: \(report.results.count) settings reported, figures finite and non-negative, no stale read where w + r > n")
        }
    }

    private func makeConfiguration() throws -> BenchConfiguration {
        var c = quick ? BenchConfiguration.quick() : BenchConfiguration()
        if !workloads.isEmpty {
            c.workloads = try workloads.flatMap { $0.split(separator: ",") }.map { try Workload.parse(String($0)) }
        }
        if let ttl { c.expiry.ttlSeconds = ttl }
        if let shortTTLShare {
            guard shortTTL != nil else { throw BenchError.usage("--short-ttl-share needs --short-ttl") }
            c.expiry.shortShare = shortTTLShare
        }
        c.expiry.shortTTLSeconds = shortTTL
        try c.expiry.validate()
        if ttl != nil || shortTTL != nil, !c.workloads.contains(where: \.setsExpiry) {
            throw BenchError.usage("--ttl and --short-ttl apply to the cache workload only; add --workload cache")
        }
        if let distribution { c.distribution = try KeyDistribution.parse(distribution) }
        if let records { c.recordCount = records }
        if let valueSize { c.valueSize = valueSize }
        if let connections { c.connections = connections }
        if let duration { c.durationSeconds = duration }
        if let operations {
            guard operations > 0 else { throw BenchError.usage("--operations must be positive") }
            c.operations = operations
        }
        if let warmup {
            guard warmup >= 0 else { throw BenchError.usage("--warmup must be 0 or more") }
            c.warmupSeconds = warmup
        }
        c.targetRate = rate
        if let n { c.n = n }
        if let nodes { c.nodeCount = nodes } else if n != nil, endpoints.isEmpty { c.nodeCount = max(c.nodeCount, c.n) }
        c.settings = try settings.flatMap { $0.split(separator: " ") }.map { try QuorumSetting.parse(String($0), n: c.n) }
        c.endpoints = try endpoints.map(BenchTarget.Endpoint.parse)
        if tls, !c.endpoints.isEmpty {
            throw BenchError.usage("--tls starts a local cluster with its own certificates; it does not apply to --endpoint")
        }
        c.tls = tls
        c.bucket = bucket
        c.pauseNode = pauseNode
        guard let reference = BenchConfiguration.Reference(rawValue: reference) else {
            throw BenchError.usage("--reference must be none or redis")
        }
        c.reference = reference
        if let timeoutMs {
            guard (1...60_000).contains(timeoutMs) else { throw BenchError.usage("--timeout must be 1...60000 ms") }
            c.requestTimeoutMs = timeoutMs
        }
        if let basePort { c.basePort = basePort }
        if let sync {
            guard ["full", "normal"].contains(sync) else { throw BenchError.usage("--sync must be full or normal") }
            c.sync = sync
        }
        c.eventLoopThreads = eventLoopThreads
        if let seed { c.seed = seed }
        c.outputDirectory = output
        c.keepData = keepData
        c.selfCheck = c.selfCheck || check
        c.executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return c
    }

    /// Ctrl-C or SIGTERM kills every server the run started, then exits 130.
    private static func killChildrenOnSignals(_ runner: BenchRunner) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in
                runner.killChildren()
                FileHandle.standardError.write(Data("\ninterrupted; stopped every server the run started\n".utf8))
                Foundation.exit(130)
            }
            source.resume()
            return source
        }
    }
}
