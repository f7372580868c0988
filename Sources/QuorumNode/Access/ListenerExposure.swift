#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Secure by default: whether `quorumkv serve` may listen where it was told to.
///
/// A listener bound to anything but loopback can be reached by other machines, so it
/// needs users (`--acl`) and TLS (`--tls-cert`/`--tls-key`; for the peer port also
/// `--tls-ca` with peer TLS not `off`), unless the operator says `--insecure`. The
/// decision is a pure function of the bind addresses and the settings (no DNS, no file,
/// no socket), so every case is a unit test; `serve` carries it out (exit 2, or one
/// warning with `--insecure`).
public enum ListenerExposure {
    /// One listener the node would open.
    public struct Listener: Sendable, Equatable {
        /// The flag that sets it (`--http`, `--resp`, `--peer`), for messages.
        public var flag: String
        public var host: String
        public var port: Int
        /// The node-to-node port: exposed, it also needs mutual TLS.
        public var isPeer: Bool

        public init(flag: String, host: String, port: Int, isPeer: Bool = false) {
            self.flag = flag
            self.host = host
            self.port = port
            self.isPeer = isPeer
        }
    }

    /// What protects the node, as its settings say.
    public struct Protection: Sendable, Equatable {
        /// `--acl` given: requests act as users.
        public var acl: Bool
        /// `--tls-cert` and `--tls-key` given: the client ports take TLS only.
        public var tls: Bool
        /// `--tls-ca` given: peers can be authenticated.
        public var tlsCA: Bool
        /// `--peer-tls off`: the peer port is plaintext even with a CA.
        public var peerTLSOff: Bool
        /// `--insecure`: the operator accepts exposed listeners without the above.
        public var insecure: Bool

        public init(acl: Bool, tls: Bool, tlsCA: Bool, peerTLSOff: Bool, insecure: Bool) {
            self.acl = acl
            self.tls = tls
            self.tlsCA = tlsCA
            self.peerTLSOff = peerTLSOff
            self.insecure = insecure
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Every listener is loopback, or every exposed one is protected.
        case allowed
        /// Exposed and unprotected, but `--insecure`: start, and log `warning` once.
        case allowedInsecurely(warning: String)
        /// Exposed and unprotected: do not start; `message` is one line saying what is
        /// missing and what to pass.
        case refused(message: String)
    }

    /// True for 127.0.0.0/8, ::1 (also IPv4-mapped ::ffff:127.x.x.x) and `localhost`.
    /// Other names count as exposed without being resolved: a name can resolve differently
    /// tomorrow, and a wrong "loopback" here would serve users' data in the clear.
    /// Wildcards (0.0.0.0, ::) are exposed: they listen on every interface.
    public static func isLoopback(host: String) -> Bool {
        var text = host.lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }  // ::1
            let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
            return mapped && bytes[12] == 127
        }
        return false
    }

    /// The decision for these listeners under this protection.
    public static func decide(listeners: [Listener], protection: Protection) -> Decision {
        let exposed = listeners.filter { !isLoopback(host: $0.host) }
        guard !exposed.isEmpty else { return .allowed }
        let peerExposed = exposed.contains { $0.isPeer }
        var lacks: [String] = []
        var gives: [String] = []
        if !protection.acl {
            lacks.append("no --acl")
            gives.append("--acl")
        }
        if !protection.tls {
            lacks.append("no TLS")
            gives.append(peerExposed && !protection.tlsCA ? "--tls-cert/--tls-key/--tls-ca" : "--tls-cert/--tls-key")
        } else if peerExposed && !protection.tlsCA {
            lacks.append("no --tls-ca for the peer port")
            gives.append("--tls-ca")
        }
        // Without a CA the peer port is off by default; the missing --tls-ca says it all.
        if peerExposed && protection.tlsCA && protection.peerTLSOff {
            lacks.append("--peer-tls off")
            gives.append("--peer-tls require")
        }
        guard !lacks.isEmpty else { return .allowed }
        let names = exposed.map { listener in
            let host = listener.host.contains(":") && !listener.host.hasPrefix("[") ? "[\(listener.host)]" : listener.host
            return "\(listener.flag) \(host):\(listener.port)"
        }
        let subject = names.count == 1 ? "\(names[0]) is not loopback" : "\(names.joined(separator: ", ")) are not loopback"
        let lacking = lacks.joined(separator: " and ")
        if protection.insecure {
            var risks: [String] = []
            if !protection.acl { risks.append("anyone who reaches it can read and change every key") }
            if !protection.tls || protection.peerTLSOff || (peerExposed && !protection.tlsCA) {
                risks.append("its traffic crosses the network in plain text or unauthenticated")
            }
            return .allowedInsecurely(
                warning: "--insecure: \(subject) and the node has \(lacking); serving anyway: \(risks.joined(separator: ", and "))")
        }
        let anyway: String
        switch (protection.acl, protection.tls) {
        case (false, false): anyway = "in plain text without users"
        case (false, true): anyway = "without users"
        case (true, false): anyway = "in plain text"
        case (true, true): anyway = "with an unauthenticated peer port"
        }
        return .refused(
            message: "\(subject) and the node has \(lacking); give \(gives.joined(separator: " and ")) (docs/security.md), "
                + "or --insecure to serve \(anyway)")
    }
}
