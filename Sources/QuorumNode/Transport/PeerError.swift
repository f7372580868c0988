/// Why a request to a peer failed. Each case is an operating condition the caller counts
/// as a failed replica reply; none of them says whether the peer applied the request.
public enum PeerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Connecting failed, or failed recently enough that the client is backing off.
    case unreachable(String)
    /// No response within the request's own timeout; the peer may still act on it.
    case timeout
    /// The connection closed (or the client was closed) while the request was outstanding.
    case connectionClosed
    /// Too many requests outstanding on this connection, counted by this side.
    case overloaded
    /// The peer answered with an error frame (for example "overloaded" by its own count).
    case remote(String)
    /// The peer refused our hello, typically a different membership or ring.
    case helloRejected(String)
    /// The payload can't fit in one frame; sending it would make the peer close the connection.
    case payloadTooLarge(bytes: Int, limit: Int)

    public var message: String {
        switch self {
        case .unreachable(let why): return "peer unreachable: \(why)"
        case .timeout: return "peer did not answer in time"
        case .connectionClosed: return "connection to peer closed before the answer arrived"
        case .overloaded: return "too many requests outstanding to this peer"
        case .remote(let why): return "peer refused the request: \(why)"
        case .helloRejected(let why): return "peer rejected our hello: \(why)"
        case .payloadTooLarge(let bytes, let limit):
            return "payload of \(bytes) bytes exceeds the frame payload limit of \(limit) bytes"
        }
    }

    public var description: String { message }
}
