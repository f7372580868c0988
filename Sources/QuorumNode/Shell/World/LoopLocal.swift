import NIOCore
import NIOPosix

/// One instance of a node service per event loop, each used only on its loop: a request
/// runs on the loop that received it (a client's or a peer's connection) from start to
/// answer, with no lock. Callers that are on no loop (tasks, timers, tests) are moved to one.
final class LoopLocal<Service>: Sendable {
    private let group: any EventLoopGroup
    private let services: [ObjectIdentifier: NIOLoopBound<Service>]

    init(group: any EventLoopGroup, make: @escaping @Sendable (any EventLoop) -> Service) throws {
        self.group = group
        var services: [ObjectIdentifier: NIOLoopBound<Service>] = [:]
        for loop in group.makeIterator() {
            services[ObjectIdentifier(loop)] = try loop.submit { NIOLoopBound(make(loop), eventLoop: loop) }.wait()
        }
        self.services = services
    }

    /// The instance of `loop`, for code running on it (a service made on it keeping the
    /// instance beside it); nil for a loop of another group.
    func instance(on loop: any EventLoop) -> Service? {
        services[ObjectIdentifier(loop)]?.value
    }

    /// Runs `body` with the current loop's instance, or later on another loop's when the
    /// caller is on none.
    func run(_ body: @escaping @Sendable (Service) -> Void) {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, let service = services[ObjectIdentifier(current)] {
            return body(service.value)
        }
        let loop = group.next()
        guard let service = services[ObjectIdentifier(loop)] else {
            preconditionFailure("every loop of the node's group has its instance")
        }
        loop.execute { body(service.value) }
    }
}

/// Brings an answer produced on any thread back to the loop a service runs on.
enum LoopHop {
    /// Wraps `body` (made on `loop`) so it may be called from any thread: it runs at once
    /// when called on `loop`, else as soon as the loop gets to it.
    static func back<Value: Sendable>(to loop: any EventLoop, _ body: @escaping (Value) -> Void) -> @Sendable (Value) -> Void {
        let bound = NIOLoopBound(body, eventLoop: loop)
        return { value in
            if loop.inEventLoop {
                bound.value(value)
            } else {
                loop.execute { bound.value(value) }
            }
        }
    }
}
