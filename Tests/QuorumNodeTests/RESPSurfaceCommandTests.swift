import NIOCore
import QuorumCore
import XCTest

@testable import QuorumNode

/// The string, key-space, server and introspection commands of issue #14, from words to
/// replies against the fake service.
final class RESPSurfaceCommandTests: XCTestCase {
    private func key(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func parse(_ words: String...) throws(RESPCommandError) -> RESPCommand {
        try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
    }

    private func handler(_ service: RESPFakeKVService, limits: RESPLimits = .defaults, cursors: RESPScanCursors? = nil) -> RESPCommandHandler {
        RESPCommandHandler(service: service, limits: .defaults, protocolLimits: limits, stats: RESPServerStats(), scanCursors: cursors)
    }

    private func run(_ handler: RESPCommandHandler, _ session: inout RESPSession, _ words: [String]) async -> RESPValue {
        await handler.run(words, session: &session)
    }

    private func run(_ handler: RESPCommandHandler, _ session: inout RESPSession, _ words: String...) async -> RESPValue {
        await run(handler, &session, words)
    }

    // MARK: - Parsing

    func testParsing() throws {
        XCTAssertEqual(
            try parse("SET", "k", "v", "xx", "W", "2"),
            .string(.setReading(key: key("k"), value: key("v"), options: RequestOptions(w: .count(2)), condition: .ifPresent, returnsOld: false)))
        XCTAssertEqual(
            try parse("SET", "k", "v", "NX", "GET"),
            .string(.setReading(key: key("k"), value: key("v"), options: RequestOptions(), condition: .ifAbsent, returnsOld: true)))
        XCTAssertEqual(
            try parse("GETSET", "k", "v"),
            .string(.setReading(key: key("k"), value: key("v"), options: RequestOptions(), condition: .always, returnsOld: true)))
        XCTAssertEqual(try parse("getdel", "k"), .string(.getDel(key: key("k"), options: RequestOptions())))
        XCTAssertEqual(try parse("STRLEN", "k", "R", "1"), .string(.strlen(key: key("k"), options: RequestOptions(r: .count(1)))))
        XCTAssertEqual(try parse("TYPE", "k"), .keyspace(.type(key: key("k"), options: RequestOptions())))
        XCTAssertEqual(try parse("DBSIZE"), .keyspace(.dbsize))
        XCTAssertEqual(try parse("KEYS", "a*"), .keyspace(.keys(pattern: key("a*"))))
        XCTAssertEqual(
            try parse("SCAN", "17", "match", "u:*", "COUNT", "100", "TYPE", "String"),
            .keyspace(.scan(RESPScanRequest(cursor: 17, pattern: key("u:*"), count: 100, type: "string"))))
        XCTAssertEqual(try parse("SCAN", "0"), .keyspace(.scan(RESPScanRequest(cursor: 0))))
        XCTAssertEqual(try parse("MULTI"), .transaction(.multi))
        XCTAssertEqual(try parse("exec"), .transaction(.exec))
        XCTAssertEqual(try parse("TIME"), .server(.time))
        XCTAssertEqual(try parse("WAIT", "1", "0"), .server(.wait(replicas: 1, timeoutMilliseconds: 0)))
        XCTAssertEqual(try parse("CLIENT", "LIST"), .client(.list))
        XCTAssertEqual(try parse("COMMAND", "DOCS", "Get", "rename"), .command(.docsNamed(["get", "rename"])))
        XCTAssertEqual(try parse("UNLINK", "a", "a"), .del(keys: [key("a"), key("a")]))
    }

    func testParseErrors() {
        func error(_ words: String...) -> String? {
            do {
                _ = try RESPCommand.parse(words.map { Array($0.utf8) }, limits: .defaults)
                return nil
            } catch {
                return error.reply.text
            }
        }
        XCTAssertEqual(error("SCAN", "abc"), "ERR invalid cursor: a SCAN cursor is 0 or a number an earlier SCAN answered")
        XCTAssertEqual(error("SCAN", "-1"), "ERR invalid cursor: a SCAN cursor is 0 or a number an earlier SCAN answered")
        XCTAssertEqual(error("SCAN", "0", "COUNT", "0"), "ERR syntax error, COUNT must be a whole number, 1 or more; got '0'")
        XCTAssertEqual(error("SCAN", "0", "LIMIT", "5"), "ERR syntax error, 'LIMIT' is not an option of SCAN; options are MATCH, COUNT, TYPE")
        XCTAssertEqual(error("SCAN", "0", "MATCH"), "ERR syntax error, option MATCH of SCAN needs a value")
        XCTAssertEqual(error("KEYS"), "ERR wrong number of arguments for 'keys' command")
        XCTAssertEqual(error("DBSIZE", "x"), "ERR wrong number of arguments for 'dbsize' command")
        XCTAssertEqual(error("MULTI", "x"), "ERR wrong number of arguments for 'multi' command")
        XCTAssertEqual(error("GETSET", "k"), "ERR wrong number of arguments for 'getset' command")
        XCTAssertEqual(
            error("WAIT", "x", "0"),
            "ERR value is not an integer or out of range (WAIT numreplicas timeout-milliseconds, both 0 or more)")
        XCTAssertEqual(error("SET", "k", "v", "EX", "0"), "ERR invalid expire time in 'set' command")
        XCTAssertEqual(error("SET", "k", "v", "KEEPTTL", "EX", "5"), "ERR syntax error")
    }

    func testRefusedCommandsSayWhy() {
        for name in ["WATCH", "RENAME", "renamenx", "EVAL", "EVALSHA", "SCRIPT", "FUNCTION", "FCALL", "INCRBYFLOAT", "APPEND", "MSETNX", "MOVE", "COPY"] {
            do {
                _ = try RESPCommand.parse([key(name), key("a"), key("b")], limits: .defaults)
                XCTFail("\(name) must be refused")
            } catch {
                let text = error.reply.text ?? ""
                XCTAssertTrue(text.hasPrefix("NOTSUPPORTED \(name.uppercased()) is refused by QuorumKV: "), text)
                XCTAssertEqual(text, "NOTSUPPORTED \(name.uppercased()) is refused by QuorumKV: \(RESPCommand.refused[name.lowercased()]!)")
            }
        }
        XCTAssertTrue(RESPCommand.refused["rename"]!.contains("different replicas"))
        XCTAssertTrue(RESPCommand.refused["eval"]!.contains("scripts"))
        XCTAssertTrue(RESPCommand.refused["watch"]!.contains("cannot watch"))
        // Refused and supported commands never overlap.
        XCTAssertTrue(RESPCommand.table.allSatisfy { RESPCommand.refused[$0.name] == nil })
    }

    // MARK: - The command table

    func testEveryCommandHasOneCategoryAndParses() {
        XCTAssertEqual(Set(RESPCommand.table.map(\.name)).count, RESPCommand.table.count, "names are unique")
        let expected: [String: RESPCommandCategory] = [
            "get": .read, "mget": .read, "strlen": .read, "set": .write, "getdel": .write, "del": .write, "unlink": .write,
            "exists": .keyspace, "scan": .keyspace, "keys": .keyspace, "dbsize": .keyspace, "type": .keyspace,
            "config": .admin, "info": .admin, "ping": .connection, "multi": .connection, "select": .connection,
        ]
        for (name, category) in expected {
            XCTAssertEqual(RESPCommand.spec(named: name)?.category, category, name)
        }
        // Every row is a command the parser knows (not "unknown command").
        for spec in RESPCommand.table {
            do {
                _ = try RESPCommand.parse([key(spec.name)], limits: .defaults)
            } catch {
                XCTAssertFalse(error.reply.text?.contains("unknown command") ?? true, "\(spec.name): \(error.reply)")
            }
        }
    }

    func testCommandRepliesComeFromTheTable() async {
        let commands = handler(RESPFakeKVService())
        var session = RESPSession(clientID: 1)
        let info = await run(commands, &session, "COMMAND", "INFO", "getdel", "nope", "SCAN")
        guard case .array(let entries?) = info, entries.count == 3 else { return XCTFail("COMMAND INFO: \(info)") }
        XCTAssertEqual(
            entries[0],
            .array([
                .bulk("getdel"), .integer(2), .array([.simpleString("write"), .simpleString("fast")]), .integer(1), .integer(1),
                .integer(1), .array([.simpleString("@write")]), .array([]), .array([]), .array([]),
            ]))
        XCTAssertEqual(entries[1], .null)
        guard case .array(let scan?) = entries[2] else { return XCTFail("\(entries[2])") }
        XCTAssertEqual(scan[6], .array([.simpleString("@keyspace")]))
        let list = await run(commands, &session, "COMMAND", "LIST")
        XCTAssertEqual(list, .array(RESPCommand.table.map { .bulk($0.name) }))
        let count = await run(commands, &session, "COMMAND", "COUNT")
        XCTAssertEqual(count, .integer(RESPCommand.table.count))

        // DOCS: name → fields; flat in RESP2, maps in RESP3; a refused name gives its reason.
        let docs = await run(commands, &session, "COMMAND", "DOCS", "get", "rename", "nothing")
        guard case .array(let flat?) = docs, flat.count == 4 else { return XCTFail("COMMAND DOCS: \(docs)") }
        XCTAssertEqual(flat[0], .bulk("get"))
        guard case .array(let getFields?) = flat[1] else { return XCTFail("\(flat[1])") }
        XCTAssertEqual(Array(getFields[0...1]), [.bulk("summary"), .bulk(RESPCommand.spec(named: "get")!.summary)])
        XCTAssertEqual(Array(getFields[4...5]), [.bulk("group"), .bulk("string")])
        XCTAssertEqual(flat[2], .bulk("rename"))
        guard case .array(let renameFields?) = flat[3] else { return XCTFail("\(flat[3])") }
        XCTAssertEqual(renameFields[1], .bulk("Refused by QuorumKV: \(RESPCommand.refused["rename"]!)."))
        session.protocolVersion = 3
        let docs3 = await run(commands, &session, "COMMAND", "DOCS", "get")
        guard case .map(let pairs) = docs3, pairs.count == 2, case .map = pairs[1] else { return XCTFail("RESP3 DOCS: \(docs3)") }
    }

    // MARK: - String commands

    func testSetXXAndGetAndGetsetAndGetdel() async {
        let service = RESPFakeKVService()
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        let xxAbsent = await run(commands, &session, "SET", "k", "v", "XX")
        XCTAssertEqual(xxAbsent, .null, "XX on an absent key sets nothing")
        XCTAssertEqual(service.value(bucket: "default", key: "k"), [])
        let getAbsent = await run(commands, &session, "SET", "k", "one", "GET")
        XCTAssertEqual(getAbsent, .null)
        let xx = await run(commands, &session, "SET", "k", "two", "XX")
        XCTAssertEqual(xx, .ok)
        let xxGet = await run(commands, &session, "SET", "k", "three", "XX", "GET")
        XCTAssertEqual(xxGet, .bulk("two"))
        XCTAssertEqual(service.value(bucket: "default", key: "k"), ["three"])
        let nxGet = await run(commands, &session, "SET", "k", "four", "NX", "GET")
        XCTAssertEqual(nxGet, .bulk("three"), "NX GET on a held key answers the value that stopped it")
        XCTAssertEqual(service.value(bucket: "default", key: "k"), ["three"])
        let nxGetNew = await run(commands, &session, "SET", "fresh", "x", "NX", "GET")
        XCTAssertEqual(nxGetNew, .null)
        XCTAssertEqual(service.value(bucket: "default", key: "fresh"), ["x"])
        let getset = await run(commands, &session, "GETSET", "k", "five")
        XCTAssertEqual(getset, .bulk("three"))
        // The write after the read carries the read's context.
        XCTAssertTrue(service.calls.last { $0.operation == "put" }?.context?.hasPrefix("ctx-") == true)
        let getdel = await run(commands, &session, "GETDEL", "k")
        XCTAssertEqual(getdel, .bulk("five"))
        XCTAssertEqual(service.value(bucket: "default", key: "k"), [])
        let getdelAgain = await run(commands, &session, "GETDEL", "k")
        XCTAssertEqual(getdelAgain, .null)
        XCTAssertEqual(service.calls.filter { $0.operation == "delete" }.count, 1, "an absent key is not deleted again")
    }

    func testStrlenTypeAndSiblings() async {
        let service = RESPFakeKVService(vclockBuckets: ["carts"])
        let commands = handler(service)
        var session = RESPSession(clientID: 1)
        _ = await run(commands, &session, "SET", "k", "hello")
        let strlen = await run(commands, &session, "STRLEN", "k")
        XCTAssertEqual(strlen, .integer(5))
        let strlenAbsent = await run(commands, &session, "STRLEN", "nope")
        XCTAssertEqual(strlenAbsent, .integer(0))
        let type = await run(commands, &session, "TYPE", "k")
        XCTAssertEqual(type, .simpleString("string"))
        let none = await run(commands, &session, "TYPE", "nope")
        XCTAssertEqual(none, .simpleString("none"))
        _ = await run(commands, &session, "SELECT", "carts")
        _ = await run(commands, &session, "SET", "cart", "a")
        _ = await run(commands, &session, "SET", "cart", "b")
        let siblingLength = await run(commands, &session, "STRLEN", "cart")
        XCTAssertTrue(siblingLength.text?.hasPrefix("SIBLINGS") == true, "\(siblingLength)")
        let getset = await run(commands, &session, "GETSET", "cart", "c")
        XCTAssertTrue(getset.text?.hasPrefix("SIBLINGS") == true, "\(getset)")
        XCTAssertEqual(Set(service.value(bucket: "carts", key: "cart")), ["a", "b"], "no write after a SIBLINGS answer")
        let siblingType = await run(commands, &session, "TYPE", "cart")
        XCTAssertEqual(siblingType, .simpleString("string"))
        // XX with siblings writes with the read's context, replacing them.
        let xx = await run(commands, &session, "SET", "cart", "merged", "XX")
        XCTAssertEqual(xx, .ok)
        XCTAssertEqual(service.value(bucket: "carts", key: "cart"), ["merged"])
    }

    func testExistsCountsDuplicatesAndUnlinkDeletes() async {
        let commands = handler(RESPFakeKVService())
        var session = RESPSession(clientID: 1)
        _ = await run(commands, &session, "MSET", "a", "1", "b", "2")
        let exists = await run(commands, &session, "EXISTS", "a", "a", "b", "c", "a")
        XCTAssertEqual(exists, .integer(4))
        let unlink = await run(commands, &session, "UNLINK", "a", "c")
        XCTAssertEqual(unlink, .integer(1))
        let after = await run(commands, &session, "EXISTS", "a", "b")
        XCTAssertEqual(after, .integer(1))
    }

    // MARK: - Key space

    private func fill(_ commands: RESPCommandHandler, _ session: inout RESPSession, count: Int) async {
        var words = ["MSET"]
        for index in 0..<count { words += ["key:\(index)", "v"] }
        let reply = await run(commands, &session, words)
        XCTAssertEqual(reply, .ok)
    }

    private func scanAll(
        _ commands: RESPCommandHandler, _ session: inout RESPSession, extra: [String] = []
    ) async -> (keys: [String], pages: Int) {
        var cursor = "0"
        var keys: [String] = []
        var pages = 0
        repeat {
            let reply = await run(commands, &session, ["SCAN", cursor] + extra)
            guard case .array(let parts?) = reply, parts.count == 2, case .array(let page?) = parts[1], let next = parts[0].text else {
                XCTFail("SCAN: \(reply)")
                return (keys, pages)
            }
            XCTAssertNotNil(UInt64(next), "a cursor is a decimal integer: \(next)")
            keys += page.compactMap(\.text)
            cursor = next
            pages += 1
        } while cursor != "0" && pages < 1000
        return (keys, pages)
    }

    func testScanPagesThroughEveryKeyWithDecimalCursors() async {
        let commands = handler(RESPFakeKVService())
        var session = RESPSession(clientID: 1)
        await fill(commands, &session, count: 95)
        let all = await scanAll(commands, &session)
        XCTAssertEqual(all.keys.count, 95)
        XCTAssertEqual(Set(all.keys), Set((0..<95).map { "key:\($0)" }))
        XCTAssertEqual(all.pages, 10, "COUNT defaults to 10")
        let big = await scanAll(commands, &session, extra: ["COUNT", "50"])
        XCTAssertEqual(big.pages, 2)
        let matched = await scanAll(commands, &session, extra: ["MATCH", "key:1?", "COUNT", "1000"])
        XCTAssertEqual(Set(matched.keys), Set((10..<20).map { "key:\($0)" }))
        let typed = await run(commands, &session, "SCAN", "0", "TYPE", "hash")
        XCTAssertEqual(typed, .array([.bulk("0"), .array([])]), "no key holds another type than string")
        let strings = await scanAll(commands, &session, extra: ["TYPE", "string", "COUNT", "1000"])
        XCTAssertEqual(strings.keys.count, 95)
    }

    func testScanCursorsFailClearly() async {
        let cursors = RESPScanCursors(capacity: 2, tag: 5)
        let commands = handler(RESPFakeKVService(), cursors: cursors)
        var session = RESPSession(clientID: 1)
        await fill(commands, &session, count: 10)
        let first = await run(commands, &session, "SCAN", "0", "COUNT", "2")
        guard case .array(let parts?) = first, let cursor = parts[0].text else { return XCTFail("\(first)") }
        XCTAssertEqual(UInt64(cursor), 5 << 32 | 1)
        let unknown = await run(commands, &session, "SCAN", "12345")
        XCTAssertTrue(unknown.text?.hasPrefix("ERR invalid cursor: 12345 is not a SCAN cursor this node issued") == true, "\(unknown)")
        XCTAssertTrue(unknown.text?.hasSuffix("start again from 0") == true, "\(unknown)")
        _ = await run(commands, &session, "SELECT", "1")
        let otherBucket = await run(commands, &session, "SCAN", cursor)
        XCTAssertEqual(
            otherBucket,
            .error("ERR invalid cursor: \(cursor) lists bucket 'default', not 'db1' (SELECT changed the bucket); start again from 0"))
        _ = await run(commands, &session, "SELECT", "0")
        // Two newer cursors push the first one out (capacity 2).
        _ = await run(commands, &session, "SCAN", "0", "COUNT", "2")
        _ = await run(commands, &session, "SCAN", "0", "COUNT", "2")
        let forgotten = await run(commands, &session, "SCAN", cursor)
        XCTAssertTrue(forgotten.text?.contains("older than the 2 most recent") == true, "\(forgotten)")
    }

    func testScanCursorOfAnotherRingFailsClearly() async {
        let cursors = RESPScanCursors(capacity: 4, tag: 1)
        let service = RESPFakeKVService()
        let commands = handler(service, cursors: cursors)
        var session = RESPSession(clientID: 1)
        let cursor = cursors.issue(bucket: "default", token: "stale-token")
        let reply = await run(commands, &session, "SCAN", String(cursor))
        XCTAssertEqual(
            reply,
            .error("ERR invalid cursor: \(cursor) no longer fits the ring (the cursor is not one this cluster issued); start again from 0"))
    }

    func testScanCursorTable() {
        let cursors = RESPScanCursors(capacity: 3, tag: (1 << 21) - 1)
        let issued = (0..<5).map { cursors.issue(bucket: "b", token: "t\($0)") }
        XCTAssertEqual(Set(issued).count, 5)
        XCTAssertTrue(issued.allSatisfy { $0 != 0 && $0 < 1 << 53 }, "cursors fit a double exactly")
        XCTAssertNil(try? cursors.token(for: issued[1], bucket: "b").get())
        XCTAssertEqual(try? cursors.token(for: issued[2], bucket: "b").get(), "t2")
        XCTAssertEqual(try? cursors.token(for: issued[4], bucket: "b").get(), "t4")
        let other = RESPScanCursors(capacity: 3, tag: 7)
        XCTAssertNil(try? other.token(for: issued[4], bucket: "b").get(), "another node's cursor is unknown, not someone else's")
    }

    func testKeysAndDbsizeAndTheirBounds() async {
        var limits = RESPLimits()
        limits.keysCommandKeysMax = 30
        limits.keyCountKeysMax = 40
        let commands = handler(RESPFakeKVService(), limits: limits)
        var session = RESPSession(clientID: 1)
        await fill(commands, &session, count: 25)
        let keys = await run(commands, &session, "KEYS", "key:2*")
        guard case .array(let found?) = keys else { return XCTFail("\(keys)") }
        XCTAssertEqual(Set(found.compactMap(\.text)), Set(["key:2"] + (20..<25).map { "key:\($0)" }))
        let dbsize = await run(commands, &session, "DBSIZE")
        XCTAssertEqual(dbsize, .integer(25))
        await fill(commands, &session, count: 35)
        let tooMany = await run(commands, &session, "KEYS", "*")
        XCTAssertEqual(
            tooMany,
            .error("TOOLARGE KEYS looks at no more than 30 keys and bucket 'default' has more; use SCAN with MATCH, which pages through any number"))
        let counted = await run(commands, &session, "DBSIZE")
        XCTAssertEqual(counted, .integer(35))
        await fill(commands, &session, count: 45)
        let overCount = await run(commands, &session, "DBSIZE")
        XCTAssertEqual(overCount, .error("TOOLARGE DBSIZE counts no more than 40 keys and bucket 'default' has more"))
    }

    func testInfoKeyspaceIsShapedLikeRedis() async {
        let commands = handler(RESPFakeKVService())
        var session = RESPSession(clientID: 1)
        let empty = await run(commands, &session, "INFO", "keyspace")
        XCTAssertEqual(empty, .bulk("# Keyspace\r\n"), "Redis leaves empty databases out")
        await fill(commands, &session, count: 3)
        let zero = await run(commands, &session, "INFO", "keyspace")
        XCTAssertEqual(zero, .bulk("# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\n"))
        _ = await run(commands, &session, "SELECT", "4")
        _ = await run(commands, &session, "SET", "x", "1")
        let four = await run(commands, &session, "INFO")
        XCTAssertTrue(four.text?.contains("\r\n# Keyspace\r\ndb4:keys=1,expires=0,avg_ttl=0\r\n") == true, four.text ?? "")
        _ = await run(commands, &session, "SELECT", "carts")
        _ = await run(commands, &session, "SET", "x", "1")
        let named = await run(commands, &session, "INFO", "keyspace")
        XCTAssertEqual(named, .bulk("# Keyspace\r\ncarts:keys=1,expires=0,avg_ttl=0\r\n"))
        let server = await run(commands, &session, "INFO", "server")
        XCTAssertFalse(server.text?.contains("Keyspace") ?? true)
    }

    // MARK: - Server and connection commands

    func testWaitAnswersWMinusOne() async {
        let commands = handler(RESPFakeKVService())
        var session = RESPSession(clientID: 1)
        let byDefault = await run(commands, &session, "WAIT", "2", "100")
        XCTAssertEqual(byDefault, .integer(1), "the default bucket's w is quorum of 3: 2 copies, 1 beyond the first")
        _ = await run(commands, &session, "CONSISTENCY", "W", "ALL")
        let all = await run(commands, &session, "WAIT", "2", "0")
        XCTAssertEqual(all, .integer(2))
        _ = await run(commands, &session, "CONSISTENCY", "W", "1")
        let one = await run(commands, &session, "WAIT", "1", "0")
        XCTAssertEqual(one, .integer(0))
        _ = await run(commands, &session, "CONSISTENCY", "W", "7")
        let tooMany = await run(commands, &session, "WAIT", "5", "0")
        XCTAssertEqual(tooMany, .integer(2), "never more than n - 1")
        _ = await run(commands, &session, "CONSISTENCY", "W", "ALL", "N", "2")
        let fewer = await run(commands, &session, "WAIT", "5", "0")
        XCTAssertEqual(fewer, .integer(1), "w=all of a per-connection n=2")
    }

    func testTimeClientAndConfig() async {
        let stats = RESPServerStats()
        let commands = RESPCommandHandler(service: RESPFakeKVService(), limits: .defaults, protocolLimits: .defaults, stats: stats)
        var session = RESPSession(clientID: 7)
        let before = Int64(Date().timeIntervalSince1970)
        let time = await run(commands, &session, "TIME")
        guard case .array(let parts?) = time, parts.count == 2, let seconds = parts[0].text.flatMap({ Int64($0) }),
            let micros = parts[1].text.flatMap({ Int64($0) })
        else { return XCTFail("TIME: \(time)") }
        XCTAssertTrue((before...(before + 5)).contains(seconds), "\(seconds)")
        XCTAssertTrue((0..<1_000_000).contains(micros))

        _ = await run(commands, &session, "CLIENT", "SETNAME", "worker")
        _ = await run(commands, &session, "SELECT", "3")
        let info = await run(commands, &session, "CLIENT", "INFO")
        let line = info.text ?? ""
        XCTAssertTrue(line.hasPrefix("id=7 addr="), line)
        XCTAssertTrue(line.hasSuffix("\n"))
        for field in [" name=worker ", " db=3 ", " resp=2 ", " multi=-1 ", " bucket=db3"] {
            XCTAssertTrue(line.contains(field), "\(field) missing: \(line)")
        }
        _ = await run(commands, &session, "SELECT", "carts")
        let named = await run(commands, &session, "CLIENT", "INFO")
        XCTAssertFalse(named.text?.contains(" db=") ?? true, "db= is an integer for clients; a named bucket has none")
        let list = await run(commands, &session, "CLIENT", "LIST")
        XCTAssertEqual(list.text?.split(separator: "\n").count, 1)
        XCTAssertTrue(list.text?.hasPrefix("id=7 ") == true)

        let resp2 = await run(commands, &session, "CONFIG", "GET", "maxmemory*")
        XCTAssertEqual(resp2, .array([.bulk("maxmemory"), .bulk("0"), .bulk("maxmemory-policy"), .bulk("noeviction")]))
        session.protocolVersion = 3
        let resp3 = await run(commands, &session, "CONFIG", "GET", "databases", "timeout")
        XCTAssertEqual(resp3, .map([.bulk("databases"), .bulk("16"), .bulk("timeout"), .bulk("300")]))
        let unwatch = await run(commands, &session, "UNWATCH")
        XCTAssertEqual(unwatch, .ok)
    }
}
