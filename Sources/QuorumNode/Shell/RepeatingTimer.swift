import Dispatch
import Synchronization

/// A Dispatch timer for background work, on its own serial queue.
///
/// The handler is `@Sendable` and set here, in nonisolated code: a timer handler written
/// in main-actor code crashes when it fires (see SWIFT-NOTES). The source is made only in
/// `start`: Dispatch traps when a source that was never resumed is released, which a
/// node that failed to start (a port in use) would otherwise do on its way out.
final class RepeatingTimer: Sendable {
    private let label: String
    /// `DispatchSourceTimer` is thread-safe but not marked `Sendable`; the lock only
    /// guards creating and cancelling it.
    private nonisolated(unsafe) var source: (any DispatchSourceTimer)?
    private let lock = Mutex(())

    init(label: String) {
        self.label = label
    }

    /// Starts the timer; call once.
    func start(everyMilliseconds interval: Int, _ handler: @escaping @Sendable () -> Void) {
        lock.withLock { _ in
            precondition(source == nil, "timer \(label) started twice")
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: label))
            let period = DispatchTimeInterval.milliseconds(interval)
            timer.schedule(deadline: .now() + period, repeating: period, leeway: .milliseconds(max(1, interval / 20)))
            timer.setEventHandler(handler: handler)
            timer.resume()
            source = timer
        }
    }

    /// Stops the timer; nothing to do when it never started.
    func stop() {
        lock.withLock { _ in source?.cancel() }
    }
}
