import NIOHTTP1
import QuorumCore

/// A response before it meets a channel: status, headers (with `Content-Length`) and body.
public struct HTTPResponse: Sendable, Equatable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        // RFC 9110: no Content-Length on 1xx and 204 responses.
        if status != .noContent && status.code >= 200 {
            self.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        }
    }

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? { headers.first(name: name) }
}

/// Renders service results and errors as HTTP responses. Pure: no NIO channel, no IO.
public enum HTTPResponder {
    public static let contextHeader = "X-Context"
    public static let defaultContentType = "application/octet-stream"

    /// GET: 200 with the value for one sibling, 300 with JSON for several, 404 for none.
    /// With `nowMilliseconds`, a key that expires answers its remaining time in `X-TTL`.
    public static func read(_ result: ReadResult, nowMilliseconds: UInt64? = nil) -> HTTPResponse {
        var headers = HTTPHeaders()
        if !result.context.isEmpty { headers.add(name: contextHeader, value: result.context) }
        if let nowMilliseconds, let remaining = HTTPExpiryHeaders.remainingSeconds(result, nowMilliseconds: nowMilliseconds) {
            headers.add(name: HTTPExpiryHeaders.ttlHeader, value: String(remaining))
        }
        switch result.siblings.count {
        case 0:
            return error(.notFound, headers: headers)
        case 1:
            let sibling = result.siblings[0]
            headers.add(name: "Content-Type", value: sibling.contentType.isEmpty ? defaultContentType : sibling.contentType)
            if sibling.timestamp.physicalMilliseconds > 0 {
                headers.add(name: "Last-Modified", value: HTTPDate.format(milliseconds: sibling.timestamp.physicalMilliseconds))
            }
            return HTTPResponse(status: .ok, headers: headers, body: sibling.value)
        default:
            headers.add(name: "Content-Type", value: "application/json")
            let document = HTTPSiblingsDocument(siblings: result.siblings.map(HTTPSiblingsDocument.Entry.init), context: result.context)
            return HTTPResponse(status: .multipleChoices, headers: headers, body: HTTPJSON.encode(document))
        }
    }

    /// PUT and DELETE: 204, with the new version's context when there is one.
    public static func write(_ result: WriteResult) -> HTTPResponse {
        var headers = HTTPHeaders()
        if !result.context.isEmpty { headers.add(name: contextHeader, value: result.context) }
        return HTTPResponse(status: .noContent, headers: headers)
    }

    /// PUT with `returnbody=true`: like a GET of the key after the write (200 with the one
    /// value, 300 with the siblings, `X-TTL` when it expires), with the new context. 204
    /// when nothing live remains (a newer delete won under last-writer-wins).
    public static func writeReturningBody(_ result: WriteResult, nowMilliseconds: UInt64? = nil) -> HTTPResponse {
        guard !result.siblings.isEmpty else { return write(result) }
        return read(ReadResult(siblings: result.siblings, context: result.context, replies: result.acks), nowMilliseconds: nowMilliseconds)
    }

    /// `GET /types/{bucket}/{key}`: 200 with the value and its context; 404 when the key
    /// is absent, or (reading every member) when nothing is left in it (after a reset or
    /// removes). With `selected` members a present key answers 200 even when none of
    /// them is there (an empty set or map: the elements asked for are absent).
    public static func typedRead(_ result: TypedReadResult, selected: Bool) throws(KVError) -> HTTPResponse {
        guard let state = result.state, selected || !state.members.isEmpty else { return error(.notFound) }
        if selected, state.datatype == .counter {
            throw .badParameter(name: HTTPRoute.memberParameter, message: "a counter has no elements or fields; read it without member=")
        }
        let document = HTTPTypedReadDocument(type: state.datatype, value: HTTPTypedJSON(try state.jsonValue()), context: state.context.token)
        return json(.ok, document)
    }

    /// `GET /buckets/{bucket}/keys`.
    public static func keyPage(_ page: KeyPage) -> HTTPResponse {
        json(.ok, HTTPKeyPageDocument(page))
    }

    /// `GET /status`.
    public static func status(_ status: NodeStatus) -> HTTPResponse {
        json(.ok, status)
    }

    /// `GET /ring`.
    public static func ring(_ report: RingReport) -> HTTPResponse {
        json(.ok, report)
    }

    /// The Prometheus text exposition format's media type.
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// `GET /metrics`.
    public static func metrics(_ exposition: [UInt8]) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: metricsContentType)
        return HTTPResponse(status: .ok, headers: headers, body: exposition)
    }

    /// `GET /`.
    public static func statusPage(_ status: NodeStatus) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        return HTTPResponse(status: .ok, headers: headers, body: Array(HTTPStatusPage.render(status).utf8))
    }

    public static func bucketProps(bucket: String, props: BucketProps) -> HTTPResponse {
        json(.ok, HTTPBucketPropsDocument(bucket: bucket, props: props))
    }

    public static func health(_ report: HealthReport) -> HTTPResponse {
        json(.ok, report)
    }

    /// The status each error code maps to.
    public static func status(for error: KVError) -> HTTPResponseStatus {
        switch error {
        case .badParameter, .wrongType: return .badRequest
        case .tooLarge: return .payloadTooLarge
        case .notFound: return .notFound
        case .preconditionFailed, .siblingLimit: return .preconditionFailed
        case .quorumNotMet, .overloaded, .unavailable: return .serviceUnavailable
        case .internalError: return .internalServerError
        case .forbidden: return .forbidden
        }
    }

    public static func error(_ error: KVError, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        if case .overloaded = error { headers.add(name: "Retry-After", value: "1") }
        return json(status(for: error), HTTPErrorDocument(error), headers: headers)
    }

    public static func routeError(_ error: HTTPRouteError) -> HTTPResponse {
        switch error {
        case .unknownRoute(let path):
            return json(
                .notFound,
                HTTPErrorDocument(
                    error: "not_found",
                    message: "no such route: \(path); routes: "
                        + Set(HTTPEndpoint.allCases.map(\.pathTemplate)).sorted().joined(separator: ", ")))
        case .methodNotAllowed(let allowed):
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: allowed.joined(separator: ", "))
            return json(
                .methodNotAllowed,
                HTTPErrorDocument(
                    error: "method_not_allowed",
                    message: "this route allows \(allowed.joined(separator: ", "))"),
                headers: headers)
        case .invalid(let kvError):
            return HTTPResponder.error(kvError)
        }
    }

    /// A request that could not be parsed as HTTP at all (the connection closes after it).
    public static func malformedRequest(_ detail: String) -> HTTPResponse {
        json(.badRequest, HTTPErrorDocument(error: "bad_request", message: "malformed HTTP request: \(detail)"))
    }

    /// A request head (request line plus headers) over the limit.
    public static func headTooLarge(limit: Int) -> HTTPResponse {
        json(
            .requestHeaderFieldsTooLarge,
            HTTPErrorDocument(
                error: "too_large", message: "request line and headers exceed the limit of \(limit) bytes", limit: limit))
    }

    public static func json<T: Encodable>(_ status: HTTPResponseStatus, _ value: T, headers: HTTPHeaders = HTTPHeaders())
        -> HTTPResponse
    {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: HTTPJSON.encode(value))
    }
}

/// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
public enum HTTPDate {
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(milliseconds: UInt64) -> String {
        let seconds = Int64(milliseconds / 1000)
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(weekdays[Int(days % 7)]), \(two(day)) \(months[Int(month - 1)]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }
}
