import NIOCore
import QuorumCore
import XCTest

@testable import QuorumNode

/// Commands from words to replies, without a network: parsing and validation, then each
/// command against a fake service.
final class RESPCommandTests: XCTestCase {
    private func parse(_ words: String...) throws(RESPCommandError) -> RESPCommand {
        try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
    }

    private func parseError(_ words: String..., file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            let command = try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
            XCTFail("expected an error, got \(command)", file: file, line: line)
            return nil
        } catch {
            return error.reply.text
        }
    }

    private func key(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: - Parsing

    func testNamesAndOptionsAreCaseInsensitive() throws {
        XCTAssertEqual(try parse("get", "k", "r", "2", "N", "3", "timeout", "500"),
            .get(key: key("k"), options: RequestOptions(n: 3, r: .count(2), timeoutMilliseconds: 500)))
        XCTAssertEqual(try parse("GET", "k", "R", "quorum", "PR", "One"),
            .get(key: key("k"), options: RequestOptions(r: .quorum, pr: .one)))
        XCTAssertEqual(try parse("Set", "k", "v", "w", "ALL", "pw", "1"),
            .set(key: key("k"), value: key("v"), options: RequestOptions(w: .all, pw: .count(1)), ifAbsent: false, replyAsInteger: false))
        XCTAssertEqual(try parse("SET", "k", "v", "nx", "W", "2"),
            .set(key: key("k"), value: key("v"), options: RequestOptions(w: .count(2)), ifAbsent: true, replyAsInteger: false))
    }

    func testRedisWordingForArityAndUnknownCommands() {
        XCTAssertEqual(parseError("GET"), "ERR wrong number of arguments for 'get' command")
        XCTAssertEqual(parseError("set", "k"), "ERR wrong number of arguments for 'set' command")
        XCTAssertEqual(parseError("MSET", "a", "1", "b"), "ERR wrong number of arguments for 'mset' command")
        XCTAssertEqual(parseError("ECHO"), "ERR wrong number of arguments for 'echo' command")
        XCTAssertEqual(parseError("SUBSTR", "k"), "ERR unknown command 'SUBSTR', with args beginning with: 'k' ")
        XCTAssertEqual(parseError("nope", "a", "b"), "ERR unknown command 'nope', with args beginning with: 'a' 'b' ")
    }

    func testOptionErrors() {
        XCTAssertEqual(parseError("GET", "k", "W", "2"), "ERR syntax error, 'W' is not an option of GET; options are R, N, PR, TIMEOUT")
        XCTAssertEqual(parseError("GET", "k", "R"), "ERR syntax error, option R of GET needs a value")
        XCTAssertEqual(parseError("GET", "k", "R", "lots"), "BADPARAM r must be a number or ONE, TWO, THREE, QUORUM, ALL; got 'lots'")
        XCTAssertEqual(parseError("SET", "k", "v", "N", "0"), "BADPARAM n must be a whole number of replicas, 1 or more; got '0'")
        XCTAssertEqual(parseError("SET", "k", "v", "TIMEOUT", "soon"),
            "BADPARAM timeout must be a whole number of milliseconds, 1 or more; got 'soon'")
        // XX is supported (RESPSurfaceCommandTests); with NX it is Redis's syntax error.
        XCTAssertEqual(parseError("SET", "k", "v", "NX", "XX"), "ERR syntax error, NX and XX can't both be given")
        XCTAssertEqual(parseError("SET", "k", "v", "EX", "10", "PX", "5"), "ERR syntax error")
    }

    /// Expiry options and commands parse into `RESPExpiryCommand`, with Redis's errors.
    func testExpiryCommandsParseWithRedisErrors() throws {
        XCTAssertEqual(
            try parse("SET", "k", "v", "EX", "10", "W", "2"),
            .expiry(.set(key: key("k"), value: key("v"), options: RequestOptions(w: .count(2)), ifAbsent: false,
                expiry: .deadline(.relative(milliseconds: 10_000)))))
        XCTAssertEqual(
            try parse("set", "k", "v", "nx", "pxat", "1700000000000"),
            .expiry(.set(key: key("k"), value: key("v"), options: RequestOptions(), ifAbsent: true,
                expiry: .deadline(.absolute(milliseconds: 1_700_000_000_000)))))
        XCTAssertEqual(
            try parse("SET", "k", "v", "KEEPTTL"),
            .expiry(.set(key: key("k"), value: key("v"), options: RequestOptions(), ifAbsent: false, expiry: .keep)))
        XCTAssertEqual(
            try parse("PSETEX", "k", "250", "v"),
            .expiry(.set(key: key("k"), value: key("v"), options: RequestOptions(), ifAbsent: false,
                expiry: .deadline(.relative(milliseconds: 250)))))
        XCTAssertEqual(try parse("EXPIRE", "k", "5", "XX", "LT"), .expiry(.expire(key: key("k"), deadline: .relative(milliseconds: 5000), conditions: [.xx, .lt])))
        XCTAssertEqual(try parse("PEXPIREAT", "k", "1700000000000"), .expiry(.expire(key: key("k"), deadline: .absolute(milliseconds: 1_700_000_000_000), conditions: [])))
        XCTAssertEqual(try parse("EXPIRE", "k", "-1"), .expiry(.expire(key: key("k"), deadline: .relative(milliseconds: -1000), conditions: [])))
        XCTAssertEqual(try parse("EXPIREAT", "k", "-5"), .expiry(.expire(key: key("k"), deadline: .absolute(milliseconds: -5000), conditions: [])))
        XCTAssertEqual(parseError("EXPIRE", "k", "9223372036854775"), "ERR invalid expire time in 'expire' command")
        XCTAssertEqual(try parse("GETEX", "k", "PERSIST"), .expiry(.getex(key: key("k"), expiry: .persist)))
        XCTAssertEqual(try parse("GETEX", "k"), .expiry(.getex(key: key("k"), expiry: nil)))
        XCTAssertEqual(try parse("TTL", "k"), .expiry(.time(key: key("k"), query: .ttl)))
        XCTAssertEqual(try parse("PEXPIRETIME", "k"), .expiry(.time(key: key("k"), query: .pexpiretime)))
        XCTAssertEqual(try parse("PERSIST", "k"), .expiry(.persist(key: key("k"))))

        XCTAssertEqual(parseError("SET", "k", "v", "EX", "0"), "ERR invalid expire time in 'set' command")
        XCTAssertEqual(parseError("SET", "k", "v", "EX", "-3"), "ERR invalid expire time in 'set' command")
        XCTAssertEqual(parseError("SET", "k", "v", "EX", "ten"), "ERR value is not an integer or out of range")
        XCTAssertEqual(parseError("SET", "k", "v", "EX", "99999999999999"), "ERR invalid expire time in 'set' command")
        XCTAssertEqual(parseError("SET", "k", "v", "EX", "1", "KEEPTTL"), "ERR syntax error")
        XCTAssertEqual(parseError("SET", "k", "v", "EX"), "ERR syntax error")
        XCTAssertEqual(parseError("SETEX", "k", "0", "v"), "ERR invalid expire time in 'setex' command")
        XCTAssertEqual(parseError("PSETEX", "k", "x", "v"), "ERR value is not an integer or out of range")
        XCTAssertEqual(parseError("EXPIRE", "k", "x"), "ERR value is not an integer or out of range")
        XCTAssertEqual(parseError("EXPIRE", "k", "5", "GT", "LT"), "ERR GT and LT options at the same time are not compatible")
        XCTAssertEqual(parseError("EXPIRE", "k", "5", "NX", "GT"), "ERR NX and XX, GT or LT options at the same time are not compatible")
        XCTAssertEqual(parseError("EXPIRE", "k", "5", "SOON"), "ERR Unsupported option SOON")
        XCTAssertEqual(parseError("TTL"), "ERR wrong number of arguments for 'ttl' command")
        XCTAssertEqual(
            try parse("SET", "k", "v", "EX", "5", "XX"),
            .string(.setReading(
                key: key("k"), value: key("v"), options: RequestOptions(), condition: .ifPresent, returnsOld: false,
                expiry: .deadline(.relative(milliseconds: 5000)))),
            "XX with an expiry: a read, then a write carrying the deadline")
        XCTAssertEqual(
            try parse("SET", "k", "v", "NX", "PX", "250"),
            .expiry(.set(key: key("k"), value: key("v"), options: RequestOptions(), ifAbsent: true, expiry: .deadline(.relative(milliseconds: 250)))),
            "NX with an expiry (django-redis's add) stays the lead's atomic check")
    }

    /// Redis's TTL replies: -2 absent, -1 without a ttl, seconds rounded to the nearest.
    func testTTLRepliesFollowRedis() {
        let expiring = Sibling(
            dot: Dot(actor: "a", counter: 1), value: [1], contentType: "", isTombstone: false, timestamp: .zero,
            expiry: ExpiryRegister(deadlineMilliseconds: 10_000, stamp: .zero))
        let plain = Sibling(dot: Dot(actor: "a", counter: 2), value: [1], contentType: "", isTombstone: false, timestamp: .zero)
        let absent = ReadResult(siblings: [], context: "", replies: 1)
        XCTAssertEqual(RESPExpiryExecution.time(absent, query: .ttl, nowMilliseconds: 0), -2)
        XCTAssertEqual(RESPExpiryExecution.time(ReadResult(siblings: [plain], context: "", replies: 1), query: .pttl, nowMilliseconds: 0), -1)
        let read = ReadResult(siblings: [expiring], context: "", replies: 1)
        XCTAssertEqual(RESPExpiryExecution.time(read, query: .ttl, nowMilliseconds: 8_400), 2)
        XCTAssertEqual(RESPExpiryExecution.time(read, query: .ttl, nowMilliseconds: 8_600), 1)
        XCTAssertEqual(RESPExpiryExecution.time(read, query: .pttl, nowMilliseconds: 8_600), 1_400)
        XCTAssertEqual(RESPExpiryExecution.time(read, query: .expiretime, nowMilliseconds: 0), 10)
        XCTAssertEqual(RESPExpiryExecution.time(read, query: .pexpiretime, nowMilliseconds: 0), 10_000)
        let execution = RESPExpiryExecution(service: RESPFakeKVService(), now: { 5_000 })
        XCTAssertEqual(execution.absolute(.relative(milliseconds: 2_000)), 7_000)
        XCTAssertEqual(execution.absolute(.relative(milliseconds: -9_000)), 0, "a past deadline, never below 0")
        XCTAssertEqual(execution.absolute(.absolute(milliseconds: 123)), 123)
    }

    func testKeysAndValuesAreBounded() {
        XCTAssertEqual(parseError("GET", ""), "BADPARAM the key is empty; keys are 1 to 1024 bytes")
        XCTAssertEqual(parseError("GET", String(repeating: "k", count: 1025)), "TOOLARGE key is 1025 bytes; the limit is 1024 bytes")
        XCTAssertEqual(parseError("MGET", "a", String(repeating: "k", count: 1025)), "TOOLARGE key is 1025 bytes; the limit is 1024 bytes")
        var limits = Limits()
        limits.valueBytesMax = 4
        XCTAssertThrowsError(try RESPCommand.parse([key("SET"), key("k"), key("12345")], limits: limits)) { error in
            XCTAssertEqual((error as? RESPCommandError)?.reply.text, "TOOLARGE value is 5 bytes; the limit is 4 bytes")
        }
    }

    func testSelectMapsNumbersAndNamesToBuckets() throws {
        XCTAssertEqual(try parse("SELECT", "0"), .select(bucket: "default"))
        XCTAssertEqual(try parse("SELECT", "7"), .select(bucket: "db7"))
        XCTAssertEqual(try parse("SELECT", "carts"), .select(bucket: "carts"))
        XCTAssertEqual(parseError("SELECT", "-1"), "ERR DB index is out of range")
        XCTAssertEqual(
            parseError("SELECT", "no/slash"),
            "BADPARAM bucket name must be 1-64 characters of A-Z a-z 0-9 _ . -, got \"no/slash\"")
    }

    func testConsistencyForms() throws {
        XCTAssertEqual(try parse("CONSISTENCY"), .consistency(.show))
        XCTAssertEqual(try parse("consistency", "quorum"), .consistency(.set(RequestOptions(r: .quorum, w: .quorum))))
        XCTAssertEqual(try parse("CONSISTENCY", "default"), .consistency(.reset))
        XCTAssertEqual(
            try parse("CONSISTENCY", "R", "1", "W", "all", "N", "2", "TIMEOUT", "900"),
            .consistency(.set(RequestOptions(n: 2, r: .count(1), w: .all, timeoutMilliseconds: 900))))
        XCTAssertEqual(parseError("CONSISTENCY", "sometimes"), "BADPARAM consistency must be a number or ONE, TWO, THREE, QUORUM, ALL; got 'sometimes'")
    }

    func testQuorumKVCommands() throws {
        XCTAssertEqual(try parse("QGET", "k", "R", "all"), .qget(key: key("k"), options: RequestOptions(r: .all)))
        XCTAssertEqual(
            try parse("QSET", "k", "v", "CONTEXT", "abc", "content-type", "text/plain", "W", "3"),
            .qset(key: key("k"), value: key("v"), context: "abc", contentType: "text/plain", options: RequestOptions(w: .count(3))))
        XCTAssertEqual(try parse("QSET", "k", "v"), .qset(key: key("k"), value: key("v"), context: nil, contentType: nil, options: RequestOptions()))
        XCTAssertEqual(try parse("QDEL", "k", "CONTEXT", "abc"), .qdel(key: key("k"), context: "abc", options: RequestOptions()))
        XCTAssertEqual(parseError("QGET", "k", "CONTEXT", "x"), "ERR syntax error, 'CONTEXT' is not an option of QGET; options are R, N, PR, TIMEOUT")
    }

    func testConnectionCommands() throws {
        XCTAssertEqual(try parse("HELLO"), .hello(protocolVersion: nil, clientName: nil))
        XCTAssertEqual(try parse("HELLO", "3"), .hello(protocolVersion: 3, clientName: nil))
        XCTAssertEqual(
            try parse("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "me"),
            .hello(protocolVersion: 2, clientName: key("me"), credentials: RESPCredentials(user: "default", password: key("pw"))))
        XCTAssertEqual(try parse("AUTH", "pw"), .auth(RESPCredentials(user: nil, password: key("pw"))))
        XCTAssertEqual(try parse("AUTH", "alice", "pw"), .auth(RESPCredentials(user: "alice", password: key("pw"))))
        XCTAssertThrowsError(try parse("AUTH"))
        XCTAssertEqual(try parse("COMMAND", "DOCS"), .command(.docs))
        XCTAssertEqual(try parse("CLIENT", "SETINFO", "LIB-NAME", "redis-py"), .client(.accepted))
        XCTAssertEqual(try parse("CONFIG", "GET", "save"), .configGet(["save"]))
        XCTAssertEqual(parseError("CONFIG", "SET", "save", ""), "ERR CONFIG SET is not supported by QuorumKV; configure a node with `quorumkv serve` flags")
        XCTAssertEqual(try parse("UNLINK", "a", "b"), .del(keys: [key("a"), key("b")]))
    }

    // MARK: - Running

    private func handler(_ service: RESPFakeKVService) -> RESPCommandHandler {
        RESPCommandHandler(service: service, limits: .defaults, protocolLimits: .defaults, stats: RESPServerStats())
    }

    private func run(_ handler: RESPCommandHandler, _ session: inout RESPSession, _ words: String...) async -> RESPValue {
        await handler.run(words, session: &session)
    }

    func testSetGetDelExistsMgetMset() async {
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        let ok = await run(commands, &session, "SET", "a", "1")
        XCTAssertEqual(ok, .ok)
        let get = await run(commands, &session, "GET", "a")
        XCTAssertEqual(get, .bulk("1"))
        let missing = await run(commands, &session, "GET", "zz")
        XCTAssertEqual(missing, .null)
        let mset = await run(commands, &session, "MSET", "b", "2", "c", "3")
        XCTAssertEqual(mset, .ok)
        let mget = await run(commands, &session, "MGET", "a", "nope", "c")
        XCTAssertEqual(mget, .array([.bulk("1"), .null, .bulk("3")]))
        let exists = await run(commands, &session, "EXISTS", "a", "b", "nope", "a")
        XCTAssertEqual(exists, .integer(3))
        let del = await run(commands, &session, "DEL", "a", "nope", "b")
        XCTAssertEqual(del, .integer(2))
        let after = await run(commands, &session, "MGET", "a", "b", "c")
        XCTAssertEqual(after, .array([.null, .null, .bulk("3")]))
        // DEL read first and deleted with the read's context; the absent key was not written.
        let deletes = service.calls.filter { $0.operation == "delete" }
        XCTAssertEqual(deletes.map(\.key), ["a", "b"])
        XCTAssertTrue(deletes.allSatisfy { $0.context?.hasPrefix("ctx-") == true })
    }

    func testFlushdbTruncatesTheConnectionsBucketAndFlushallEveryBucket() async throws {
        XCTAssertEqual(try parse("flushdb"), .flush(everyBucket: false))
        XCTAssertEqual(try parse("FLUSHDB", "async"), .flush(everyBucket: false))
        XCTAssertEqual(try parse("FLUSHALL", "SYNC"), .flush(everyBucket: true))
        XCTAssertEqual(parseError("FLUSHDB", "LATER"), "ERR syntax error, FLUSHDB takes ASYNC or SYNC, got 'LATER'")
        XCTAssertEqual(parseError("FLUSHALL", "SYNC", "SYNC"), "ERR wrong number of arguments for 'flushall' command")
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        _ = await run(commands, &session, "SELECT", "carts")
        _ = await run(commands, &session, "SET", "a", "1")
        let flushed = await run(commands, &session, "FLUSHDB")
        XCTAssertEqual(flushed, .ok)
        let gone = await run(commands, &session, "GET", "a")
        XCTAssertEqual(gone, .null)
        _ = await run(commands, &session, "FLUSHALL")
        XCTAssertEqual(service.calls.filter { $0.operation == "truncate" }.map(\.bucket), ["carts", "*"])
        service.failEverything(with: .unavailable(message: "node3 did not answer"))
        let refused = await run(commands, &session, "FLUSHDB")
        XCTAssertEqual(refused, .error(prefix: "UNAVAILABLE", "node3 did not answer"))
    }

    func testOptionsComeFromTheCommandThenTheConnection() async {
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        _ = await run(commands, &session, "CONSISTENCY", "R", "one", "W", "all", "TIMEOUT", "700")
        _ = await run(commands, &session, "SET", "k", "v")
        _ = await run(commands, &session, "SET", "k", "v", "W", "2", "N", "2")
        _ = await run(commands, &session, "GET", "k", "R", "quorum")
        _ = await run(commands, &session, "MGET", "k")
        let options = service.calls.map(\.options)
        XCTAssertEqual(options[0], RequestOptions(r: .one, w: .all, timeoutMilliseconds: 700))
        XCTAssertEqual(options[1], RequestOptions(n: 2, r: .one, w: .count(2), timeoutMilliseconds: 700))
        XCTAssertEqual(options[2], RequestOptions(r: .quorum, w: .all, timeoutMilliseconds: 700))
        XCTAssertEqual(options[3], RequestOptions(r: .one, w: .all, timeoutMilliseconds: 700))
        let shown = await run(commands, &session, "CONSISTENCY")
        XCTAssertEqual(
            shown,
            .array(["r", "one", "w", "all", "n", "default", "pr", "default", "pw", "default", "timeout", "700"].map { .bulk($0) }))
        _ = await run(commands, &session, "CONSISTENCY", "DEFAULT")
        XCTAssertEqual(session.defaults, RequestOptions())
    }

    func testSelectChoosesTheBucket() async {
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        _ = await run(commands, &session, "SET", "k", "zero")
        _ = await run(commands, &session, "SELECT", "3")
        _ = await run(commands, &session, "SET", "k", "three")
        _ = await run(commands, &session, "SELECT", "carts")
        _ = await run(commands, &session, "SET", "k", "carts")
        XCTAssertEqual(service.value(bucket: "default", key: "k"), ["zero"])
        XCTAssertEqual(service.value(bucket: "db3", key: "k"), ["three"])
        XCTAssertEqual(service.value(bucket: "carts", key: "k"), ["carts"])
    }

    func testSiblingsQgetAndQset() async {
        let service = RESPFakeKVService(vclockBuckets: ["carts"])
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        _ = await run(commands, &session, "SELECT", "carts")
        let first = await run(commands, &session, "SET", "cart", "apples")
        XCTAssertEqual(first, .ok)
        _ = await run(commands, &session, "QSET", "cart", "pears", "CONTENT-TYPE", "text/plain")
        let plain = await run(commands, &session, "GET", "cart")
        XCTAssertEqual(
            plain,
            .error("SIBLINGS key 'cart' has 2 siblings; use QGET to read them and QSET with the context to resolve"))
        let mget = await run(commands, &session, "MGET", "cart")
        XCTAssertEqual(mget, plain)
        let all = await run(commands, &session, "QGET", "cart")
        XCTAssertEqual(
            all,
            .array([
                .bulk("ctx-2"),
                .array([.bulk(RESPCommandHandler.defaultContentType), .bulk("apples")]),
                .array([.bulk("text/plain"), .bulk("pears")]),
            ]))
        let resolved = await run(commands, &session, "QSET", "cart", "apples,pears", "CONTEXT", "ctx-2")
        XCTAssertEqual(resolved, .bulk("ctx-3"))
        let read = await run(commands, &session, "GET", "cart")
        XCTAssertEqual(read, .bulk("apples,pears"))
        let absent = await run(commands, &session, "QGET", "nothing")
        XCTAssertEqual(absent, .array([]))
        let deleted = await run(commands, &session, "QDEL", "cart", "CONTEXT", "ctx-3")
        XCTAssertEqual(deleted, .bulk("ctx-4"))
        XCTAssertEqual(service.calls.last?.context, "ctx-3")
    }

    func testQsetInALastWriterWinsBucketAnswersOK() async {
        let commands = handler(RESPFakeKVService())
        var session = RESPSession(clientID: 1)
        let reply = await run(commands, &session, "QSET", "k", "v")
        XCTAssertEqual(reply, .ok)
    }

    func testSetNXCreatesOnly() async {
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        let created = await run(commands, &session, "SET", "k", "first", "NX")
        XCTAssertEqual(created, .ok)
        let refused = await run(commands, &session, "SET", "k", "second", "NX")
        XCTAssertEqual(refused, .null)
        let setnx = await run(commands, &session, "SETNX", "k", "third")
        XCTAssertEqual(setnx, .integer(0))
        let setnxNew = await run(commands, &session, "SETNX", "other", "x")
        XCTAssertEqual(setnxNew, .integer(1))
        XCTAssertEqual(service.value(bucket: "default", key: "k"), ["first"])
        XCTAssertTrue(service.calls.filter { $0.operation == "put" }.allSatisfy(\.ifNoneMatch))
    }

    func testServiceErrorsKeepTheirStablePrefix() async {
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        let cases: [(KVError, String)] = [
            (.quorumNotMet(operation: .write, needed: 3, answered: 2, primariesNeeded: 0, primariesAnswered: 0), "QUORUM write needed 3"),
            (.badParameter(name: "w", message: "w=5 means 5 replica(s)"), "BADPARAM w=5"),
            (.tooLarge(what: "value", bytes: 9, limit: 8), "TOOLARGE value is 9 bytes"),
            (.overloaded(message: "busy"), "OVERLOADED busy"),
            (.siblingLimit(limit: 64), "SIBLINGLIMIT the key already has 64 siblings"),
            (.internalError(message: "disk"), "INTERNAL disk"),
            (.wrongType(message: "the bucket holds sets"), "WRONGTYPE Operation against a key holding the wrong kind of value"),
        ]
        for (error, prefix) in cases {
            service.failEverything(with: error)
            let reply = await run(commands, &session, "SET", "k", "v", "W", "3")
            XCTAssertTrue(reply.text?.hasPrefix(prefix) == true, "\(error): \(reply)")
            XCTAssertTrue(reply.isError)
        }
        XCTAssertEqual(RESPErrorReply.prefix(forCode: "some_new_code"), "SOMENEWCODE")
        XCTAssertEqual(HTTPResponder.status(for: .wrongType(message: "x")).code, 400)
    }

    func testAFailingKeyFailsTheWholeMultiKeyCommand() async {
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        service.fail(key: "bad", with: .quorumNotMet(operation: .read, needed: 2, answered: 1, primariesNeeded: 0, primariesAnswered: 0))
        let mget = await run(commands, &session, "MGET", "a", "bad", "c")
        XCTAssertTrue(mget.text?.hasPrefix("QUORUM read needed 2") == true, "\(mget)")
        let del = await run(commands, &session, "DEL", "bad")
        XCTAssertTrue(del.text?.hasPrefix("QUORUM") == true, "\(del)")
    }

    func testMultiKeyCommandsBoundTheirConcurrency() async {
        let service = RESPFakeKVService()
        var limits = RESPLimits()
        limits.multiKeyConcurrencyMax = 4
        let commands = RESPCommandHandler(service: service, limits: .defaults, protocolLimits: limits, stats: RESPServerStats())
        var session = RESPSession(clientID: 1)
        let words = ["MSET"] + (0..<200).flatMap { ["k\($0)", "v\($0)"] }
        let command = try! RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
        let reply = await commands.execute(session.request(for: command))
        XCTAssertEqual(reply, .ok)
        XCTAssertLessThanOrEqual(service.maxInFlight, 4)
        let count = await run(commands, &session, "EXISTS", "k0", "k199", "k200")
        XCTAssertEqual(count, .integer(2))
    }

    func testIntrospectionReplies() async {
        let commands = handler(RESPFakeKVService())
        var session = RESPSession(clientID: 9)
        let pong = await run(commands, &session, "PING")
        XCTAssertEqual(pong, .simpleString("PONG"))
        let echo = await run(commands, &session, "PING", "hi")
        XCTAssertEqual(echo, .bulk("hi"))
        let info = await run(commands, &session, "INFO")
        let text = info.text ?? ""
        for line in ["redis_version:7.0.0", "quorumkv_version:\(QuorumKVVersion.current)", "node_id:node-a", "cluster_enabled:0", "bucket:default"] {
            XCTAssertTrue(text.contains(line + "\r\n"), "INFO lacks \(line): \(text)")
        }
        let server = await run(commands, &session, "INFO", "server")
        XCTAssertFalse(server.text?.contains("# Clients") ?? true)
        let unknown = await run(commands, &session, "INFO", "nothing")
        XCTAssertEqual(unknown, .bulk(""))
        let hello = await run(commands, &session, "HELLO", "2")
        guard case .array(let pairs?) = hello else { return XCTFail("HELLO: \(hello)") }
        XCTAssertEqual(pairs.count % 2, 0)
        XCTAssertEqual(pairs[6...7], [.bulk("proto"), .integer(2)])
        XCTAssertEqual(pairs[8...9], [.bulk("id"), .integer(9)])
        let four = await run(commands, &session, "HELLO", "4")
        XCTAssertEqual(four, .error("NOPROTO sorry, this protocol version is not supported"))
        XCTAssertEqual(session.protocolVersion, 2)
        let three = await run(commands, &session, "HELLO", "3")
        guard case .map(let fields) = three else { return XCTFail("HELLO 3: \(three)") }
        XCTAssertEqual(fields[6...7], [.bulk("proto"), .integer(3)])
        XCTAssertEqual(session.protocolVersion, 3)
        var resp3 = ByteBuffer()
        resp3.writeRESPValue(.null, resp3: true)
        resp3.writeRESPValue(.map([.bulk("k"), .integer(1)]), resp3: true)
        XCTAssertEqual(resp3.readString(length: resp3.readableBytes), "_\r\n%1\r\n$1\r\nk\r\n:1\r\n")
        _ = await run(commands, &session, "HELLO", "2")
        let count = await run(commands, &session, "COMMAND", "COUNT")
        XCTAssertEqual(count, .integer(RESPCommand.table.count))
        // DOCS describes every command now (RESPIntrospectionTests checks the shape).
        let docs = await run(commands, &session, "COMMAND", "DOCS")
        guard case .array(let docEntries?) = docs else { return XCTFail("COMMAND DOCS: \(docs)") }
        XCTAssertEqual(docEntries.count, 2 * RESPCommand.table.count)
        let all = await run(commands, &session, "COMMAND")
        guard case .array(let entries?) = all else { return XCTFail("COMMAND: \(all)") }
        XCTAssertEqual(entries.count, RESPCommand.table.count)
        let config = await run(commands, &session, "CONFIG", "GET", "save")
        XCTAssertEqual(config, .array([.bulk("save"), .bulk("")]))
        // `*` gives every setting clients probe; save and appendonly lead, as before.
        let star = await run(commands, &session, "CONFIG", "GET", "*")
        guard case .array(let starPairs?) = star else { return XCTFail("CONFIG GET *: \(star)") }
        XCTAssertEqual(Array(starPairs.prefix(4)), [.bulk("save"), .bulk(""), .bulk("appendonly"), .bulk("no")])
        XCTAssertEqual(starPairs.count, 2 * RESPIntrospection.configValues(limits: .defaults).count)
        _ = await run(commands, &session, "CLIENT", "SETNAME", "worker-1")
        let name = await run(commands, &session, "CLIENT", "GETNAME")
        XCTAssertEqual(name, .bulk("worker-1"))
        let id = await run(commands, &session, "CLIENT", "ID")
        XCTAssertEqual(id, .integer(9))
    }

    func testGlob() {
        XCTAssertTrue(RESPIntrospection.glob("*", matches: "save"))
        XCTAssertTrue(RESPIntrospection.glob("s?ve", matches: "save"))
        XCTAssertTrue(RESPIntrospection.glob("*only", matches: "appendonly"))
        XCTAssertFalse(RESPIntrospection.glob("save*x", matches: "save"))
        XCTAssertTrue(RESPIntrospection.glob("a*b*c", matches: "aXbYbZc"))
    }
}
