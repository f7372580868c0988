import Foundation
import NIOHTTP1
import QuorumCore
import XCTest

@testable import QuorumNode

/// Who an HTTP request acts as: Basic, Bearer, the `default` user on loopback only,
/// `/health` open, metrics routes per `MetricsAccess`, the reload route for admins.
final class HTTPAccessGateTests: XCTestCase {
    private func gate(loopback: Bool, metricsAccess: AccessControl.MetricsAccess = .user, token: String? = nil) throws -> HTTPAccessGate {
        var alice = try AccessControlTests.user("alice", password: "pw", grants: [ACLGrant(actions: [.read], pattern: "a*")])
        if let token { alice.tokenDigests = [PasswordHasher.tokenDigest(Array(token.utf8))] }
        let admin = try AccessControlTests.user("admin", password: "root", grants: [ACLGrant(actions: [.admin], pattern: "*")])
        let access = AccessControl(
            acl: ACL(users: [alice, admin]), path: "/unused", limits: AccessControlTests.testLimits, metricsAccess: metricsAccess)
        return HTTPAccessGate(access: access, loopbackListener: loopback)
    }

    private func request(_ uri: String, method: String = "GET", authorization: String? = nil) -> HTTPAPIRequest {
        var headers = HTTPHeaders()
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        return HTTPAPIRequest(method: method, uri: uri, headers: headers)
    }

    private func basic(_ user: String, _ password: String) -> String {
        KVHTTPClient.basicAuthorization(user: user, password: Array(password.utf8))
    }

    /// The user a request proceeds as; "(none)" for a route that checks no user, nil when refused.
    private func user(_ admission: HTTPAccessGate.Admission) -> String? {
        if case .proceed(let user) = admission { return user ?? "(none)" }
        return nil
    }

    private func status(_ admission: HTTPAccessGate.Admission) -> UInt? {
        if case .refuse(let response, _) = admission { return response.status.code }
        return nil
    }

    func testBasicBearerAndTheDefaultUser() throws {
        let token = PasswordHasher.newToken()
        let remote = try gate(loopback: false, token: token)
        XCTAssertEqual(status(remote.admit(request("/kv/apples/k"), source: "10.0.0.1")), 401)
        XCTAssertEqual(user(remote.admit(request("/kv/apples/k", authorization: basic("alice", "pw")), source: "10.0.0.1")), "alice")
        XCTAssertEqual(status(remote.admit(request("/kv/apples/k", authorization: basic("alice", "no")), source: "10.0.0.1")), 401)
        XCTAssertEqual(user(remote.admit(request("/kv/apples/k", authorization: "Bearer \(token)"), source: "10.0.0.1")), "alice")
        XCTAssertEqual(status(remote.admit(request("/kv/apples/k", authorization: "Digest x"), source: "10.0.0.1")), 401)
        XCTAssertEqual(status(remote.admit(request("/kv/apples/k", authorization: "Basic !!!"), source: "10.0.0.1")), 401)
        let local = try gate(loopback: true)
        XCTAssertEqual(user(local.admit(request("/kv/apples/k"), source: "10.0.0.1")), "default")
    }

    func testTheChallengeAndNoSecretInTheAnswer() throws {
        guard case .refuse(let response, let failed) = try gate(loopback: false).admit(
            request("/kv/apples/k", authorization: basic("alice", "hunter2")), source: "10.0.0.1")
        else { return XCTFail() }
        XCTAssertTrue(failed)
        XCTAssertEqual(response.headers.first(name: "WWW-Authenticate"), "Basic realm=\"quorumkv\"")
        XCTAssertFalse(String(decoding: response.body, as: UTF8.self).contains("hunter2"))
    }

    func testHealthIsOpenAndMetricsFollowTheSetting() throws {
        let userLevel = try gate(loopback: false)
        XCTAssertEqual(user(userLevel.admit(request("/health"), source: "x")), "(none)")
        XCTAssertEqual(status(userLevel.admit(request("/metrics"), source: "x")), 401)
        XCTAssertEqual(user(userLevel.admit(request("/metrics", authorization: basic("alice", "pw")), source: "x")), "alice")
        let open = try gate(loopback: false, metricsAccess: .open)
        XCTAssertEqual(user(open.admit(request("/status"), source: "x")), "(none)")
        let admin = try gate(loopback: false, metricsAccess: .admin)
        XCTAssertEqual(status(admin.admit(request("/ring", authorization: basic("alice", "pw")), source: "x")), 403)
        XCTAssertEqual(user(admin.admit(request("/ring", authorization: basic("admin", "root")), source: "x")), "admin")
    }

    /// `/types` routes are data routes: the gate wants a user, and the guarded service then
    /// asks read for GET, write for POST, delete for DELETE (a reset).
    func testTypedRoutesNeedAUserAndTheirAction() async throws {
        let remote = try gate(loopback: false)
        XCTAssertEqual(status(remote.admit(request("/types/apples/k", method: "POST"), source: "10.0.0.1")), 401)
        XCTAssertEqual(user(remote.admit(request("/types/apples/k", method: "POST", authorization: basic("alice", "pw")), source: "x")), "alice")
        let fake = HTTPFakeKVService()
        for bucket in ["apples", "pears"] { _ = try await fake.setBucketProps(bucket: bucket, update: BucketPropsUpdate(datatype: .counter)) }
        let guarded = AuthorizedKVService(base: fake, user: "alice", access: remote.access)
        func answer(_ method: String, _ uri: String, _ body: String = "") async -> UInt {
            await HTTPAPI.respond(
                to: HTTPAPIRequest(method: method, uri: uri, body: Array(body.utf8)), service: guarded, limits: .defaults
            ).status.code
        }
        // alice may read apples* only. The fake holds no typed keys and answers typed calls
        // with 400, so a 403 is the permission check and anything else got past it.
        let read = await answer("GET", "/types/apples/k")
        let update = await answer("POST", "/types/apples/k", #"{"increment":1}"#)
        let reset = await answer("DELETE", "/types/apples/k")
        let resetBody = await answer("POST", "/types/apples/k", #"{"reset":true}"#)
        let otherRead = await answer("GET", "/types/pears/k")
        XCTAssertEqual(read, 400, "a read passes the read check")
        XCTAssertEqual(update, 403, "an update needs write")
        XCTAssertEqual(reset, 403, "a reset needs delete")
        XCTAssertEqual(resetBody, 403)
        XCTAssertEqual(otherRead, 403, "no grant on pears")
    }

    func testReloadNeedsAdminOnStar() throws {
        let remote = try gate(loopback: false)
        XCTAssertEqual(status(remote.admit(request("/admin/acl/reload", method: "POST", authorization: basic("alice", "pw")), source: "x")), 403)
        XCTAssertEqual(user(remote.admit(request("/admin/acl/reload", method: "POST", authorization: basic("admin", "root")), source: "x")), "admin")
    }

    func testRepeatedFailuresFromOneAddressGet429() throws {
        let remote = try gate(loopback: false)
        let limit = remote.access.limits.failuresPerAddressMax
        for _ in 0..<limit { _ = remote.admit(request("/kv/a/k", authorization: basic("alice", "no")), source: "10.9.9.9") }
        let refused = remote.admit(request("/kv/a/k", authorization: basic("alice", "pw")), source: "10.9.9.9")
        XCTAssertEqual(status(refused), 429)
    }
}
