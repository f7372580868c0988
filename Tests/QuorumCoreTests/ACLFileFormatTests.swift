import XCTest
@testable import QuorumCore

/// The ACL file parser: what it accepts, every refusal with its line, and that it is
/// total (random bytes never crash it, and every bound holds).
final class ACLFileFormatTests: XCTestCase {
    private let salt = String(repeating: "ab", count: 16)
    private let key = String(repeating: "cd", count: 32)
    private var password: String { "password:pbkdf2-sha256:600000:\(salt):\(key)" }

    private func parse(_ text: String, limits: AccessLimits = .defaults) throws -> ACL {
        try ACLFileFormat.parse(Array(text.utf8), limits: limits)
    }

    private func refusal(_ text: String, limits: AccessLimits = .defaults) -> ACLParseError? {
        do {
            _ = try ACLFileFormat.parse(Array(text.utf8), limits: limits)
            return nil
        } catch {
            return error
        }
    }

    func testParsesUsersPasswordsTokensAndGrants() throws {
        let token = String(repeating: "0f", count: 32)
        let acl = try parse("""
            # a comment
              # an indented comment

            user alice on \(password) token:\(token) grant:read,write:apples grant:list:a*
            user bob off\tgrant:admin:*\r
            user default off
            """)
        XCTAssertEqual(acl.order, ["alice", "bob", "default"])
        let alice = try XCTUnwrap(acl.users["alice"])
        XCTAssertTrue(alice.enabled)
        XCTAssertEqual(alice.password?.iterations, 600_000)
        XCTAssertEqual(alice.password?.salt, Array(repeating: 0xAB, count: 16))
        XCTAssertEqual(alice.tokenDigests, [Array(repeating: 0x0F, count: 32)])
        XCTAssertEqual(alice.grants, [ACLGrant(actions: [.read, .write], pattern: "apples"), ACLGrant(actions: [.list], pattern: "a*")])
        XCTAssertEqual(acl.users["bob"]?.enabled, false)
        XCTAssertEqual(acl.defaultUser.enabled, false)
    }

    func testRenderRoundTrips() throws {
        let acl = try parse("user alice on \(password) grant:write,read:apples\nuser default on grant:read:*\n")
        XCTAssertEqual(try parse(ACLFileFormat.render(acl)), acl)
    }

    func testEmptyFileHasOnlyTheBuiltInDefaultUserWithEverything() throws {
        let acl = try parse("")
        XCTAssertTrue(acl.order.isEmpty)
        XCTAssertTrue(acl.defaultUser.enabled)
        XCTAssertEqual(AccessDecision.decide(user: acl.defaultUser, action: .admin, bucket: nil), .allowed)
    }

    func testRefusalsNameTheLineAndTheReason() {
        let cases: [(String, Int, String)] = [
            ("usr alice on", 1, "expected 'user"),
            ("\nuser alice", 2, "needs a name and 'on' or 'off'"),
            ("user alice maybe", 1, "expected 'on' or 'off'"),
            ("user al/ice on", 1, "user name"),
            ("user alice on grant:fly:apples", 1, "unknown action 'fly'"),
            ("user alice on grant:read", 1, "<actions>:<bucket pattern>"),
            ("user alice on grant:read:ap/ples", 1, "may hold only"),
            ("user alice on secret", 1, "unknown word"),
            ("user alice on token:abcd", 1, "64 hex digits"),
            ("user alice on password:md5:1:aa:bb", 1, "pbkdf2-sha256"),
            ("user alice on password:pbkdf2-sha256:1000:\(String(repeating: "ab", count: 16)):\(String(repeating: "cd", count: 32))", 1, "iterations"),
            ("user alice on password:pbkdf2-sha256:600000:abab:\(String(repeating: "cd", count: 32))", 1, "salt"),
            ("user alice on\nuser alice off", 2, "defined twice"),
            ("user default on password:pbkdf2-sha256:600000:\(String(repeating: "ab", count: 16)):\(String(repeating: "cd", count: 32))", 1, "default user has no password"),
            ("user alice on grant:read:\u{e9}", 1, "not allowed"),
            ("user a on token:\(String(repeating: "0f", count: 32))\nuser b on token:\(String(repeating: "0f", count: 32))", 2, "has too"),
        ]
        for (text, line, reason) in cases {
            guard let error = refusal(text) else {
                XCTFail("accepted: \(text)")
                continue
            }
            XCTAssertEqual(error.line, line, text)
            XCTAssertTrue(error.reason.contains(reason), "\(text): \(error.reason)")
            XCTAssertTrue(error.description.contains("line \(line)"), error.description)
        }
    }

    func testEveryBoundIsEnforced() {
        var limits = AccessLimits.defaults
        limits.fileBytesMax = 10
        XCTAssertEqual(refusal("user alice on", limits: limits)?.line, 0)
        limits = .defaults
        limits.lineBytesMax = 20
        XCTAssertNotNil(refusal("user alice on grant:read:apples", limits: limits))
        limits = .defaults
        limits.usersMax = 1
        XCTAssertTrue(refusal("user a on\nuser b on", limits: limits)?.reason.contains("more than 1 users") ?? false)
        limits = .defaults
        limits.grantsPerUserMax = 1
        XCTAssertNotNil(refusal("user a on grant:read:x grant:read:y", limits: limits))
        limits = .defaults
        limits.tokensPerUserMax = 1
        let token = String(repeating: "0f", count: 32)
        XCTAssertNotNil(refusal("user a on token:\(token) token:\(token)", limits: limits))
        limits = .defaults
        limits.patternBytesMax = 3
        XCTAssertNotNil(refusal("user a on grant:read:abcd", limits: limits))
        XCTAssertNotNil(refusal("user \(String(repeating: "a", count: 65)) on"))
    }

    /// Total: random bytes, and random mutations of a valid file, are parsed or refused;
    /// never a crash.
    func testRandomInputIsParsedOrRefusedNeverACrash() {
        var generator = SystemRandomNumberGenerator()
        let valid = Array("user alice on \(password) grant:read,write:a*\nuser default off\n".utf8)
        let alphabet = Array("user on off grant: token: password:,*?:\n\t #abcdef0123456789".utf8)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in
                    Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
                }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[index] = alphabet.randomElement(using: &generator)!
                }
            }
            do {
                let acl = try ACLFileFormat.parse(bytes)
                XCTAssertLessThanOrEqual(acl.order.count, AccessLimits.defaults.usersMax)
            } catch {
                XCTAssertGreaterThanOrEqual(error.line, 0)
                XCTAssertFalse(error.reason.isEmpty)
            }
        }
    }
}

final class AccessDecisionTests: XCTestCase {
    private func user(_ grants: [ACLGrant], enabled: Bool = true) -> ACLUser {
        ACLUser(name: "alice", enabled: enabled, grants: grants)
    }

    func testReadOnAStarPatternAllowsApplesNotPearsNorWrites() {
        let alice = user([ACLGrant(actions: [.read], pattern: "a*")])
        XCTAssertEqual(AccessDecision.decide(user: alice, action: .read, bucket: "apples"), .allowed)
        XCTAssertEqual(
            AccessDecision.decide(user: alice, action: .read, bucket: "pears"),
            .denied(AccessDenial(user: "alice", action: .read, bucket: "pears", reason: .bucketNotGranted)))
        XCTAssertEqual(
            AccessDecision.decide(user: alice, action: .write, bucket: "apples"),
            .denied(AccessDenial(user: "alice", action: .write, bucket: "apples", reason: .actionNotGranted)))
    }

    func testNodeWideActionsNeedAGrantOnStar() {
        XCTAssertFalse(AccessDecision.decide(user: user([ACLGrant(actions: [.admin], pattern: "a*")]), action: .admin, bucket: nil).isAllowed)
        XCTAssertTrue(AccessDecision.decide(user: user([ACLGrant(actions: [.admin], pattern: "*")]), action: .admin, bucket: nil).isAllowed)
        XCTAssertTrue(AccessDecision.decide(user: user([ACLGrant(actions: [.admin], pattern: "a*")]), action: .admin, bucket: "apples").isAllowed)
    }

    func testADisabledUserIsRefusedEverything() {
        let off = user([ACLGrant(actions: Set(AccessAction.allCases), pattern: "*")], enabled: false)
        for action in AccessAction.allCases {
            XCTAssertEqual(
                AccessDecision.decide(user: off, action: action, bucket: "x"),
                .denied(AccessDenial(user: "alice", action: action, bucket: "x", reason: .userDisabled)))
        }
    }

    func testDenialMessagesNameUserActionAndBucketButNotGrants() {
        let alice = user([ACLGrant(actions: [.read], pattern: "secret-*")])
        guard case .denied(let denial) = AccessDecision.decide(user: alice, action: .read, bucket: "pears") else { return XCTFail() }
        XCTAssertEqual(denial.message, "User alice has no permissions to read bucket 'pears'")
        XCTAssertFalse(denial.message.contains("secret"))
    }

    /// Property: a decision is allowed exactly when some grant holds the action and its
    /// pattern matches (or, node-wide, is `*`), for random users, actions and buckets.
    func testDecisionAgreesWithTheGrantsForRandomUsers() {
        var generator = SystemRandomNumberGenerator()
        let patterns = ["*", "a*", "?pples", "apples", "b*s", "*s", "pears", "a?"]
        let buckets = ["apples", "pears", "a", "ab", "bananas", "b", "default"]
        for _ in 0..<2000 {
            let grants = (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                ACLGrant(
                    actions: Set(AccessAction.allCases.filter { _ in Bool.random(using: &generator) }),
                    pattern: patterns.randomElement(using: &generator)!)
            }
            let candidate = user(grants, enabled: Int.random(in: 0..<10, using: &generator) > 0)
            let action = AccessAction.allCases.randomElement(using: &generator)!
            let bucket: String? = Bool.random(using: &generator) ? buckets.randomElement(using: &generator)! : nil
            let expected = candidate.enabled && grants.contains { grant in
                grant.actions.contains(action) && (bucket.map { BucketPattern.matches(grant.pattern, $0) } ?? (grant.pattern == "*"))
            }
            XCTAssertEqual(AccessDecision.decide(user: candidate, action: action, bucket: bucket).isAllowed, expected)
        }
    }

    func testGlobMatching() {
        XCTAssertTrue(BucketPattern.matches("*", ""))
        XCTAssertTrue(BucketPattern.matches("a*", "apples"))
        XCTAssertTrue(BucketPattern.matches("a*s", "apples"))
        XCTAssertTrue(BucketPattern.matches("?pples", "apples"))
        XCTAssertTrue(BucketPattern.matches("*p*e*", "apples"))
        XCTAssertFalse(BucketPattern.matches("a*", "pears"))
        XCTAssertFalse(BucketPattern.matches("apple", "apples"))
        XCTAssertFalse(BucketPattern.matches("?", ""))
        // Many stars against a long name: linear backtracking, finishes at once.
        XCTAssertFalse(BucketPattern.matches(String(repeating: "*a", count: 60) + "b", String(repeating: "a", count: 128)))
    }
}
