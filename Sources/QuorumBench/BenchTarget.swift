/// What a load generator talks to: QuorumKV nodes (any of which coordinates any request) or
/// a redis-server, the reference. Both through the same RESP client code.
public struct BenchTarget: Sendable {
    public enum Kind: String, Codable, Sendable {
        case quorumkv
        case redis
    }

    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        public var description: String { "\(host):\(port)" }

        /// Parses "host:port" or a bare port (then on 127.0.0.1).
        public static func parse(_ text: String) throws -> Endpoint {
            var body = Substring(text)
            if body.hasPrefix("redis://") { body = body.dropFirst("redis://".count) }
            if let port = Int(body) { return Endpoint(host: "127.0.0.1", port: port) }
            guard let colon = body.lastIndex(of: ":"), let port = Int(body[body.index(after: colon)...]),
                (1...65535).contains(port)
            else { throw BenchError.usage("an endpoint is host:port, such as 127.0.0.1:6381; got '\(text)'") }
            return Endpoint(host: String(body[..<colon]), port: port)
        }
    }

    public var kind: Kind
    public var endpoints: [Endpoint]
    /// Bucket to `SELECT` on every connection (QuorumKV), nil for the default bucket.
    public var bucket: String?

    public init(kind: Kind, endpoints: [Endpoint], bucket: String? = nil) {
        self.kind = kind
        self.endpoints = endpoints
        self.bucket = bucket
    }
}
