import Foundation
import QuorumCore
import XCTest

@testable import QuorumNode

/// Passwords, tokens, the verified-credential cache, failed-login limits and reloads.
final class AccessControlTests: XCTestCase {
    /// Fast hashes for tests: the file's minimum is the parser's business.
    static var testLimits: AccessLimits {
        var limits = AccessLimits.defaults
        limits.passwordIterationsDefault = 1000
        limits.passwordIterationsMin = 1000
        return limits
    }

    static func user(_ name: String, password: String, grants: [ACLGrant], limits: AccessLimits = testLimits) throws -> ACLUser {
        ACLUser(name: name, enabled: true, password: try PasswordHasher.hash(Array(password.utf8), limits: limits), grants: grants)
    }

    func testPasswordHashVerifiesOnlyTheRightPasswordAndIsSalted() throws {
        let limits = Self.testLimits
        let first = try PasswordHasher.hash(Array("s3cret".utf8), limits: limits)
        let second = try PasswordHasher.hash(Array("s3cret".utf8), limits: limits)
        XCTAssertNotEqual(first.salt, second.salt)
        XCTAssertNotEqual(first.derivedKey, second.derivedKey)
        XCTAssertTrue(PasswordHasher.verify(Array("s3cret".utf8), against: first, limits: limits))
        XCTAssertFalse(PasswordHasher.verify(Array("s3creT".utf8), against: first, limits: limits))
        XCTAssertFalse(PasswordHasher.verify([], against: first, limits: limits))
        XCTAssertThrowsError(try PasswordHasher.hash(Array(repeating: 1, count: limits.passwordBytesMax + 1), limits: limits))
    }

    func testDefaultHashUsesTheConfiguredIterations() {
        XCTAssertGreaterThanOrEqual(AccessLimits.defaults.passwordIterationsDefault, 600_000)
        XCTAssertGreaterThanOrEqual(AccessLimits.defaults.passwordIterationsMin, 600_000)
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(PasswordHasher.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(PasswordHasher.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(PasswordHasher.constantTimeEquals([1, 2], [1, 2, 3]))
    }

    func testCredentialCacheIsBoundedAndExpires() {
        var limits = AccessLimits.defaults
        limits.credentialCacheEntriesMax = 3
        limits.credentialCacheLifetimeSeconds = 10
        let cache = CredentialCache(limits: limits)
        for index in 0..<10 { cache.insert(user: "u\(index)", password: [1], nowMilliseconds: UInt64(index)) }
        XCTAssertEqual(cache.count, 3, "never more than the bound")
        XCTAssertTrue(cache.contains(user: "u9", password: [1], nowMilliseconds: 100))
        XCTAssertFalse(cache.contains(user: "u0", password: [1], nowMilliseconds: 100), "the oldest went first")
        XCTAssertFalse(cache.contains(user: "u9", password: [2], nowMilliseconds: 100), "another password is another entry")
        XCTAssertFalse(cache.contains(user: "u9", password: [1], nowMilliseconds: 9 + 10_000), "expired")
        cache.clear()
        XCTAssertEqual(cache.count, 0)
    }

    func testFailureLimiterBlocksAnAddressForTheRestOfItsWindowAndStaysBounded() {
        var limits = AccessLimits.defaults
        limits.failuresPerAddressMax = 3
        limits.failureWindowSeconds = 60
        limits.failureAddressesMax = 2
        let limiter = LoginFailureLimiter(limits: limits)
        for _ in 0..<3 { limiter.recordFailure(address: "10.0.0.1", nowMilliseconds: 1000) }
        XCTAssertTrue(limiter.isBlocked(address: "10.0.0.1", nowMilliseconds: 2000))
        XCTAssertFalse(limiter.isBlocked(address: "10.0.0.2", nowMilliseconds: 2000))
        XCTAssertFalse(limiter.isBlocked(address: "10.0.0.1", nowMilliseconds: 61_001), "a new window")
        for index in 0..<10 { limiter.recordFailure(address: "10.1.0.\(index)", nowMilliseconds: 70_000 + UInt64(index)) }
        XCTAssertLessThanOrEqual(limiter.count, 2)
    }

    private func access(_ users: [ACLUser], path: String? = "/nonexistent", limits: AccessLimits = testLimits) -> AccessControl {
        AccessControl(acl: ACL(users: users), path: path, limits: limits)
    }

    func testLoginWithPasswordTokenAndTheDefaultUser() throws {
        let token = PasswordHasher.newToken()
        var alice = try Self.user("alice", password: "pw", grants: [ACLGrant(actions: [.read], pattern: "a*")])
        alice.tokenDigests = [PasswordHasher.tokenDigest(Array(token.utf8))]
        let control = access([alice])
        XCTAssertEqual(control.login(user: "alice", password: Array("pw".utf8), source: "a", loopbackListener: false), .accepted(user: "alice"))
        XCTAssertEqual(control.login(user: "alice", password: Array("pw".utf8), source: "a", loopbackListener: false), .accepted(user: "alice"))
        XCTAssertEqual(control.counters.cacheHits.load(ordering: .relaxed), 1, "the second login came from the cache")
        XCTAssertEqual(control.login(user: "alice", password: Array("no".utf8), source: "a", loopbackListener: false), .refused)
        XCTAssertEqual(control.login(user: "mallory", password: Array("pw".utf8), source: "a", loopbackListener: false), .refused)
        XCTAssertEqual(control.login(token: Array(token.utf8), source: "a"), .accepted(user: "alice"))
        XCTAssertEqual(control.login(token: Array("qkv_wrong".utf8), source: "a"), .refused)
        XCTAssertEqual(control.anonymousUser(loopbackListener: true), "default")
        XCTAssertNil(control.anonymousUser(loopbackListener: false), "default never on a non-loopback listener")
        XCTAssertEqual(control.login(user: "default", password: [], source: "a", loopbackListener: false), .refused)
        let off = access([ACLUser(name: "default", enabled: false)])
        XCTAssertNil(off.anonymousUser(loopbackListener: true), "the file can turn default off")
    }

    func testRepeatedFailuresFromOneAddressAreRateLimited() throws {
        var limits = Self.testLimits
        limits.failuresPerAddressMax = 2
        let control = access([try Self.user("alice", password: "pw", grants: [], limits: limits)], limits: limits)
        for _ in 0..<2 { _ = control.login(user: "alice", password: [0], source: "10.0.0.9", loopbackListener: false) }
        XCTAssertEqual(control.login(user: "alice", password: Array("pw".utf8), source: "10.0.0.9", loopbackListener: false), .rateLimited)
        XCTAssertEqual(control.login(user: "alice", password: Array("pw".utf8), source: "10.0.0.8", loopbackListener: false), .accepted(user: "alice"))
        XCTAssertTrue(control.exposition().contains("quorumkv_auth_login_rate_limited_total 1"))
    }

    func testReloadSwapsTheACLClearsTheCacheAndAMalformedFileKeepsTheOldOne() throws {
        let limits = Self.testLimits
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("acl-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let alice = try Self.user("alice", password: "pw", grants: [ACLGrant(actions: [.read], pattern: "*")], limits: limits)
        try ACLFileFormat.render(ACL(users: [alice])).write(toFile: path, atomically: true, encoding: .utf8)
        let control = try AccessControl.load(path: path, limits: limits)
        XCTAssertEqual(control.login(user: "alice", password: Array("pw".utf8), source: "a", loopbackListener: false), .accepted(user: "alice"))
        XCTAssertEqual(control.cache.count, 1)
        try "user alice on grant:read:*\nnot a user line\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard case .kept(let reason) = control.reload() else { return XCTFail("a malformed file was taken") }
        XCTAssertTrue(reason.contains("line 2"), reason)
        XCTAssertTrue(control.decide(user: "alice", action: .read, bucket: "x").isAllowed, "the old ACL stays")
        try "user bob on grant:read:*\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(control.reload(), .reloaded(users: 1))
        XCTAssertEqual(control.cache.count, 0, "a reload forgets every verified login")
        XCTAssertFalse(control.decide(user: "alice", action: .read, bucket: "x").isAllowed, "a removed user is refused at once")
        XCTAssertEqual(control.login(user: "alice", password: Array("pw".utf8), source: "a", loopbackListener: false), .refused)
    }

    func testAGuardedServiceRefusesWhatTheGrantsDoNotAllow() async throws {
        let control = access([ACLUser(name: "reader", enabled: true, grants: [ACLGrant(actions: [.read], pattern: "a*")])])
        let service = AuthorizedKVService(base: RESPFakeKVService(), user: "reader", access: control)
        _ = try await service.get(bucket: "apples", key: [1], options: RequestOptions())
        await assertForbidden { () async throws(KVError) in _ = try await service.get(bucket: "pears", key: [1], options: RequestOptions()) }
        await assertForbidden { () async throws(KVError) in
            _ = try await service.put(bucket: "apples", key: [1], value: [2], contentType: "x", context: nil, options: RequestOptions())
        }
        await assertForbidden { () async throws(KVError) in _ = try await service.delete(bucket: "apples", key: [1], context: nil, options: RequestOptions()) }
        await assertForbidden { () async throws(KVError) in _ = try await service.listKeys(bucket: "apples", cursor: nil, limit: 10) }
        await assertForbidden { () async throws(KVError) in _ = try await service.truncate(bucket: "apples") }
        await assertForbidden { () async throws(KVError) in _ = try await service.leaveCluster() }
        _ = try await service.bucketProps(bucket: "apples")
    }

    private func assertForbidden(_ body: () async throws(KVError) -> Void, line: UInt = #line) async {
        do throws(KVError) {
            try await body()
            XCTFail("allowed", line: line)
        } catch {
            guard case .forbidden = error else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(HTTPResponder.status(for: error).code, 403, line: line)
            XCTAssertEqual(RESPErrorReply.prefix(forCode: error.code), "NOPERM", line: line)
        }
    }

    func testListenerLoopbackIsDecidedByTheBindAddress() {
        XCTAssertTrue(ListenerAddress.isLoopback(host: "127.0.0.1"))
        XCTAssertTrue(ListenerAddress.isLoopback(host: "127.0.0.5"))
        XCTAssertTrue(ListenerAddress.isLoopback(host: "::1"))
        XCTAssertFalse(ListenerAddress.isLoopback(host: "0.0.0.0"))
        XCTAssertFalse(ListenerAddress.isLoopback(host: "::"))
        XCTAssertFalse(ListenerAddress.isLoopback(host: "10.1.2.3"))
        XCTAssertFalse(ListenerAddress.isLoopback(host: "no-such-host.invalid"))
    }

    func testCredentialsNeverPrintTheirPassword() {
        let credentials = RESPCredentials(user: "alice", password: Array("hunter2".utf8))
        for text in ["\(credentials)", String(reflecting: credentials), "\(RESPCommand.auth(credentials))", String(reflecting: RESPCommand.auth(credentials))] {
            XCTAssertFalse(text.contains("hunter2"), text)
        }
    }
}
