import Foundation
import NIOCore
import NIOPosix
import XCTest

@testable import QuorumBench

/// The typed workloads (#16): `incr` sends INCR, `sadd` sends SADD of an element no other
/// operation adds, each to its own keys and (on QuorumKV) bucket; run against a real
/// redis-server, every operation succeeds and the server holds exactly what was sent.
final class TypedWorkloadTests: XCTestCase {
    func testTypedWorkloadsAreUpdateOnlyInTheirOwnBuckets() throws {
        XCTAssertEqual(try Workload.parse("INCR"), .incr)
        XCTAssertEqual(try Workload.parse("sadd"), .sadd)
        for workload in [Workload.incr, .sadd] {
            XCTAssertEqual(workload.operation(draw: 0), .update)
            XCTAssertEqual(workload.operation(draw: 0.9999), .update)
            XCTAssertFalse(workload.setsExpiry)
        }
        XCTAssertEqual(Workload.incr.typedBucket, "bench-counters")
        XCTAssertEqual(Workload.sadd.typedBucket, "bench-sets")
        XCTAssertEqual(Workload.allCases.filter { $0.typedCommand != nil }, [.incr, .sadd])
        let target = BenchTarget(kind: .quorumkv, endpoints: [BenchTarget.Endpoint(host: "127.0.0.1", port: 1)], bucket: "b")
        XCTAssertEqual(BenchRunner.target(target, for: .sadd).bucket, "bench-sets")
        XCTAssertEqual(BenchRunner.target(target, for: .a).bucket, "b")
        XCTAssertEqual(LoadGenerator.typedKey(7, .incr), "incr:7", "apart from the preloaded records' keys")
        XCTAssertNotEqual(LoadGenerator.setElement(serial: 1, seed: 5), LoadGenerator.setElement(serial: 2, seed: 5))
    }

    func testTypedUpdatesEncodeForBothServers() throws {
        var redis = ByteBuffer()
        RESPCommandWriter.writeTypedUpdate(command: "INCR", key: "incr:3", element: nil, suffix: ByteBuffer(), suffixWords: 0, into: &redis)
        XCTAssertEqual(String(buffer: redis), "*2\r\n$4\r\nINCR\r\n$6\r\nincr:3\r\n")
        let suffix = ["W", "2", "N", "3", "TIMEOUT", "2000"]
        var node = ByteBuffer()
        RESPCommandWriter.writeTypedUpdate(
            command: "SADD", key: "sadd:3", element: "e5-9", suffix: RESPCommandWriter.encodedArguments(suffix), suffixWords: suffix.count,
            into: &node)
        XCTAssertEqual(try CacheWorkloadTests.words(node), ["SADD", "sadd:3", "e5-9"] + suffix)
    }

    /// Against a node, a connection first selects the typed bucket and sets its levels with
    /// `CONSISTENCY` (SADD is variadic: options after it would be elements), then sends
    /// INCR or SADD with nothing after the key and element.
    func testNodeConnectionsSetTheirLevelsOnceAndSendBareCommands() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await FakeNode.start(on: group)
        for workload in [Workload.incr, .sadd] {
            let target = BenchRunner.target(BenchTarget(kind: .quorumkv, endpoints: [server.endpoint]), for: workload)
            let plan = LoadPlan(
                target: target, workload: workload, distribution: .uniform, recordCount: 10, valueSize: 20, connections: 2,
                durationSeconds: 0, operations: 200, warmupSeconds: 0, targetRate: nil, setting: QuorumSetting(n: 3, w: 2, r: 2),
                requestTimeoutMs: 1_500, seed: 3, label: workload.rawValue, expiry: CacheExpiry())
            let outcome = try await LoadGenerator(
                plan: plan, eventLoop: group.next(), clock: BenchClock(), tracker: StalenessTracker(recordCount: 10), progress: nil
            ).run()
            XCTAssertEqual(outcome.errors, [:], "\(workload)")
            XCTAssertEqual(outcome.succeeded[.update], 200)
        }
        let commands = server.commands()
        try await server.channel.close()
        try await group.shutdownGracefully()
        XCTAssertEqual(commands.filter { $0.first == "SELECT" }.map { $0[1] }.sorted(), ["bench-counters", "bench-counters", "bench-sets", "bench-sets"])
        XCTAssertEqual(Set(commands.filter { $0.first == "CONSISTENCY" }), [["CONSISTENCY", "W", "2", "N", "3", "TIMEOUT", "1500"]])
        XCTAssertEqual(commands.filter { $0.first == "CONSISTENCY" }.count, 4, "once per connection")
        let incrs = commands.filter { $0.first == "INCR" }
        let sadds = commands.filter { $0.first == "SADD" }
        XCTAssertEqual(incrs.count, 200)
        XCTAssertEqual(sadds.count, 200)
        XCTAssertTrue(incrs.allSatisfy { $0.count == 2 && $0[1].hasPrefix("incr:") }, "INCR key, nothing after it")
        XCTAssertTrue(sadds.allSatisfy { $0.count == 3 && $0[1].hasPrefix("sadd:") }, "SADD key element, nothing after it")
        XCTAssertEqual(Set(sadds.map { $0[2] }).count, 200, "every element new")
    }

    /// Both workloads against redis-server: no errors, and the server's counters sum to the
    /// INCRs sent and its sets hold one element per SADD (every element was new).
    func testBothWorkloadsRunAgainstRedisServer() async throws {
        guard RedisReferenceServer.findExecutable() != nil else { throw XCTSkip("redis-server is not installed") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let port = try QuickBenchTests.freeBasePort() + 300
        let redis = try await RedisReferenceServer.start(port: port, eventLoop: group.next())
        do {
            let operations = 3_000
            for workload in [Workload.incr, .sadd] {
                let plan = LoadPlan(
                    target: BenchTarget(kind: .redis, endpoints: [redis.endpoint]), workload: workload, distribution: .uniform,
                    recordCount: 50, valueSize: 20, connections: 4, durationSeconds: 0, operations: operations, warmupSeconds: 0,
                    targetRate: nil, setting: nil, requestTimeoutMs: 2_000, seed: 11, label: workload.rawValue, expiry: CacheExpiry())
                let outcome = try await LoadGenerator(
                    plan: plan, eventLoop: group.next(), clock: BenchClock(), tracker: StalenessTracker(recordCount: 50),
                    progress: nil
                ).run()
                XCTAssertEqual(outcome.errors, [:], "\(workload): \(outcome.firstError ?? "")")
                XCTAssertEqual(outcome.succeeded[.update], operations, "\(workload)")
            }
            let counted = try Self.redisEval(
                port: port, "local s = 0 for _, k in ipairs(redis.call('keys', 'incr:*')) do s = s + tonumber(redis.call('get', k)) end return s")
            XCTAssertEqual(counted, "3000", "every INCR counted once")
            let members = try Self.redisEval(
                port: port, "local s = 0 for _, k in ipairs(redis.call('keys', 'sadd:*')) do s = s + redis.call('scard', k) end return s")
            XCTAssertEqual(members, "3000", "every SADD added a new element")
        } catch {
            await redis.stop()
            try await group.shutdownGracefully()
            throw error
        }
        await redis.stop()
        try await group.shutdownGracefully()
    }

    /// `redis-cli EVAL script 0`, its one-line answer.
    static func redisEval(port: Int, _ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-p", String(port), "EVAL", script, "0"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
