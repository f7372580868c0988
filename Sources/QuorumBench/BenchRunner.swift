import Foundation
import NIOCore
import NIOPosix
import QuorumCore
import QuorumNode

/// Runs a whole `quorumkv bench`: starts (or reaches) the cluster, preloads, sweeps every
/// setting of every workload, optionally again with a node paused, runs the redis-server
/// reference, stops everything it started, and returns the report.
public final class BenchRunner: @unchecked Sendable {
    private let configuration: BenchConfiguration
    private let say: @Sendable (String) -> Void
    private let progress: (@Sendable (String) -> Void)?
    private let children = ChildRegistry()

    public init(
        configuration: BenchConfiguration, say: @escaping @Sendable (String) -> Void,
        progress: (@Sendable (String) -> Void)?
    ) {
        self.configuration = configuration
        self.say = say
        self.progress = progress
    }

    /// SIGKILLs every server the run started; for Ctrl-C, when there is no time to stop cleanly.
    public func killChildren() { children.killAll() }

    public func run() async throws -> BenchReport {
        try validate()
        // One client thread: the harness shares two cores with the servers it measures.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let report = try await run(on: group.next())
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(on eventLoop: EventLoop) async throws -> BenchReport {
        let clock = BenchClock()
        let startedAt = Date()
        var results: [SettingResult] = []
        var cluster: LocalBenchCluster?
        var redis: RedisReferenceServer?
        do {
            let endpoints: [BenchTarget.Endpoint]
            if configuration.endpoints.isEmpty {
                say("starting a local \(configuration.nodeCount)-node cluster\(configuration.tls ? " with TLS on every port" : "") (ports from \(configuration.basePort))…")
                let started = try await LocalBenchCluster.start(
                    executable: configuration.executable, nodeCount: configuration.nodeCount,
                    basePort: configuration.basePort, sync: configuration.sync,
                    eventLoopThreads: configuration.eventLoopThreads, extraArguments: [],
                    keepData: configuration.keepData, tls: configuration.tls, eventLoop: eventLoop)
                cluster = started
                children.add(started.nodes)
                endpoints = started.respEndpoints
            } else {
                endpoints = configuration.endpoints
            }
            if configuration.reference == .redis {
                let server = try await RedisReferenceServer.start(port: configuration.basePort + 300, eventLoop: eventLoop)
                redis = server
                children.add([server.process])
                say("redis-server \(server.version) on \(server.endpoint) (appendonly yes, appendfsync everysec)")
            }
            let target = BenchTarget(kind: .quorumkv, endpoints: endpoints, bucket: configuration.bucket)
            try await createTypedBuckets(cluster: cluster)
            let tracker = StalenessTracker(recordCount: configuration.recordCount)
            // The strong bucket's records are other keys than the run's bucket's: their own tracker.
            let strongTracker = try await prepareStrongBucket(target: target, cluster: cluster, eventLoop: eventLoop)
            say("preloading \(configuration.recordCount) records of \(configuration.valueSize) bytes at w=\(configuration.n)…")
            try await Preloader(
                target: target, recordCount: configuration.recordCount, valueSize: configuration.valueSize,
                connections: configuration.connections, n: configuration.n, eventLoop: eventLoop
            ).run()

            var redisTracker: StalenessTracker?
            if let redis {
                let redisTarget = BenchTarget(kind: .redis, endpoints: [redis.endpoint])
                try await Preloader(
                    target: redisTarget, recordCount: configuration.recordCount, valueSize: configuration.valueSize,
                    connections: configuration.connections, n: nil, eventLoop: eventLoop
                ).run()
                redisTracker = StalenessTracker(recordCount: configuration.recordCount)
            }

            var runIndex: UInt64 = 0
            for workload in configuration.workloads {
                for setting in Self.settings(for: workload, sweep: configuration.sweep) {
                    runIndex += 1
                    results.append(
                        try await runSetting(
                            target: Self.target(target, for: workload), workload: workload, setting: setting, paused: [],
                            cluster: cluster,
                            tracker: workload.isStrong ? strongTracker ?? tracker : tracker, clock: clock, eventLoop: eventLoop,
                            seedOffset: runIndex))
                }
                // redis-server has no strong bucket (nor, before Valkey 8.1, IFEQ): no reference for those.
                if let redis, let redisTracker, !workload.isStrong {
                    runIndex += 1
                    results.append(
                        try await runSetting(
                            target: BenchTarget(kind: .redis, endpoints: [redis.endpoint]), workload: workload,
                            setting: nil, paused: [], cluster: nil, tracker: redisTracker, clock: clock,
                            eventLoop: eventLoop, seedOffset: runIndex, redisProcess: redis.process))
                }
            }

            if configuration.pauseNode, let cluster, cluster.nodes.count > 1 {
                let pausedIndex = cluster.nodes.count - 1
                let paused = cluster.nodes[pausedIndex]
                say("pausing \(paused.name) (SIGSTOP) and waiting \(configuration.pauseSettleSeconds) s…")
                paused.pause()
                try await Task.sleep(for: .milliseconds(Int(configuration.pauseSettleSeconds * 1_000)))
                defer { paused.resume() }
                for workload in configuration.workloads {
                    for setting in Self.settings(for: workload, sweep: configuration.sweep) {
                        runIndex += 1
                        results.append(
                            try await runSetting(
                                target: Self.target(target, for: workload), workload: workload, setting: setting,
                                paused: [pausedIndex],
                                cluster: cluster, tracker: workload.isStrong ? strongTracker ?? tracker : tracker,
                                clock: clock, eventLoop: eventLoop, seedOffset: runIndex))
                    }
                }
            }
        } catch {
            await redis?.stop()
            await cluster?.stop()
            throw error
        }
        await redis?.stop()
        await cluster?.stop()
        let report = BenchReport(
            startedAt: startedAt, configuration: configuration, redisVersion: redis?.version,
            results: BenchReport.withRatios(results))
        return report
    }

    /// A typed or strong workload runs in its own bucket (`Workload.ownBucket`); the others
    /// in the configured one.
    static func target(_ target: BenchTarget, for workload: Workload) -> BenchTarget {
        guard let bucket = workload.ownBucket else { return target }
        return BenchTarget(kind: target.kind, endpoints: target.endpoints, bucket: bucket)
    }

    /// The settings a workload runs under: every one of the sweep, except a strong
    /// workload, which runs once (nil): a strong bucket takes no w or r.
    static func settings(for workload: Workload, sweep: [QuorumSetting]) -> [QuorumSetting?] {
        workload.isStrong ? [nil] : sweep
    }

    /// With a strong workload: makes `Workload.strongBucket` strongly consistent with the
    /// run's n (on the local cluster, through the first node's HTTP API, acknowledged once
    /// every member adopted it; with `--endpoint` it must exist), preloads its records
    /// and answers their staleness tracker. Nil without a strong workload.
    private func prepareStrongBucket(
        target: BenchTarget, cluster: LocalBenchCluster?, eventLoop: EventLoop
    ) async throws -> StalenessTracker? {
        guard configuration.workloads.contains(where: \.isStrong) else { return nil }
        let bucket = Workload.strongBucket
        if let cluster {
            let client = KVHTTPClient(baseURL: cluster.httpBaseURL, tls: cluster.respEndpoints.first?.tls?.context)
            // Raw JSON: the props document's `consistency` field (docs/http.md).
            let body = Array(#"{"n": \#(configuration.n), "consistency": "strong"}"#.utf8)
            do {
                let response = try await client.send(
                    method: "PUT", path: "/buckets/\(bucket)/props", headers: [("Content-Type", "application/json")], body: body,
                    timeout: .seconds(10))
                guard response.status == 200 else { throw KVHTTPClient.serverError(response) }
            } catch {
                throw BenchError.startup("could not make bucket \(bucket) strongly consistent: \(error)")
            }
            say("bucket \(bucket) is strongly consistent (n=\(configuration.n)); waiting until every node takes strong writes…")
            for endpoint in cluster.respEndpoints {
                try await ServerReadiness.waitForStrongWrites(
                    endpoint, bucket: bucket, eventLoop: eventLoop, seconds: LocalBenchCluster.strongReadySeconds)
            }
        } else {
            say("strong workloads: expecting bucket \(bucket) to be strongly consistent "
                + "(PUT /buckets/\(bucket)/props with {\"consistency\": \"strong\"} before it holds data)")
        }
        say("preloading \(configuration.recordCount) records into \(bucket) through consensus…")
        try await Preloader(
            target: Self.target(target, for: .strongWrite), recordCount: configuration.recordCount,
            valueSize: configuration.valueSize, connections: configuration.connections, n: nil, eventLoop: eventLoop
        ).run()
        return StalenessTracker(recordCount: configuration.recordCount)
    }

    /// Makes each typed workload's bucket a counter or set bucket with the run's n through
    /// the first node's HTTP API (acknowledged once every member adopted it). Against
    /// `--endpoint` nodes the harness knows no HTTP address: the buckets must exist already.
    private func createTypedBuckets(cluster: LocalBenchCluster?) async throws {
        let typed = configuration.workloads.filter { $0.typedBucket != nil }
        guard !typed.isEmpty else { return }
        guard let cluster else {
            for workload in typed {
                say("\(workload.rawValue): expecting bucket \(workload.typedBucket ?? "") to be a \(workload.datatype ?? "") bucket "
                    + "(quorumkv type create \(workload.datatype ?? "") --bucket \(workload.typedBucket ?? ""))")
            }
            return
        }
        let client = KVHTTPClient(baseURL: cluster.httpBaseURL, tls: cluster.respEndpoints.first?.tls?.context)
        for workload in typed {
            guard let bucket = workload.typedBucket, let name = workload.datatype, let datatype = DataType(rawValue: name) else { continue }
            do {
                _ = try await client.setBucketProps(bucket: bucket, update: BucketPropsUpdate(n: configuration.n, datatype: datatype))
            } catch {
                throw BenchError.startup("could not make bucket \(bucket) a \(name) bucket: \(error)")
            }
            say("bucket \(bucket) is a \(name) bucket")
        }
    }

    private func validate() throws {
        let c = configuration
        guard !c.workloads.isEmpty else { throw BenchError.usage("name at least one workload") }
        guard c.recordCount >= 1, c.recordCount <= 100_000_000 else { throw BenchError.usage("--records must be 1...100000000") }
        guard c.valueSize >= 12, c.valueSize <= 16 * 1024 * 1024 else {
            throw BenchError.usage("--value-size must be 12 bytes (room for the version) to 16 MiB")
        }
        guard (1...10_000).contains(c.connections) else { throw BenchError.usage("--connections must be 1...10000") }
        guard c.durationSeconds > 0 || c.operations != nil else { throw BenchError.usage("--duration must be positive") }
        if let rate = c.targetRate, !(rate > 0 && rate <= 10_000_000) {
            throw BenchError.usage("--rate must be 1...10000000 operations per second")
        }
        try c.expiry.validate()
        guard c.n >= 1 else { throw BenchError.usage("--n must be at least 1") }
        if c.endpoints.isEmpty {
            guard (1...64).contains(c.nodeCount) else { throw BenchError.usage("--nodes must be 1...64") }
            guard c.n <= c.nodeCount else {
                throw BenchError.usage("--n \(c.n) needs at least \(c.n) nodes; got --nodes \(c.nodeCount)")
            }
            guard !c.executable.isEmpty else { throw BenchError.usage("no quorumkv binary to start nodes with") }
        } else if c.pauseNode {
            throw BenchError.usage("--pause-node needs the local cluster the harness starts (no --endpoint)")
        }
        guard (1_024...60_000).contains(c.basePort) else { throw BenchError.usage("--base-port must be 1024...60000") }
        for setting in c.sweep where setting.n != c.n || setting.w > c.n || setting.r > c.n {
            throw BenchError.usage("setting \(setting) does not fit n=\(c.n)")
        }
    }

    private func runSetting(
        target: BenchTarget, workload: Workload, setting: QuorumSetting?, paused: Set<Int>,
        cluster: LocalBenchCluster?, tracker: StalenessTracker, clock: BenchClock, eventLoop: EventLoop,
        seedOffset: UInt64, redisProcess: ChildProcess? = nil
    ) async throws -> SettingResult {
        let c = configuration
        let label = "\(workload.rawValue) " + (setting.map { "w\($0.w)r\($0.r)" } ?? (workload.isStrong ? "strong" : "redis"))
            + (paused.isEmpty ? "" : " (paused)")
        let plan = LoadPlan(
            target: target, workload: workload, distribution: c.distribution, recordCount: c.recordCount,
            valueSize: c.valueSize, connections: c.connections, durationSeconds: c.durationSeconds,
            operations: c.operations, warmupSeconds: c.warmupSeconds, targetRate: c.targetRate, setting: setting,
            requestTimeoutMs: c.requestTimeoutMs, seed: c.seed &+ seedOffset &* 0x9E37_79B9, excludedEndpoints: paused,
            label: label, expiry: c.expiry)
        let processes: [ChildProcess] = cluster?.nodes ?? (redisProcess.map { [$0] } ?? [])
        let cpuBefore = processes.map { ProcessSampler.cpuSeconds(pid: $0.pid) ?? 0 }
        let clientBefore = ProcessSampler.cpuSeconds(pid: ProcessSampler.ownPID) ?? 0
        let wallBefore = clock.nowMicroseconds()
        let outcome = try await LoadGenerator(
            plan: plan, eventLoop: eventLoop, clock: clock, tracker: tracker, progress: progress
        ).run()
        let wall = max(0.001, Double(clock.nowMicroseconds() - wallBefore) / 1_000_000)
        let usage = processes.enumerated().map { index, process in
            SettingResult.NodeUsage(
                node: process.name,
                cpuCores: max(0, ((ProcessSampler.cpuSeconds(pid: process.pid) ?? 0) - cpuBefore[index]) / wall),
                residentMiB: ProcessSampler.residentMiB(pid: process.pid) ?? 0,
                paused: paused.contains(index))
        }
        let clientCPU = max(0, ((ProcessSampler.cpuSeconds(pid: ProcessSampler.ownPID) ?? 0) - clientBefore) / wall)
        var result = SettingResult(
            outcome: outcome, target: target.kind, nodes: target.endpoints.count, workload: workload,
            distribution: c.distribution, setting: setting,
            pausedNodes: paused.sorted().map { cluster?.nodes[$0].name ?? "node\($0 + 1)" },
            connections: c.connections, targetRate: c.targetRate, nodeUsage: usage, clientCPUCores: clientCPU)
        if workload.isStrong && target.kind == .quorumkv {
            result.consistency = "strong"
            result.n = c.n
            if workload == .cas { result.casConflicts = outcome.casConflicts }
        }
        say(BenchTable.line(result))
        return result
    }
}

/// Every server process a run started, so Ctrl-C can kill them all.
final class ChildRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [ChildProcess] = []

    func add(_ more: [ChildProcess]) { lock.withLock { processes += more } }
    func killAll() { for process in lock.withLock({ processes }) { process.killNow() } }
}
