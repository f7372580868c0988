import Foundation
import NIOHTTP1
import QuorumCore

/// Who an HTTP request acts as, before it reaches `HTTPAPI`: `Authorization: Basic` (a
/// user's password) or `Bearer` (an API token), else `default` on a loopback listener.
///
/// Answers 401 with `WWW-Authenticate: Basic realm="quorumkv"` when credentials are
/// missing or wrong, 429 when the source address failed too often, 403 for a node-wide
/// route (`/admin/acl/reload`, and `/metrics`, `/status`, `/ring`, `/` when
/// `MetricsAccess` is `admin`) the user may not use. `/health` is always open. Everything
/// else is decided by the guarded service the request then runs against.
struct HTTPAccessGate: Sendable {
    let access: AccessControl
    /// Whether the listener is bound to a loopback address (see `ListenerAddress`).
    let loopbackListener: Bool

    enum Admission: Sendable {
        /// Run the request as `user`; nil: a route that checks no user (`/health`, or an
        /// open metrics route, or one the router refuses anyway).
        case proceed(user: String?)
        /// Answer this; `failedLogin` counts toward closing the connection.
        case refuse(HTTPResponse, failedLogin: Bool)
    }

    static let realm = "quorumkv"

    func admit(_ request: HTTPAPIRequest, source: String) -> Admission {
        guard let endpoint = try? HTTPRoute.endpoint(method: request.method, uri: request.uri) else { return .proceed(user: nil) }
        let metricsRoute = [.metrics, .status, .ring, .statusPage].contains(endpoint)
        if endpoint == .health || (metricsRoute && access.metricsAccess == .open) { return .proceed(user: nil) }

        let user: String
        switch authenticate(request.headers, source: source) {
        case .success(let name): user = name
        case .failure(let refusal): return Admission(refusal)
        }
        if endpoint == .reloadACL || (metricsRoute && access.metricsAccess == .admin),
            case .denied(let denial) = access.decide(user: user, action: .admin, bucket: nil)
        {
            return .refuse(HTTPResponder.error(.forbidden(denial)), failedLogin: false)
        }
        return .proceed(user: user)
    }

    private func authenticate(_ headers: HTTPHeaders, source: String) -> Result<String, RefusalBox> {
        guard let header = headers.first(name: "Authorization") else {
            if let anonymous = access.anonymousUser(loopbackListener: loopbackListener) { return .success(anonymous) }
            return .failure(RefusalBox(Self.unauthorized(
                "authentication required: send Authorization: Basic (user and password) or Bearer (an API token)"), false))
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            return .failure(RefusalBox(Self.unauthorized("the Authorization header must be 'Basic <credentials>' or 'Bearer <token>'"), true))
        }
        let scheme = parts[0].lowercased()
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        let outcome: AccessControl.LoginOutcome
        switch scheme {
        case "basic":
            guard let decoded = Data(base64Encoded: value).map(Array.init),
                let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
            else {
                return .failure(RefusalBox(Self.unauthorized("Basic credentials must be base64 of user:password"), true))
            }
            let name = String(decoding: decoded[..<colon], as: UTF8.self)
            let password = Array(decoded[(colon + 1)...])
            outcome = access.login(user: name, password: password, source: source, loopbackListener: loopbackListener)
        case "bearer":
            outcome = access.login(token: Array(value.utf8), source: source)
        default:
            return .failure(RefusalBox(Self.unauthorized("unsupported Authorization scheme; use Basic or Bearer"), true))
        }
        switch outcome {
        case .accepted(let name):
            return .success(name)
        case .refused:
            return .failure(RefusalBox(Self.unauthorized("invalid username-password pair or token, or the user is disabled"), true))
        case .rateLimited:
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: String(access.limits.failureWindowSeconds))
            let response = HTTPResponder.json(
                .tooManyRequests,
                HTTPErrorDocument(error: "too_many_failed_logins", message: "too many failed logins from this address; wait and try again later"),
                headers: headers)
            return .failure(RefusalBox(response, true))
        }
    }

    /// 401 with the challenge curl and browsers answer with Basic credentials.
    static func unauthorized(_ message: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: "Basic realm=\"\(realm)\"")
        return HTTPResponder.json(.unauthorized, HTTPErrorDocument(error: "unauthorized", message: message), headers: headers)
    }
}

/// A refusal as an `Error`, so `authenticate` can return a `Result`.
struct RefusalBox: Error {
    let response: HTTPResponse
    let failedLogin: Bool

    init(_ response: HTTPResponse, _ failedLogin: Bool) {
        self.response = response
        self.failedLogin = failedLogin
    }
}

extension HTTPAccessGate.Admission {
    init(_ box: RefusalBox) { self = .refuse(box.response, failedLogin: box.failedLogin) }
}

/// `POST /admin/acl/reload`'s answer when the new file took effect.
struct ACLReloadDocument: Codable, Sendable {
    var reloaded: Bool
    var users: Int
}
