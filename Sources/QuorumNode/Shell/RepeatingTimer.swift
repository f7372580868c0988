import Dispatch

/// A Dispatch timer for background work, on its own serial queue.
///
/// The handler is `@Sendable` and set here, in nonisolated code: a timer handler written
/// in main-actor code crashes when it fires (see SWIFT-NOTES). `@unchecked Sendable`
/// because Dispatch sources are thread-safe but not marked `Sendable`.
final class RepeatingTimer: @unchecked Sendable {
    private let source: any DispatchSourceTimer

    init(label: String) {
        source = DispatchSource.makeTimerSource(queue: DispatchQueue(label: label))
    }

    /// Starts the timer; call once.
    func start(everyMilliseconds interval: Int, _ handler: @escaping @Sendable () -> Void) {
        let period = DispatchTimeInterval.milliseconds(interval)
        source.schedule(deadline: .now() + period, repeating: period, leeway: .milliseconds(max(1, interval / 20)))
        source.setEventHandler(handler: handler)
        source.resume()
    }

    func stop() {
        source.cancel()
    }
}
