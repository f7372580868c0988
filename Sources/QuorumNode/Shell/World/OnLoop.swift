import NIOCore

/// A node service that lives on one event loop (the node's background loop: gossip, hints,
/// anti-entropy, ring changes), reached from any thread by running work there.
final class OnLoop<Service>: Sendable {
    let loop: any EventLoop
    private let service: NIOLoopBound<Service>

    /// Makes the service on its loop; waits for it (call from outside every loop).
    init(loop: any EventLoop, make: @escaping @Sendable () -> Service) throws {
        self.loop = loop
        service = try loop.submit { NIOLoopBound(make(), eventLoop: loop) }.wait()
    }

    /// Runs `body` with the service: at once when called on its loop, else when the loop gets to it.
    func run(_ body: @escaping @Sendable (Service) -> Void) {
        if loop.inEventLoop { return body(service.value) }
        loop.execute { [service] in body(service.value) }
    }

    /// Asks the service something and waits for the answer (for `/status` and operator
    /// requests); throws only when the loop has shut down.
    func ask<Answer: Sendable>(_ body: @escaping @Sendable (Service) -> Answer) async throws -> Answer {
        if loop.inEventLoop { return body(service.value) }
        return try await loop.submit { [service] in body(service.value) }.get()
    }
}

