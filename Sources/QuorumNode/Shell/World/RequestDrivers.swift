import NIOCore
import NIOPosix
import QuorumCore
import QuorumServices

/// One `RequestDriver` per event loop: a request runs on the loop that received it (a
/// client connection's) from start to answer, with no lock and no thread hop for local
/// replicas. Callers that are not on a loop (tasks, tests) are moved to one.
final class RequestDrivers: Sendable {
    private let group: any EventLoopGroup
    private let drivers: [ObjectIdentifier: NIOLoopBound<RequestDriver>]

    init(group: any EventLoopGroup, make: @escaping @Sendable (any EventLoop) -> RequestDriver) throws {
        self.group = group
        var drivers: [ObjectIdentifier: NIOLoopBound<RequestDriver>] = [:]
        for loop in group.makeIterator() {
            drivers[ObjectIdentifier(loop)] = try loop.submit { NIOLoopBound(make(loop), eventLoop: loop) }.wait()
        }
        self.drivers = drivers
    }

    /// Runs `body` with the current loop's driver, or on another loop's when the caller is on none.
    func run(_ body: @escaping @Sendable (RequestDriver) -> Void) {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, let driver = drivers[ObjectIdentifier(current)] {
            return body(driver.value)
        }
        let loop = group.next()
        guard let driver = drivers[ObjectIdentifier(loop)] else {
            preconditionFailure("every loop of the node's group has a request driver")
        }
        loop.execute { body(driver.value) }
    }
}
