import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import QuorumCore
import XCTest

@testable import QuorumBench

/// The cache workload (#14): its 90/10 mix, the expiry its SETs carry, their encoding, and
/// how a run reports a server that refuses the expiry (as a node without expiry does) and
/// reads that miss.
final class CacheWorkloadTests: XCTestCase {
    func testCacheMixIsNinetyPercentReadsAndTenPercentUpdates() throws {
        XCTAssertEqual(Workload.cache.readProportion, 0.9)
        XCTAssertEqual(Workload.cache.operation(draw: 0), .read)
        XCTAssertEqual(Workload.cache.operation(draw: 0.8999), .read)
        XCTAssertEqual(Workload.cache.operation(draw: 0.9), .update)
        XCTAssertEqual(Workload.cache.operation(draw: 0.9999), .update)
        XCTAssertEqual(try Workload.parse("cache"), .cache)
        XCTAssertEqual(try Workload.parse("CACHE"), .cache)
        XCTAssertEqual(try Workload.parse("a"), .a, "the letters still parse either case")
        XCTAssertEqual(Workload.allCases.filter(\.setsExpiry), [.cache], "only the cache workload sends EX")
        // Over the harness's own seeded draws, the shares come out as stated.
        var chooser = KeyChooser(recordCount: 10, distribution: .uniform, seed: 3)
        var counts: [OperationKind: Int] = [:]
        let draws = 200_000
        for _ in 0..<draws { counts[Workload.cache.operation(draw: chooser.unit()), default: 0] += 1 }
        XCTAssertEqual(counts[.readModifyWrite], nil)
        XCTAssertEqual(Double(counts[.read] ?? 0) / Double(draws), 0.9, accuracy: 0.005)
        XCTAssertEqual(Double(counts[.update] ?? 0) / Double(draws), 0.1, accuracy: 0.005)
    }

    func testExpiryGivesTheShortTTLToItsShareAndRefusesBadBounds() throws {
        XCTAssertEqual(CacheExpiry().ttl(draw: 0), 60, "one ttl for every SET by default")
        XCTAssertEqual(CacheExpiry().ttl(draw: 0.99), 60)
        let mixed = CacheExpiry(ttlSeconds: 60, shortTTLSeconds: 2, shortShare: 0.25)
        XCTAssertEqual(mixed.ttl(draw: 0.2499), 2)
        XCTAssertEqual(mixed.ttl(draw: 0.25), 60)
        var random = SplitMix64(seed: 9)
        var short = 0
        for _ in 0..<100_000 where mixed.ttl(draw: Double(random.next() >> 11) * 0x1.0p-53) == 2 { short += 1 }
        XCTAssertEqual(Double(short) / 100_000, 0.25, accuracy: 0.01)

        XCTAssertNoThrow(try mixed.validate())
        XCTAssertNoThrow(try CacheExpiry(ttlSeconds: CacheExpiry.ttlBounds.upperBound).validate())
        XCTAssertThrowsError(try CacheExpiry(ttlSeconds: 0).validate(), "EX 0 is an error in Redis")
        XCTAssertThrowsError(try CacheExpiry(ttlSeconds: CacheExpiry.ttlBounds.upperBound + 1).validate())
        XCTAssertThrowsError(try CacheExpiry(ttlSeconds: 5, shortTTLSeconds: 5).validate(), "a short ttl is shorter")
        XCTAssertThrowsError(try CacheExpiry(ttlSeconds: 5, shortTTLSeconds: 0).validate())
        XCTAssertThrowsError(try CacheExpiry(ttlSeconds: 60, shortTTLSeconds: 2, shortShare: 0).validate())
        XCTAssertThrowsError(try CacheExpiry(ttlSeconds: 60, shortTTLSeconds: 2, shortShare: 1.5).validate())
    }

    func testSetWithExpiryEncodesAsOneRESPArrayForBothServers() throws {
        // redis-server: no suffix.
        var redis = ByteBuffer()
        RESPCommandWriter.writeSet(
            key: "qkvbench:7", sequence: 3, size: 12, ttlSeconds: 60, suffix: ByteBuffer(), suffixWords: 0, into: &redis)
        XCTAssertEqual(
            String(buffer: redis),
            "*5\r\n$3\r\nSET\r\n$10\r\nqkvbench:7\r\n$12\r\n3|xxxxxxxxxx\r\n$2\r\nEX\r\n$2\r\n60\r\n")

        // QuorumKV: the consistency suffix after the expiry, counted in the array header.
        let suffixWords = ["W", "2", "N", "3", "TIMEOUT", "2000"]
        var node = ByteBuffer()
        RESPCommandWriter.writeSet(
            key: "qkvbench:7", sequence: 3, size: 100, ttlSeconds: 1, suffix: RESPCommandWriter.encodedArguments(suffixWords),
            suffixWords: suffixWords.count, into: &node)
        XCTAssertEqual(try Self.words(node), ["SET", "qkvbench:7", "3|" + String(repeating: "x", count: 98), "EX", "1"] + suffixWords)

        // Without an expiry (workloads A, B, F's plain SETs, W): exactly as before.
        var plain = ByteBuffer()
        RESPCommandWriter.writeSet(
            key: "qkvbench:7", sequence: 0, size: 12, ttlSeconds: nil, suffix: ByteBuffer(), suffixWords: 0, into: &plain)
        XCTAssertEqual(String(buffer: plain), "*3\r\n$3\r\nSET\r\n$10\r\nqkvbench:7\r\n$12\r\n0|xxxxxxxxxx\r\n")
    }

    /// A fake node that refuses every SET with EX as a node without expiry does today, and
    /// answers GETs of odd keys with nil: the run finishes, counts the refusals as errors
    /// with the server's text, and counts the nil answers as misses, not errors or stale reads.
    func testRefusedExpiryIsReportedWithItsTextAndMissesApartFromErrors() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await FakeNode.start(on: group)
        let plan = LoadPlan(
            target: BenchTarget(kind: .quorumkv, endpoints: [server.endpoint]), workload: .cache, distribution: .uniform,
            recordCount: 100, valueSize: 20, connections: 4, durationSeconds: 0, operations: 4_000, warmupSeconds: 0,
            targetRate: nil, setting: QuorumSetting(n: 1, w: 1, r: 1), requestTimeoutMs: 2_000, seed: 5, label: "cache test",
            expiry: CacheExpiry(ttlSeconds: 60, shortTTLSeconds: 1, shortShare: 0.5))
        let outcome = try await LoadGenerator(
            plan: plan, eventLoop: group.next(), clock: BenchClock(), tracker: StalenessTracker(recordCount: 100),
            progress: nil
        ).run()
        let (sets, ttls) = server.seen()
        try await server.channel.close()
        try await group.shutdownGracefully()

        let reads = outcome.succeeded[.read] ?? 0
        XCTAssertEqual(outcome.succeeded[.update], nil, "every SET … EX was refused")
        XCTAssertEqual(outcome.errors, ["ERR": sets], "each refusal counted once, by its kind")
        XCTAssertEqual(reads + sets, 4_000)
        XCTAssertEqual(Double(sets) / 4_000, 0.1, accuracy: 0.02)
        XCTAssertEqual(outcome.firstError, FakeNode.refusal)
        XCTAssertGreaterThan(outcome.readMisses, reads / 4, "odd keys miss")
        XCTAssertLessThan(outcome.readMisses, reads * 3 / 4)
        XCTAssertEqual(outcome.staleReads, 0, "misses are not judged stale in the cache workload")
        XCTAssertEqual(outcome.readsChecked, reads - outcome.readMisses, "hits are judged")
        XCTAssertEqual(Set(ttls), [1, 60], "both ttls were sent")

        let result = SettingResult(
            outcome: outcome, target: .quorumkv, nodes: 1, workload: .cache, distribution: .uniform,
            setting: plan.setting, pausedNodes: [], connections: 4, targetRate: nil, nodeUsage: [], clientCPUCores: 0)
        XCTAssertTrue(BenchTable.line(result).contains("errors ERR=\(sets)  first error: \(FakeNode.refusal)"))
        XCTAssertTrue(BenchTable.line(result).contains("misses \(outcome.readMisses)"))
        var configuration = BenchConfiguration()
        configuration.workloads = [.cache]
        let report = BenchReport(startedAt: Date(), configuration: configuration, redisVersion: nil, results: [result])
        XCTAssertTrue(BenchTable.render(report).contains("first error, cache n=1 w=1 r=1: \(FakeNode.refusal)"))
        let csvRow = try XCTUnwrap(report.csv().split(separator: "\n").last)
        XCTAssertTrue(csvRow.hasSuffix(",\(outcome.readMisses),\"\(FakeNode.refusal)\""), String(csvRow))
        XCTAssertEqual(report.setup.cacheTTLSeconds, 60)
        let decoded = try JSONDecoder().decode(BenchReport.self, from: try report.json())
        XCTAssertEqual(decoded.results.first?.firstError, FakeNode.refusal)
        XCTAssertEqual(decoded.results.first?.readMisses, outcome.readMisses)
    }

    /// The words of one RESP array of bulk strings, checking nothing is left over.
    static func words(_ buffer: ByteBuffer) throws -> [String] {
        var buffer = buffer
        let reply = try XCTUnwrap(try RESPReplyParser.decode(&buffer))
        XCTAssertEqual(buffer.readableBytes, 0, "bytes after the array: its header count is wrong")
        guard case .array(let elements?) = reply else { throw XCTSkip("not an array: \(reply)") }
        return try elements.map { element in
            guard case .bulk(let bytes?) = element else { throw XCTSkip("not a bulk string: \(element)") }
            return String(buffer: bytes)
        }
    }
}

/// A RESP server on loopback that answers like a node without expiry: `SET … EX` refused
/// with the node's error, other SETs `+OK`, GET of an odd key nil and of an even key the
/// preloaded value. Requests are arrays of bulk strings, which the harness's reply parser reads.
final class FakeNode: Sendable {
    static let refusal = "ERR SET option EX is not supported by QuorumKV (keys do not expire)"

    let channel: Channel
    let endpoint: BenchTarget.Endpoint
    private let state = NIOLockedValueBox<(sets: Int, ttls: [Int])>((0, []))
    /// Every request's words, in arrival order (for the typed workloads' tests).
    private let log = NIOLockedValueBox<[[String]]>([])

    private init(channel: Channel) {
        self.channel = channel
        endpoint = BenchTarget.Endpoint(host: "127.0.0.1", port: channel.localAddress?.port ?? 0)
    }

    /// SETs with EX received, and their ttls.
    func seen() -> (Int, [Int]) { state.withLockedValue { ($0.sets, $0.ttls) } }

    func commands() -> [[String]] { log.withLockedValue { $0 } }

    static func start(on group: EventLoopGroup) async throws -> FakeNode {
        let box = NIOLockedValueBox<FakeNode?>(nil)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler { words in box.withLockedValue { $0 }!.answer(words) })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let node = FakeNode(channel: channel)
        box.withLockedValue { $0 = node }
        return node
    }

    private func answer(_ words: [String]) -> String {
        log.withLockedValue { $0.append(words) }
        switch words.first?.uppercased() {
        case "SELECT", "CONSISTENCY":
            return "+OK\r\n"
        case "INCR", "SADD":
            return ":1\r\n"
        case "SET":
            if words.contains("IFEQ") {
                // The strong `cas` workload: every fourth key "changed since the read" (nil).
                let index = Int(words[1].dropFirst(VersionedValue.keyPrefix.count)) ?? 0
                return index % 4 == 0 ? "$-1\r\n" : "+OK\r\n"
            }
            guard let ex = words.firstIndex(of: "EX"), ex + 1 < words.count else { return "+OK\r\n" }
            state.withLockedValue {
                $0.sets += 1
                $0.ttls.append(Int(words[ex + 1]) ?? -1)
            }
            return "-\(Self.refusal)\r\n"
        case "GET":
            let index = Int(words[1].dropFirst(VersionedValue.keyPrefix.count)) ?? 0
            return index % 2 == 1 ? "$-1\r\n" : "$14\r\n0|xxxxxxxxxxxx\r\n"
        default:
            return "-ERR unknown command\r\n"
        }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private let answer: ([String]) -> String
        private var pending = ByteBuffer()

        init(answer: @escaping ([String]) -> String) { self.answer = answer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            pending.writeBuffer(&incoming)
            while let request = try? RESPReplyParser.decode(&pending) {
                guard case .array(let elements?) = request else { continue }
                let words = elements.map { element -> String in
                    if case .bulk(let bytes?) = element { return String(buffer: bytes) }
                    return ""
                }
                context.write(wrapOutboundOut(ByteBuffer(string: answer(words))), promise: nil)
            }
            context.flush()
        }
    }
}
