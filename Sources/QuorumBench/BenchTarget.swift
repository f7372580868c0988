import NIOSSL

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
        /// RESP over TLS when set (`quorumkv bench --tls`).
        public var tls: BenchTLS?
        public init(host: String, port: Int, tls: BenchTLS? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }
        public var description: String { "\(tls == nil ? "" : "rediss://")\(host):\(port)" }

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

/// The client TLS context a bench endpoint is dialled with; compared by identity so an
/// `Endpoint` stays hashable.
public struct BenchTLS: Sendable, Hashable {
    public let context: NIOSSLContext

    public init(context: NIOSSLContext) { self.context = context }

    public static func == (lhs: BenchTLS, rhs: BenchTLS) -> Bool { lhs.context === rhs.context }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(context)) }
}
