import NIOCore

/// A node service that lives on one event loop (the node's background loop: gossip, hints,
/// anti-entropy, ring changes), reached from any thread by running work there.
///
/// The handle exists before the service: services that call each other are built in some
/// order, and each can be given the others' handles first (`install` makes the service).
final class OnLoop<Service>: Sendable {
    let loop: any EventLoop
    private let box: NIOLoopBoundBox<Service?>

    init(loop: any EventLoop) {
        self.loop = loop
        box = NIOLoopBoundBox.makeEmptyBox(valueType: Service.self, eventLoop: loop)
    }

    /// Makes the service on its loop and waits for it (call from outside every loop, once).
    func install(_ make: @escaping @Sendable () -> Service) throws {
        try loop.submit { [box] in box.value = make() }.wait()
    }

    /// Runs `body` with the service: at once when called on its loop, else when the loop
    /// gets to it. Work sent before `install` is a programming error.
    func run(_ body: @escaping @Sendable (Service) -> Void) {
        if loop.inEventLoop { return body(service) }
        loop.execute { [self] in body(service) }
    }

    /// Asks the service something and waits for the answer (for `/status` and operator
    /// requests); throws only when the loop has shut down.
    func ask<Answer: Sendable>(_ body: @escaping @Sendable (Service) -> Answer) async throws -> Answer {
        if loop.inEventLoop { return body(service) }
        return try await loop.submit { [self] in body(service) }.get()
    }

    /// Asks the service something it answers through a completion, and waits for it.
    func ask<Answer: Sendable>(
        _ body: @escaping @Sendable (Service, @escaping @Sendable (Answer) -> Void) -> Void
    ) async throws -> Answer {
        let promise = loop.makePromise(of: Answer.self)
        run { service in body(service) { promise.succeed($0) } }
        return try await promise.futureResult.get()
    }

    /// Reads the service from code already running on its loop (another service there).
    func onItsLoop<Answer>(_ body: (Service) -> Answer) -> Answer {
        loop.preconditionInEventLoop()
        return body(service)
    }

    private var service: Service {
        guard let service = box.value else { preconditionFailure("a node service was used before it was installed") }
        return service
    }
}
