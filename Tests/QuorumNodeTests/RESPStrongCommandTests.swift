import QuorumCore
import XCTest

@testable import QuorumNode

/// Commands on keys of strongly consistent buckets (issue #17), from words to replies
/// against the fake service, whose strong keys are one register each with real etags
/// and conditions (`StrongCondition.holds`).
final class RESPStrongCommandTests: XCTestCase {
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

    private func fixture() -> (RESPFakeKVService, RESPCommandHandler) {
        let service = RESPFakeKVService(strongBuckets: ["locks"])
        return (service, RESPCommandHandler(service: service, limits: .defaults, protocolLimits: .defaults, stats: RESPServerStats()))
    }

    private func session(_ bucket: String) -> RESPSession {
        var session = RESPSession(clientID: 1)
        session.bucket = bucket
        return session
    }

    private func run(_ handler: RESPCommandHandler, _ session: inout RESPSession, _ words: String...) async -> RESPValue {
        await handler.run(words, session: &session)
    }

    private func errorText(_ value: RESPValue) -> String? {
        guard value.isError else { return nil }
        return value.text
    }

    // MARK: - Parsing

    func testParsingIFEQAndDELIFEQ() throws {
        XCTAssertEqual(
            try parse("SET", "k", "new", "IFEQ", "old"),
            .string(.setIfEquals(key: key("k"), value: key("new"), expected: key("old"), options: RequestOptions(), returnsOld: false)))
        XCTAssertEqual(
            try parse("set", "k", "new", "ifeq", "old", "GET", "TIMEOUT", "500"),
            .string(.setIfEquals(
                key: key("k"), value: key("new"), expected: key("old"), options: RequestOptions(timeoutMilliseconds: 500),
                returnsOld: true)))
        XCTAssertEqual(
            try parse("DELIFEQ", "k", "old"), .string(.delIfEquals(key: key("k"), expected: key("old"), options: RequestOptions())))
        XCTAssertEqual(parseError("SET", "k", "v", "IFEQ"), "ERR syntax error, IFEQ needs the value to compare with")
        XCTAssertEqual(parseError("SET", "k", "v", "IFEQ", "a", "NX"), "ERR syntax error, IFEQ can't be given with NX or XX")
        XCTAssertEqual(parseError("SET", "k", "v", "XX", "IFEQ", "a"), "ERR syntax error, IFEQ can't be given with NX or XX")
        XCTAssertEqual(parseError("DELIFEQ", "k"), "ERR wrong number of arguments for 'delifeq' command")
        XCTAssertNotNil(parseError("DELIFEQ", "k", "v", "R", "2"), "DELIFEQ takes only TIMEOUT")
        XCTAssertEqual(RESPCommand.spec(named: "delifeq")?.category, .write)
        XCTAssertEqual(RESPCommandAccess.requirement(command: "delifeq", bucket: "b")?.action, .delete)
        XCTAssertNotNil(RESPCommand.spec(named: "getset"))
    }

    // MARK: - Reads and writes

    func testGetSetDelExistsTypeStrlenAreStrongOperations() async {
        let (service, handler) = fixture()
        var s = session("locks")
        let get = await run(handler, &s, "GET", "k")
        XCTAssertEqual(get, .bulkString(nil))
        let type0 = await run(handler, &s, "TYPE", "k")
        XCTAssertEqual(type0, .simpleString("none"))
        let set = await run(handler, &s, "SET", "k", "v1")
        XCTAssertEqual(set, .ok)
        XCTAssertEqual(service.strongValue(bucket: "locks", key: "k"), "v1")
        let get1 = await run(handler, &s, "GET", "k")
        XCTAssertEqual(get1, .bulk("v1"))
        let type1 = await run(handler, &s, "TYPE", "k")
        XCTAssertEqual(type1, .simpleString("string"))
        let strlen = await run(handler, &s, "STRLEN", "k")
        XCTAssertEqual(strlen, .integer(2))
        let exists = await run(handler, &s, "EXISTS", "k", "absent", "k")
        XCTAssertEqual(exists, .integer(2))
        let mset = await run(handler, &s, "MSET", "a", "1", "b", "2")
        XCTAssertEqual(mset, .ok)
        let mget = await run(handler, &s, "MGET", "a", "nope", "b")
        XCTAssertEqual(mget, .array([.bulk("1"), .bulkString(nil), .bulk("2")]))
        let del = await run(handler, &s, "DEL", "k", "absent", "a")
        XCTAssertEqual(del, .integer(2), "DEL counts the keys that held a value")
        XCTAssertNil(service.strongValue(bucket: "locks", key: "k"))
        let getAfter = await run(handler, &s, "GET", "k")
        XCTAssertEqual(getAfter, .bulkString(nil))
        XCTAssertFalse(service.calls.contains { $0.operation != "strong" }, "no plain call on a strong bucket: \(service.calls)")
        XCTAssertFalse(
            service.strongOperations.contains(.compareAndSet(.ifAbsent, .tombstone)),
            "deleting an absent key writes nothing")
    }

    func testConditionalSetsAnswerAsRedis() async {
        let (service, handler) = fixture()
        var s = session("locks")
        let xxAbsent = await run(handler, &s, "SET", "k", "v", "XX")
        XCTAssertEqual(xxAbsent, .bulkString(nil))
        XCTAssertNil(service.strongValue(bucket: "locks", key: "k"))
        let nx = await run(handler, &s, "SET", "k", "v1", "NX")
        XCTAssertEqual(nx, .ok)
        let nxAgain = await run(handler, &s, "SET", "k", "v2", "NX")
        XCTAssertEqual(nxAgain, .bulkString(nil))
        let setnx = await run(handler, &s, "SETNX", "k", "v2")
        XCTAssertEqual(setnx, .integer(0))
        let setnxNew = await run(handler, &s, "SETNX", "other", "x")
        XCTAssertEqual(setnxNew, .integer(1))
        let nxGet = await run(handler, &s, "SET", "k", "v2", "NX", "GET")
        XCTAssertEqual(nxGet, .bulk("v1"), "NX GET answers the value that stopped it")
        let xx = await run(handler, &s, "SET", "k", "v3", "XX")
        XCTAssertEqual(xx, .ok)
        XCTAssertEqual(service.strongValue(bucket: "locks", key: "k"), "v3")
        XCTAssertTrue(service.strongOperations.contains(.compareAndSet(.ifAbsent, .plain(key("v1")))))
        XCTAssertTrue(service.strongOperations.contains(.compareAndSet(.ifPresent, .plain(key("v3")))))
    }

    func testIFEQAndDELIFEQ() async {
        let (service, handler) = fixture()
        var s = session("locks")
        _ = await run(handler, &s, "SET", "lock", "owner-a")
        let wrong = await run(handler, &s, "SET", "lock", "owner-b", "IFEQ", "owner-x")
        XCTAssertEqual(wrong, .bulkString(nil), "a failed IFEQ answers nil, not an error")
        XCTAssertEqual(service.strongValue(bucket: "locks", key: "lock"), "owner-a")
        let right = await run(handler, &s, "SET", "lock", "owner-b", "IFEQ", "owner-a")
        XCTAssertEqual(right, .ok)
        let withGet = await run(handler, &s, "SET", "lock", "owner-c", "IFEQ", "owner-x", "GET")
        XCTAssertEqual(withGet, .bulk("owner-b"), "IFEQ GET answers the value before, set or not")
        let withGetDone = await run(handler, &s, "SET", "lock", "owner-c", "IFEQ", "owner-b", "GET")
        XCTAssertEqual(withGetDone, .bulk("owner-b"))
        XCTAssertEqual(service.strongValue(bucket: "locks", key: "lock"), "owner-c")
        let absentIFEQ = await run(handler, &s, "SET", "none", "v", "IFEQ", "x")
        XCTAssertEqual(absentIFEQ, .bulkString(nil))
        let delWrong = await run(handler, &s, "DELIFEQ", "lock", "owner-b")
        XCTAssertEqual(delWrong, .integer(0))
        XCTAssertEqual(service.strongValue(bucket: "locks", key: "lock"), "owner-c")
        let delRight = await run(handler, &s, "DELIFEQ", "lock", "owner-c")
        XCTAssertEqual(delRight, .integer(1))
        XCTAssertNil(service.strongValue(bucket: "locks", key: "lock"))
        let delAbsent = await run(handler, &s, "DELIFEQ", "lock", "owner-c")
        XCTAssertEqual(delAbsent, .integer(0))
        XCTAssertTrue(service.strongOperations.contains(.compareAndSet(.ifEquals(key("owner-c")), .tombstone)))
    }

    // MARK: - Read, then compare-and-set

    func testGetSetAndGetDelAnswerTheValueTheyReplaced() async {
        let (service, handler) = fixture()
        var s = session("locks")
        let first = await run(handler, &s, "GETSET", "k", "1")
        XCTAssertEqual(first, .bulkString(nil))
        let second = await run(handler, &s, "GETSET", "k", "2")
        XCTAssertEqual(second, .bulk("1"))
        let setGet = await run(handler, &s, "SET", "k", "3", "GET")
        XCTAssertEqual(setGet, .bulk("2"))
        let xxGet = await run(handler, &s, "SET", "k", "4", "XX", "GET")
        XCTAssertEqual(xxGet, .bulk("3"))
        let xxGetAbsent = await run(handler, &s, "SET", "absent", "4", "XX", "GET")
        XCTAssertEqual(xxGetAbsent, .bulkString(nil))
        XCTAssertNil(service.strongValue(bucket: "locks", key: "absent"))
        let getdel = await run(handler, &s, "GETDEL", "k")
        XCTAssertEqual(getdel, .bulk("4"))
        XCTAssertNil(service.strongValue(bucket: "locks", key: "k"))
        // The replacing writes are compare-and-sets on what was read, never blind writes.
        XCTAssertFalse(service.strongOperations.contains { if case .write = $0 { return true } else { return false } })
    }

    /// Another client's write between the read and the compare-and-set: the command retries
    /// on the value the failed condition reported and answers that value, the one it replaced.
    func testSwapRetriesOnAConcurrentWrite() async {
        let (service, handler) = fixture()
        var s = session("locks")
        _ = await run(handler, &s, "SET", "k", "mine")
        service.interfere(key: "k", times: 2)
        let old = await run(handler, &s, "GETSET", "k", "new")
        XCTAssertEqual(old, .bulk("other-1"), "the value replaced is the last other write, not the first read")
        XCTAssertEqual(service.strongValue(bucket: "locks", key: "k"), "new")
        // DEL after interference: counts 1 and deletes.
        service.interfere(key: "k", times: 1)
        let deleted = await run(handler, &s, "DEL", "k")
        XCTAssertEqual(deleted, .integer(1))
        XCTAssertNil(service.strongValue(bucket: "locks", key: "k"))
    }

    func testSwapGivesUpAfterItsBoundHavingWrittenNothingOfItsOwn() async {
        let (service, handler) = fixture()
        var s = session("locks")
        _ = await run(handler, &s, "SET", "k", "mine")
        let attempts = RESPLimits.defaults.strongSwapAttemptsMax
        service.interfere(key: "k", times: attempts)
        let reply = await run(handler, &s, "GETSET", "k", "new")
        let text = errorText(reply) ?? ""
        XCTAssertTrue(text.hasPrefix("UNAVAILABLE "), text)
        XCTAssertTrue(text.contains("changed \(attempts) times") && text.contains("nothing was written"), text)
        XCTAssertEqual(service.strongValue(bucket: "locks", key: "k"), "other-1", "the command's own value was never written")
    }

    // MARK: - Errors

    func testFailuresKeepTheirMessage() async {
        let (service, handler) = fixture()
        var s = session("locks")
        service.fail(key: "k", with: .unavailable(message: "2 of 3 primaries unreachable; the write may have applied"))
        let reply = await run(handler, &s, "SET", "k", "v", "IFEQ", "old")
        XCTAssertEqual(reply, .error("UNAVAILABLE 2 of 3 primaries unreachable; the write may have applied"))
        let levels = await run(handler, &s, "GET", "x", "R", "2")
        XCTAssertTrue(errorText(levels)?.hasPrefix("BADPARAM ") ?? false, "\(levels)")
    }

    /// The connection's CONSISTENCY levels are for eventual buckets; its timeout applies to both.
    func testConnectionLevelsAreLeftOutTimeoutKept() async {
        let (service, handler) = fixture()
        var s = session("locks")
        _ = await run(handler, &s, "CONSISTENCY", "R", "2", "W", "2", "TIMEOUT", "700")
        let set = await run(handler, &s, "SET", "k", "v")
        XCTAssertEqual(set, .ok)
        XCTAssertEqual(service.calls.last?.options, RequestOptions(timeoutMilliseconds: 700))
    }

    func testCommandsThatDoNotApplyAreRefusedByName() async {
        let (_, handler) = fixture()
        var s = session("locks")
        for (words, name) in [
            (["EXPIRE", "k", "10"], "EXPIRE"), (["TTL", "k"], "TTL"), (["SET", "k", "v", "EX", "10"], "SET with EX"),
            (["SETEX", "k", "10", "v"], "SETEX"), (["SET", "k", "v", "KEEPTTL", "GET"], "KEEPTTL"),
            (["INCR", "k"], "INCR"), (["SADD", "k", "a"], "SADD"), (["HSET", "k", "f", "v"], "HSET"),
            (["HGET", "k", "f"], "HGET"), (["QSET", "k", "v"], "QSET"), (["QGET", "k"], "QGET"),
        ] {
            let reply = await handler.run(words, session: &s)
            let text = errorText(reply) ?? "not an error: \(reply)"
            XCTAssertTrue(text.hasPrefix("NOTSUPPORTED ") && text.contains(name) && text.contains("strongly consistent"), text)
            XCTAssertTrue(text.contains("DELIFEQ"), "says which commands apply: \(text)")
        }
    }

    func testIFEQAndDELIFEQNeedAStrongBucket() async {
        let (service, handler) = fixture()
        var s = session("default")
        _ = await run(handler, &s, "SET", "k", "v")
        for words in [["SET", "k", "w", "IFEQ", "v"], ["DELIFEQ", "k", "v"]] {
            let reply = await handler.run(words, session: &s)
            let text = errorText(reply) ?? "not an error: \(reply)"
            XCTAssertTrue(text.hasPrefix("NOTSUPPORTED ") && text.contains("needs a strongly consistent bucket"), text)
        }
        XCTAssertEqual(service.value(bucket: "default", key: "k"), ["v"], "nothing written")
        // NX on an eventual bucket keeps its behaviour: the plain write with If-None-Match.
        let nx = await run(handler, &s, "SET", "n", "v", "NX")
        XCTAssertEqual(nx, .ok)
        XCTAssertEqual(service.calls.last?.ifNoneMatch, true)
        XCTAssertTrue(service.strongOperations.isEmpty)
    }
}
