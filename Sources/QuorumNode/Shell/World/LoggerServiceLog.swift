import Logging
import QuorumServices

/// The node's services log through swift-log.
final class LoggerServiceLog: ServiceLog, Sendable {
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {
        let metadata = metadata.mapValues { Logger.MetadataValue.string($0) }
        switch level {
        case .info: logger.info("\(message)", metadata: metadata)
        case .warning: logger.warning("\(message)", metadata: metadata)
        case .error: logger.error("\(message)", metadata: metadata)
        }
    }
}
