/// Why a benchmark run stopped before it could report.
public enum BenchError: Error, CustomStringConvertible, Sendable {
    /// A bad option value; the command line exits 2.
    case usage(String)
    /// A port the harness needs is taken; it refuses to share it with something else.
    case portBusy(Int)
    /// A node or redis-server did not start or answer.
    case startup(String)
    /// The run finished but its own output failed the checks of `--quick`.
    case selfCheckFailed([String])

    public var description: String {
        switch self {
        case .usage(let message): return message
        case .portBusy(let port): return "port \(port) on 127.0.0.1 is in use; stop whatever listens there or pick another --base-port"
        case .startup(let message): return message
        case .selfCheckFailed(let problems): return "self-check failed:\n  " + problems.joined(separator: "\n  ")
        }
    }
}
