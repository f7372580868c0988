import Foundation

/// Refuses ports already in use on loopback: the harness never shares a port with another
/// server, whose figures would then be mixed into the run.
public enum PortCheck {
    /// Whether something listens on 127.0.0.1:port (binding it fails).
    public static func isBusy(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        // Like the servers themselves: connections of an earlier run in TIME_WAIT don't count.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return bound != 0
    }

    public static func requireFree(_ ports: [Int]) throws {
        for port in ports where isBusy(port) { throw BenchError.portBusy(port) }
    }
}
