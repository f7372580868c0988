import QuorumCore
import XCTest

@testable import QuorumNode

/// The commands of typed buckets (issue #16), from words to replies against the fake
/// service, whose typed keys are the core's own `TypedState`.
final class RESPTypedCommandTests: XCTestCase {
    private func key(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func parse(_ words: String...) throws(RESPCommandError) -> RESPCommand {
        try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
    }

    private func parseError(_ words: String...) -> String? {
        do {
            _ = try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
            return nil
        } catch {
            return error.reply.text
        }
    }

    private static let buckets: [String: DataType] = ["counters": .counter, "sets": .set, "maps": .map]

    private func handler(_ service: RESPFakeKVService) -> RESPCommandHandler {
        RESPCommandHandler(service: service, limits: .defaults, protocolLimits: .defaults, stats: RESPServerStats())
    }

    private func session(_ bucket: String) -> RESPSession {
        var session = RESPSession(clientID: 1)
        session.bucket = bucket
        return session
    }

    private func run(_ handler: RESPCommandHandler, _ session: inout RESPSession, _ words: String...) async -> RESPValue {
        await handler.run(words, session: &session)
    }

    private static let wrongType = RESPValue.error("WRONGTYPE Operation against a key holding the wrong kind of value")

    // MARK: - Parsing

    func testParsing() throws {
        XCTAssertEqual(
            try parse("INCR", "c"), .typed(.update(key: key("c"), operation: .increment(by: 1, operationID: nil), options: RequestOptions())))
        XCTAssertEqual(
            try parse("decrby", "c", "5", "W", "1", "ID", "retry-1", "TIMEOUT", "300"),
            .typed(.update(
                key: key("c"), operation: .increment(by: -5, operationID: key("retry-1")),
                options: RequestOptions(w: .count(1), timeoutMilliseconds: 300))))
        XCTAssertEqual(
            try parse("INCRBY", "c", "-3", "id", "x"),
            .typed(.update(key: key("c"), operation: .increment(by: -3, operationID: key("x")), options: RequestOptions())))
        XCTAssertEqual(
            try parse("SADD", "s", "a", "W", "1"),
            .typed(.update(key: key("s"), operation: .setAdd([key("a"), key("W"), key("1")]), options: RequestOptions())),
            "variadic commands take no options: W and 1 are elements")
        XCTAssertEqual(
            try parse("SISMEMBER", "s", "a", "R", "ALL"),
            .typed(.read(key: key("s"), query: .setIsMember(key("a")), options: RequestOptions(r: .all))))
        XCTAssertEqual(try parse("SCARD", "s"), .typed(.read(key: key("s"), query: .setCount, options: RequestOptions())))
        XCTAssertEqual(
            try parse("HSET", "h", "f", "1", "g", "2"),
            .typed(.update(
                key: key("h"), operation: .mapUpdate([.setRegister(field: key("f"), value: key("1")), .setRegister(field: key("g"), value: key("2"))]),
                options: RequestOptions())))
        XCTAssertEqual(
            try parse("HINCRBY", "h", "f", "7", "W", "2"),
            .typed(.update(key: key("h"), operation: .mapUpdate([.incrementCounter(field: key("f"), by: 7)]), options: RequestOptions(w: .count(2)))))
        XCTAssertEqual(
            try parse("HGETALL", "h", "R", "1", "N", "2"),
            .typed(.read(key: key("h"), query: .hashGetAll, options: RequestOptions(n: 2, r: .count(1)))))
        XCTAssertEqual(
            try parse("HMGET", "h", "a", "R"), .typed(.read(key: key("h"), query: .hashGetMany([key("a"), key("R")]), options: RequestOptions())))
        // Reads of one member read only it; whole-value reads read every member.
        XCTAssertEqual(RESPTypedQuery.hashGet(key("f")).members, .listed([key("f")]))
        XCTAssertEqual(RESPTypedQuery.setAreMembers([key("b"), key("a"), key("b")]).members, .listed([key("a"), key("b")]))
        XCTAssertEqual(RESPTypedQuery.setMembers.members, .all)
        XCTAssertEqual(RESPTypedQuery.counterValue.members, .all)
        // Commands of one key are ordered with others on it: updates as writes, reads as reads.
        XCTAssertTrue(try parse("SADD", "s", "a").keyAccess == ([key("s")], true))
        XCTAssertTrue(try parse("HLEN", "h").keyAccess == ([key("h")], false))
    }

    func testParseErrorsAreWordedAsRedisWordsThem() {
        XCTAssertEqual(parseError("INCR"), "ERR wrong number of arguments for 'incr' command")
        XCTAssertEqual(parseError("INCRBY", "c"), "ERR wrong number of arguments for 'incrby' command")
        XCTAssertEqual(parseError("SADD", "s"), "ERR wrong number of arguments for 'sadd' command")
        XCTAssertEqual(parseError("HSET", "h", "f"), "ERR wrong number of arguments for 'hset' command")
        XCTAssertEqual(parseError("HSET", "h", "f", "v", "g"), "ERR wrong number of arguments for 'hset' command")
        XCTAssertEqual(parseError("HGET", "h"), "ERR wrong number of arguments for 'hget' command")
        XCTAssertEqual(parseError("INCRBY", "c", "1.5"), "ERR value is not an integer or out of range")
        XCTAssertEqual(parseError("INCRBY", "c", "99999999999999999999"), "ERR value is not an integer or out of range")
        XCTAssertEqual(parseError("HINCRBY", "h", "f", "x"), "ERR value is not an integer or out of range")
        XCTAssertEqual(parseError("DECRBY", "c", "-9223372036854775808"), "ERR decrement would overflow")
        XCTAssertEqual(parseError("INCR", "c", "ID"), "ERR syntax error, option ID of INCR needs an operation id")
        XCTAssertEqual(
            parseError("INCR", "c", "R", "1"),
            "ERR syntax error, 'R' is not an option of INCR; options are W, N, PW, TIMEOUT, ID")
        XCTAssertEqual(
            parseError("SMEMBERS", "s", "W", "1"),
            "ERR syntax error, 'W' is not an option of SMEMBERS; options are R, N, PR, TIMEOUT")
        // INCR is no longer refused; the read-modify-writes without a typed counterpart are.
        XCTAssertNil(RESPCommand.refused["incr"])
        XCTAssertNotNil(RESPCommand.refused["incrbyfloat"])
    }

    // MARK: - Counters

    func testCounterCommandsAndGet() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var session = session("counters")
        let absent = await run(commands, &session, "GET", "c")
        XCTAssertEqual(absent, .null)
        let incremented = await run(commands, &session, "INCR", "c")
        XCTAssertEqual(incremented, .integer(1))
        let added = await run(commands, &session, "INCRBY", "c", "10", "W", "1")
        XCTAssertEqual(added, .integer(11))
        let decremented = await run(commands, &session, "DECR", "c")
        XCTAssertEqual(decremented, .integer(10))
        let subtracted = await run(commands, &session, "DECRBY", "c", "25")
        XCTAssertEqual(subtracted, .integer(-15))
        let value = await run(commands, &session, "GET", "c", "R", "ALL")
        XCTAssertEqual(value, .bulk("-15"))
        XCTAssertTrue(service.calls.contains { $0.operation == "readType" && $0.options.r == .all }, "GET's options reach the read")
        XCTAssertTrue(service.calls.contains { $0.operation == "updateType" && $0.options.w == .count(1) })
        let type = await run(commands, &session, "TYPE", "c")
        XCTAssertEqual(type, .simpleString("string"))
    }

    func testOperationIDMakesARetryCountOnce() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var session = session("counters")
        let first = await run(commands, &session, "INCRBY", "c", "5", "ID", "op-1")
        XCTAssertEqual(first, .integer(5))
        let retried = await run(commands, &session, "INCRBY", "c", "5", "ID", "op-1")
        XCTAssertEqual(retried, .integer(5), "a retry answers the current value without counting again")
        let another = await run(commands, &session, "INCRBY", "c", "5", "ID", "op-2")
        XCTAssertEqual(another, .integer(10))
        let tooLong = await run(commands, &session, "INCR", "c", "ID", String(repeating: "x", count: Limits.defaults.typedOperationIDBytesMax + 1))
        XCTAssertTrue(tooLong.text?.hasPrefix("TOOLARGE") ?? false, "\(tooLong)")
    }

    func testCounterOverflowIsRefused() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var session = session("counters")
        _ = await run(commands, &session, "INCRBY", "c", String(Int64.max))
        let over = await run(commands, &session, "INCR", "c")
        XCTAssertTrue(over.text?.contains("overflow") ?? false, "\(over)")
        let value = await run(commands, &session, "GET", "c")
        XCTAssertEqual(value, .bulk(String(Int64.max)), "the refused increment changed nothing")
    }

    // MARK: - Sets

    func testSetCommands() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var session = session("sets")
        let added = await run(commands, &session, "SADD", "s", "b", "a", "c", "a")
        XCTAssertEqual(added, .integer(3), "a repeated element counts once")
        let again = await run(commands, &session, "SADD", "s", "a", "d")
        XCTAssertEqual(again, .integer(1))
        let members = await run(commands, &session, "SMEMBERS", "s")
        XCTAssertEqual(members, .array(["a", "b", "c", "d"].map { .bulk($0) }))
        let card = await run(commands, &session, "SCARD", "s")
        XCTAssertEqual(card, .integer(4))
        let isMember = await run(commands, &session, "SISMEMBER", "s", "b")
        XCTAssertEqual(isMember, .integer(1))
        let notMember = await run(commands, &session, "SISMEMBER", "s", "z")
        XCTAssertEqual(notMember, .integer(0))
        let many = await run(commands, &session, "SMISMEMBER", "s", "z", "a", "d")
        XCTAssertEqual(many, .array([.integer(0), .integer(1), .integer(1)]))
        let removed = await run(commands, &session, "SREM", "s", "a", "z")
        XCTAssertEqual(removed, .integer(1))
        let after = await run(commands, &session, "SMEMBERS", "s")
        XCTAssertEqual(after, .array(["b", "c", "d"].map { .bulk($0) }))
        let type = await run(commands, &session, "TYPE", "s")
        XCTAssertEqual(type, .simpleString("set"))
        let absentMembers = await run(commands, &session, "SMEMBERS", "nothing")
        XCTAssertEqual(absentMembers, .array([]))
        let absentCard = await run(commands, &session, "SCARD", "nothing")
        XCTAssertEqual(absentCard, .integer(0))
        // GET of a set key: Redis's WRONGTYPE.
        let get = await run(commands, &session, "GET", "s")
        XCTAssertEqual(get, Self.wrongType)
    }

    // MARK: - Maps

    func testMapCommands() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var session = session("maps")
        let created = await run(commands, &session, "HSET", "h", "name", "ada", "visits", "3")
        XCTAssertEqual(created, .integer(2))
        let overwritten = await run(commands, &session, "HSET", "h", "name", "grace", "city", "york")
        XCTAssertEqual(overwritten, .integer(1), "only city is new")
        XCTAssertEqual(service.calls.filter { $0.operation == "updateType" }.count, 2, "several pairs are one operation")
        let name = await run(commands, &session, "HGET", "h", "name")
        XCTAssertEqual(name, .bulk("grace"))
        let incremented = await run(commands, &session, "HINCRBY", "h", "visits", "4")
        XCTAssertEqual(incremented, .integer(7))
        let fresh = await run(commands, &session, "HINCRBY", "h", "new", "-2")
        XCTAssertEqual(fresh, .integer(-2))
        let notInteger = await run(commands, &session, "HINCRBY", "h", "name", "1")
        XCTAssertTrue(notInteger.text?.contains("hash value is not an integer") ?? false, "\(notInteger)")
        let many = await run(commands, &session, "HMGET", "h", "visits", "missing", "name", "visits")
        XCTAssertEqual(many, .array([.bulk("7"), .null, .bulk("grace"), .bulk("7")]), "in the order asked, repeats included")
        let all = await run(commands, &session, "HGETALL", "h")
        XCTAssertEqual(
            all, .array(["city", "york", "name", "grace", "new", "-2", "visits", "7"].map { .bulk($0) }), "fields in byte order")
        var resp3 = session
        resp3.protocolVersion = 3
        let map = await run(commands, &resp3, "HGETALL", "h")
        XCTAssertEqual(
            map, .map(["city", "york", "name", "grace", "new", "-2", "visits", "7"].map { .bulk($0) }), "a RESP3 map after HELLO 3")
        let length = await run(commands, &session, "HLEN", "h")
        XCTAssertEqual(length, .integer(4))
        let exists = await run(commands, &session, "HEXISTS", "h", "city")
        XCTAssertEqual(exists, .integer(1))
        let deleted = await run(commands, &session, "HDEL", "h", "city", "nope", "new")
        XCTAssertEqual(deleted, .integer(2))
        let gone = await run(commands, &session, "HEXISTS", "h", "city")
        XCTAssertEqual(gone, .integer(0))
        let absent = await run(commands, &session, "HGET", "h", "city")
        XCTAssertEqual(absent, .null)
        let type = await run(commands, &session, "TYPE", "h")
        XCTAssertEqual(type, .simpleString("hash"))
        let absentAll = await run(commands, &session, "HGETALL", "none")
        XCTAssertEqual(absentAll, .array([]))
    }

    // MARK: - Generic commands on typed keys

    func testDelIsAnObservedRemoveResetAndExistsSeesIt() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var sets = session("sets")
        _ = await run(commands, &sets, "SADD", "s", "a", "b")
        _ = await run(commands, &sets, "SADD", "t", "x")
        let exists = await run(commands, &sets, "EXISTS", "s", "t", "u", "s")
        XCTAssertEqual(exists, .integer(3))
        let deleted = await run(commands, &sets, "DEL", "s", "u")
        XCTAssertEqual(deleted, .integer(1), "s had members, u had none")
        XCTAssertEqual(service.calls.filter { $0.operation == "updateType" && $0.key == "u" }.count, 1, "DEL of u is a reset too")
        let members = await run(commands, &sets, "SMEMBERS", "s")
        XCTAssertEqual(members, .array([]))
        let after = await run(commands, &sets, "EXISTS", "s")
        XCTAssertEqual(after, .integer(0))
        let type = await run(commands, &sets, "TYPE", "s")
        XCTAssertEqual(type, .simpleString("none"))
        let again = await run(commands, &sets, "DEL", "s")
        XCTAssertEqual(again, .integer(0))
        // The reset removed only what it observed: the set takes new elements afterwards.
        let readded = await run(commands, &sets, "SADD", "s", "a")
        XCTAssertEqual(readded, .integer(1))

        var counters = session("counters")
        _ = await run(commands, &counters, "INCRBY", "c", "4")
        let unlinked = await run(commands, &counters, "UNLINK", "c")
        XCTAssertEqual(unlinked, .integer(1))
        let value = await run(commands, &counters, "GET", "c")
        XCTAssertEqual(value, .null, "a reset counter reads as absent")
        let restarted = await run(commands, &counters, "INCR", "c")
        XCTAssertEqual(restarted, .integer(1))
    }

    func testWrongTypeEverywhere() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var plain = session("default")
        // Typed commands on plain values.
        for words in [["INCR", "k"], ["SADD", "k", "a"], ["HSET", "k", "f", "v"], ["SMEMBERS", "k"], ["HGET", "k", "f"]] {
            let reply = await commands.run(words, session: &plain)
            XCTAssertEqual(reply, Self.wrongType, "\(words)")
        }
        // Plain commands that have no typed meaning, in a typed bucket.
        var counters = session("counters")
        let set = await run(commands, &counters, "SET", "c", "1")
        XCTAssertEqual(set, Self.wrongType)
        // Commands of one type in a bucket of another, whether or not the key exists.
        _ = await run(commands, &counters, "INCR", "c")
        for words in [["SADD", "c", "a"], ["SMEMBERS", "c"], ["SISMEMBER", "absent", "a"], ["HGETALL", "c"], ["HINCRBY", "c", "f", "1"]] {
            let reply = await commands.run(words, session: &counters)
            XCTAssertEqual(reply, Self.wrongType, "\(words)")
        }
        var maps = session("maps")
        for words in [["INCR", "h"], ["GET", "h"], ["SCARD", "h"]] {
            let reply = await commands.run(words, session: &maps)
            XCTAssertEqual(reply, Self.wrongType, "\(words)")
        }
        // Plain keys keep working beside them.
        let plainSet = await run(commands, &plain, "SET", "k", "v")
        XCTAssertEqual(plainSet, .ok)
        let plainType = await run(commands, &plain, "TYPE", "k")
        XCTAssertEqual(plainType, .simpleString("string"))
    }

    func testScanTypeFollowsTheBucketsDatatype() async {
        let service = RESPFakeKVService(typedBuckets: Self.buckets)
        let commands = handler(service)
        var sets = session("sets")
        let setKeys = await run(commands, &sets, "SCAN", "0", "TYPE", "string")
        XCTAssertEqual(setKeys, RESPCommandHandler.scanReply(cursor: 0, keys: []), "a set bucket holds no strings")
        var plain = session("default")
        _ = await run(commands, &plain, "SET", "k", "v")
        let strings = await run(commands, &plain, "SCAN", "0", "TYPE", "string")
        XCTAssertEqual(strings, RESPCommandHandler.scanReply(cursor: 0, keys: [key("k")]))
        let hashes = await run(commands, &plain, "SCAN", "0", "TYPE", "hash")
        XCTAssertEqual(hashes, RESPCommandHandler.scanReply(cursor: 0, keys: []))
    }

    // MARK: - The command table

    func testEveryTypedCommandIsInTheTableWithItsCategory() {
        let writes = ["incr", "decr", "incrby", "decrby", "sadd", "srem", "hset", "hdel", "hincrby"]
        let reads = ["smembers", "sismember", "smismember", "scard", "hget", "hmget", "hexists", "hgetall", "hlen"]
        for name in writes {
            XCTAssertEqual(RESPCommand.spec(named: name)?.category, .write, name)
            XCTAssertTrue(RESPCommandAccess.requirement(command: name, bucket: "b")! == (.write, "b"), name)
        }
        for name in reads {
            XCTAssertEqual(RESPCommand.spec(named: name)?.category, .read, name)
            XCTAssertTrue(RESPCommandAccess.requirement(command: name, bucket: "b")! == (.read, "b"), name)
        }
        // COMMAND DOCS describes INCR from the table, no longer as refused.
        let docs = RESPIntrospection.command(.docsNamed(["incr"]), resp3: false)
        guard case .array(let entry?) = docs, entry.count == 2, case .array(let fields?) = entry[1] else {
            return XCTFail("COMMAND DOCS incr: \(docs)")
        }
        XCTAssertEqual(fields.prefix(2), [.bulk("summary"), .bulk(RESPCommand.spec(named: "incr")!.summary)])
        // Every row's arity matches what the parser accepts at the minimum.
        for name in writes + reads {
            let spec = RESPCommand.spec(named: name)!
            let minimum = -spec.arity
            let words = [name] + (1..<minimum).map { _ in "1" }
            XCTAssertNoThrow(try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults), name)
            XCTAssertThrowsError(try RESPCommand.parse(Array(words.dropLast()).map { Array($0.utf8) }, limits: .defaults), name)
        }
    }
}
