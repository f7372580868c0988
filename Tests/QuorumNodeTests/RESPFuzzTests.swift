import Foundation
import QuorumCore
import XCTest

@testable import QuorumNode

/// Property tests of the RESP parser and command layer: thousands of random and mutated
/// frames, cut into random reads. Each run picks a fresh seed (or takes `RESP_FUZZ_SEED`)
/// and prints it on failure, so a failure can be replayed exactly. Each test stops after
/// a bounded time (`RESP_FUZZ_SECONDS`, default 3 s) so CI time stays predictable.
final class RESPFuzzTests: XCTestCase {
    private var seed: UInt64 = 0
    private var budget: TimeInterval = 3

    override func setUp() {
        let environment = ProcessInfo.processInfo.environment
        seed = environment["RESP_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        budget = environment["RESP_FUZZ_SECONDS"].flatMap { TimeInterval($0) } ?? 3
    }

    private var small: RESPLimits {
        var limits = RESPLimits()
        limits.inlineBytesMax = 256
        limits.bulkBytesMax = 512
        limits.arrayCountMax = 16
        limits.commandBytesMax = 2048
        return limits
    }

    // MARK: - Generators

    private static let names = ["GET", "SET", "DEL", "MGET", "MSET", "PING", "ECHO", "QGET", "QSET", "SELECT", "INFO", "EXISTS"]

    private func randomWord(_ random: inout SeededGenerator, binary: Bool) -> [UInt8] {
        let length = Int.random(in: 0...24, using: &random)
        if binary { return (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) } }
        return (0..<max(1, length)).map { _ in UInt8.random(in: 0x21...0x7E, using: &random) }
    }

    private func randomCommand(_ random: inout SeededGenerator) -> [[UInt8]] {
        let count = Int.random(in: 0...5, using: &random)
        let name = Array(Self.names.randomElement(using: &random)!.utf8)
        return [name] + (0..<count).map { _ in randomWord(&random, binary: Bool.random(using: &random)) }
    }

    /// A valid wire form of `command`: RESP array, or inline when the words allow it.
    private func encode(_ command: [[UInt8]], _ random: inout SeededGenerator) -> [UInt8] {
        let inlineSafe = command.allSatisfy { word in
            !word.isEmpty && word.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") }
        }
        if inlineSafe && command.first?.first != UInt8(ascii: "*") && Bool.random(using: &random) {
            return Array(command.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ").utf8)
                + (Bool.random(using: &random) ? [13, 10] : [10])
        }
        return respFrame(command)
    }

    private func mutate(_ bytes: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let interesting: [UInt8] = [13, 10, UInt8(ascii: "*"), UInt8(ascii: "$"), UInt8(ascii: "-"), UInt8(ascii: "\""), 0, 255, UInt8(ascii: "9")]
            switch Int.random(in: 0..<6, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = interesting.randomElement(using: &random)!
            case 2:
                bytes.insert(interesting.randomElement(using: &random)!, at: Int.random(in: 0...bytes.count, using: &random))
            case 3 where !bytes.isEmpty:
                bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random))
            case 4:
                bytes += Array("*\(Int.random(in: -2...100_000_000_000, using: &random))\r\n$\(Int.random(in: -5...1_000_000, using: &random))\r\n".utf8)
            default:
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            }
        }
        return bytes
    }

    /// Feeds `bytes` in random cuts; returns what came out, stopping at the first error.
    private func feed(_ parser: inout RESPParser, _ bytes: [UInt8], _ random: inout SeededGenerator) -> (commands: [[[UInt8]]], error: String?) {
        var commands: [[[UInt8]]] = []
        var offset = 0
        while offset < bytes.count {
            let cut = min(bytes.count, offset + Int.random(in: 1...64, using: &random))
            parser.append(bytes[offset..<cut])
            offset = cut
            while true {
                switch parser.next() {
                case .needMoreData: break
                case .command(let command):
                    commands.append(command)
                    continue
                case .error(let message):
                    return (commands, message)
                }
                break
            }
        }
        return (commands, nil)
    }

    // MARK: - Properties

    /// Valid streams parse to exactly the commands that made them, however they are cut.
    func testValidStreamsRoundTripUnderRandomCuts() {
        var random = SeededGenerator(seed: seed)
        let deadline = Date().addingTimeInterval(budget)
        var rounds = 0
        while Date() < deadline || rounds < 200 {
            rounds += 1
            let commands = (0..<Int.random(in: 1...8, using: &random)).map { _ in randomCommand(&random) }
            let bytes = commands.flatMap { encode($0, &random) }
            var parser = RESPParser(limits: small)
            let (parsed, error) = feed(&parser, bytes, &random)
            guard error == nil, parsed == commands, parser.isIdle else {
                return XCTFail(
                    "seed \(seed) round \(rounds): \(commands.count) commands gave \(parsed.count), error \(error ?? "none"); replay with RESP_FUZZ_SEED=\(seed)")
            }
        }
    }

    /// Garbage and mutated frames never crash the parser, never make it hold more than its
    /// bounds allow, and after `reset()` a valid command parses again.
    func testGarbageNeverCrashesAndAResetRecovers() {
        var random = SeededGenerator(seed: seed)
        let limits = small
        let deadline = Date().addingTimeInterval(budget)
        var rounds = 0
        var errors = 0
        while Date() < deadline || rounds < 2000 {
            rounds += 1
            var parser = RESPParser(limits: limits)
            let base = (0..<Int.random(in: 1...4, using: &random)).flatMap { _ in encode(randomCommand(&random), &random) }
            let noise: [UInt8] =
                Bool.random(using: &random)
                ? mutate(base, &random)
                : (0..<Int.random(in: 0...600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let (parsed, error) = feed(&parser, noise, &random)
            if error != nil { errors += 1 }
            for command in parsed {
                guard command.count <= limits.arrayCountMax, command.allSatisfy({ $0.count <= max(limits.bulkBytesMax, limits.inlineBytesMax) }) else {
                    return XCTFail("seed \(seed) round \(rounds): a command past the bounds came out; replay with RESP_FUZZ_SEED=\(seed)")
                }
                // The command layer must take anything the parser gives it without crashing.
                _ = try? RESPCommand.parse(command, limits: .defaults)
            }
            guard parser.bufferedBytes <= limits.commandBytesMax + limits.inlineBytesMax + 64 || error != nil else {
                return XCTFail("seed \(seed) round \(rounds): \(parser.bufferedBytes) bytes buffered without an error; replay with RESP_FUZZ_SEED=\(seed)")
            }
            parser.reset()
            let valid = randomCommand(&random)
            parser.append(respFrame(valid))
            guard parser.next() == .command(valid) else {
                return XCTFail("seed \(seed) round \(rounds): a valid command did not parse after reset; replay with RESP_FUZZ_SEED=\(seed)")
            }
        }
        XCTAssertGreaterThan(errors, 0, "seed \(seed): the garbage should have produced some protocol errors")
    }

    /// Random words through the command layer and a fake service: every reply is a valid
    /// RESP value and nothing crashes.
    func testRandomCommandsAlwaysGetAReply() async {
        var random = SeededGenerator(seed: seed)
        let service = RESPFakeKVService(vclockBuckets: ["carts"])
        let commands = RESPCommandHandler(service: service, limits: .defaults, protocolLimits: .defaults, stats: RESPServerStats())
        var session = RESPSession(clientID: 1)
        let words = ["R", "W", "N", "TIMEOUT", "CONTEXT", "NX", "quorum", "all", "2", "0", "-1", "carts", "k", "v", "DOCS", "COUNT", "GET", "SETNAME"]
        let deadline = Date().addingTimeInterval(budget)
        var rounds = 0
        while Date() < deadline || rounds < 500 {
            rounds += 1
            var command = [Array((Self.names + ["CONSISTENCY", "HELLO", "CLIENT", "CONFIG", "COMMAND", "QDEL", "SETNX"]).randomElement(using: &random)!.utf8)]
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                command.append(Bool.random(using: &random) ? Array(words.randomElement(using: &random)!.utf8) : randomWord(&random, binary: true))
            }
            let reply: RESPValue
            do {
                let parsed = try RESPCommand.parse(command, limits: .defaults)
                if parsed == .quit { continue }
                if let local = commands.answerLocally(parsed, session: &session) {
                    reply = local
                } else {
                    reply = await commands.execute(session.request(for: parsed))
                }
            } catch {
                reply = error.reply
            }
            var reader = RESPReplyReader()
            reader.append(reply.encoded)
            guard reader.next() == reply, reader.leftover == 0 else {
                return XCTFail("seed \(seed) round \(rounds): reply \(reply) does not round-trip; replay with RESP_FUZZ_SEED=\(seed)")
            }
        }
    }
}
