import NIOCore

/// Whether a listener's own bind address is loopback: what lets the `default` user in
/// without a password. Decided from the address the listener binds, never from a client's
/// source address (a port-forward or a sidecar proxy makes every client look local).
public enum ListenerAddress {
    /// True for 127.0.0.0/8 and ::1 (and names resolving to them, like `localhost`);
    /// false for wildcard addresses (0.0.0.0, ::), other addresses, and names that don't resolve.
    public static func isLoopback(host: String) -> Bool {
        guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: 0) else { return false }
        switch address {
        case .v4(let v4):
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6:
            return address.ipAddress == "::1"
        default:
            return false
        }
    }
}
