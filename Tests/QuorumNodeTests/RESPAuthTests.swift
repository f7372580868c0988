import Foundation
import NIOCore
import NIOEmbedded
import QuorumCore
import XCTest

@testable import QuorumNode

/// `AUTH`, `HELLO … AUTH`, `-NOAUTH`, `-WRONGPASS`, `-NOPERM` on one connection, with
/// Redis's wording, and a connection closed after repeated failures.
final class RESPAuthTests: XCTestCase {
    private struct Fixture {
        let channel: NIOAsyncTestingChannel
        let service: RESPFakeKVService
        let access: AccessControl

        func send(_ words: String...) async throws {
            try await channel.writeInbound(ByteBuffer(bytes: respFrame(words.map { Array($0.utf8) })))
        }

        func replies(_ count: Int, seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line) async throws -> [RESPValue] {
            var reader = RESPReplyReader()
            var replies: [RESPValue] = []
            let deadline = Date().addingTimeInterval(seconds)
            while replies.count < count {
                if let buffer = try await channel.readOutbound(as: ByteBuffer.self) {
                    reader.append(buffer)
                    replies += reader.all()
                    continue
                }
                guard Date() < deadline else {
                    XCTFail("got \(replies.count) of \(count) replies: \(replies)", file: file, line: line)
                    return replies
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            return replies
        }
    }

    private func makeFixture(loopback: Bool, defaultOff: Bool = false) async throws -> Fixture {
        var users = [
            try AccessControlTests.user("alice", password: "pw", grants: [ACLGrant(actions: [.read], pattern: "a*")]),
            try AccessControlTests.user("admin", password: "root", grants: [ACLGrant(actions: Set(AccessAction.allCases), pattern: "*")]),
        ]
        if defaultOff { users.append(ACLUser(name: "default", enabled: false)) }
        var limits = AccessControlTests.testLimits
        limits.failuresPerConnectionMax = 3
        let access = AccessControl(acl: ACL(users: users), path: "/unused", limits: limits)
        let service = RESPFakeKVService()
        let channel = NIOAsyncTestingChannel()
        let commands = RESPCommandHandler(service: service, limits: .defaults, protocolLimits: .defaults, stats: RESPServerStats())
        let gate = RESPAccessGate(access: access, loopbackListener: loopback)
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(
                RESPServerHandler(commands: commands, limits: .defaults, logger: respTestLogger, gate: gate))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379))
        return Fixture(channel: channel, service: service, access: access)
    }

    func testUnauthenticatedCommandsGetNOAUTHOnANonLoopbackListener() async throws {
        let fixture = try await makeFixture(loopback: false)
        try await fixture.send("GET", "k")
        try await fixture.send("PING")
        try await fixture.send("HELLO", "3")
        let replies = try await fixture.replies(3)
        XCTAssertEqual(replies[0], .error("NOAUTH Authentication required."))
        XCTAssertEqual(replies[1], .error("NOAUTH Authentication required."))
        XCTAssertTrue(replies[2].isError && "\(replies[2])".contains("NOAUTH HELLO must be called"))
    }

    func testWrongPasswordIsWRONGPASSAndTheRightOneLogsIn() async throws {
        let fixture = try await makeFixture(loopback: false)
        try await fixture.send("AUTH", "admin", "nope")
        try await fixture.send("AUTH", "admin", "root")
        try await fixture.send("GET", "k")
        let replies = try await fixture.replies(3)
        XCTAssertEqual(replies[0], .error("WRONGPASS invalid username-password pair or user is disabled."))
        XCTAssertEqual(replies[1], .ok)
        XCTAssertEqual(replies[2], .null)
        try await fixture.send("CLIENT", "LIST")
        guard case .bulkString(let list?) = try await fixture.replies(1).first else { return XCTFail("no CLIENT LIST") }
        let text = String(decoding: list, as: UTF8.self)
        XCTAssertTrue(text.contains("user=admin"), text)
        XCTAssertFalse(text.contains("root") || text.contains("nope"), "no password in CLIENT LIST: \(text)")
    }

    func testCommandsPipelinedBehindAUTHRunAsTheNewUser() async throws {
        let fixture = try await makeFixture(loopback: false)
        // redis-benchmark writes AUTH and its commands in one go.
        try await fixture.channel.writeInbound(
            ByteBuffer(bytes: respFrame("AUTH", "admin", "root") + respFrame("SET", "k", "v") + respFrame("GET", "k")))
        let replies = try await fixture.replies(3)
        XCTAssertEqual(replies, [.ok, .ok, .bulk("v")])
    }

    func testHELLOWithAUTHLogsInAndAnswersTheMap() async throws {
        let fixture = try await makeFixture(loopback: false)
        try await fixture.send("HELLO", "3", "AUTH", "alice", "wrong")
        try await fixture.send("HELLO", "3", "AUTH", "alice", "pw")
        let replies = try await fixture.replies(2)
        XCTAssertEqual(replies[0], .error("WRONGPASS invalid username-password pair or user is disabled."))
        guard case .map(let fields) = replies[1] else { return XCTFail("\(replies[1])") }
        XCTAssertTrue(fields.contains(.bulk("quorumkv")))
    }

    func testNOPERMNamesTheCommandOrTheBucket() async throws {
        let fixture = try await makeFixture(loopback: false)
        try await fixture.send("AUTH", "alice", "pw")
        try await fixture.send("SELECT", "apples")
        try await fixture.send("GET", "k")
        try await fixture.send("SET", "k", "v")
        try await fixture.send("SELECT", "pears")
        try await fixture.send("GET", "k")
        try await fixture.send("CONFIG", "GET", "save")
        let replies = try await fixture.replies(7)
        XCTAssertEqual(replies[0], .ok)
        XCTAssertEqual(replies[2], .null)
        XCTAssertEqual(replies[3], .error("NOPERM User alice has no permissions to run the 'set' command"))
        XCTAssertEqual(replies[5], .error("NOPERM User alice has no permissions to read bucket 'pears' (command 'get')"))
        XCTAssertEqual(replies[6], .error("NOPERM User alice has no permissions to run the 'config' command"))
        XCTAssertTrue(fixture.service.value(bucket: "apples", key: "k").isEmpty, "nothing was written")
    }

    func testTheDefaultUserActsUnauthenticatedOnALoopbackListenerOnly() async throws {
        let loopback = try await makeFixture(loopback: true)
        try await loopback.send("SET", "k", "v")
        let loopbackReplies = try await loopback.replies(1)
        XCTAssertEqual(loopbackReplies, [.ok])
        let off = try await makeFixture(loopback: true, defaultOff: true)
        try await off.send("SET", "k", "v")
        let offReplies = try await off.replies(1)
        XCTAssertEqual(offReplies, [.error("NOAUTH Authentication required.")])
    }

    func testTheConnectionClosesAfterRepeatedFailures() async throws {
        let fixture = try await makeFixture(loopback: false)
        for _ in 0..<3 { try await fixture.send("AUTH", "alice", "nope") }
        let replies = try await fixture.replies(3)
        XCTAssertEqual(replies.filter(\.isError).count, 3)
        let deadline = Date().addingTimeInterval(10)
        while fixture.channel.isActive, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertFalse(fixture.channel.isActive)
        XCTAssertEqual(fixture.access.counters.connectionsClosed.load(ordering: .relaxed), 1)
    }

    func testWithoutAnACLAUTHAnswersAsRedisWithANopassDefaultUser() {
        let commands = RESPCommandHandler(
            service: RESPFakeKVService(), limits: .defaults, protocolLimits: .defaults, stats: RESPServerStats())
        var session = RESPSession(clientID: 1)
        XCTAssertEqual(commands.answerLocally(.auth(RESPCredentials(user: "default", password: [1])), session: &session), .ok)
        XCTAssertEqual(
            commands.answerLocally(.auth(RESPCredentials(user: "alice", password: [1])), session: &session),
            .error("WRONGPASS invalid username-password pair or user is disabled."))
        XCTAssertTrue(commands.answerLocally(.auth(RESPCredentials(user: nil, password: [1])), session: &session)?.isError ?? false)
    }
}
