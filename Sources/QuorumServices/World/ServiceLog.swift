/// Where a node's services report what an operator should know: swift-log on the node,
/// nowhere (or a run's report) in the simulator. Metadata values are plain strings.
public protocol ServiceLog: AnyObject {
    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String])
}

public enum ServiceLogLevel: Sendable, Equatable {
    case info, warning, error
}
