/// Runs a service's periodic work (a gossip round, a hint delivery pass, an anti-entropy
/// tick) on its executor, every `interval` after a first delay, until stopped.
public final class Ticker {
    private let executor: any ServiceExecutor
    private let intervalMilliseconds: Int
    private let work: () -> Void
    private var next: (any ScheduledWork)?
    private var stopped = false

    /// Starts ticking; the first tick comes after `firstAfterMilliseconds` (a node gives
    /// each timer a phase so nodes don't tick in lockstep).
    public init(
        executor: any ServiceExecutor, everyMilliseconds interval: Int, firstAfterMilliseconds first: Int,
        _ work: @escaping () -> Void
    ) {
        precondition(interval > 0, "a ticker needs a positive interval")
        self.executor = executor
        self.intervalMilliseconds = interval
        self.work = work
        arm(after: first)
    }

    /// No tick runs after this returns (call it on the executor).
    public func stop() {
        stopped = true
        next?.cancel()
        next = nil
    }

    private func arm(after milliseconds: Int) {
        next = executor.schedule(afterMilliseconds: milliseconds) { [weak self] in
            guard let self, !self.stopped else { return }
            self.work()
            if !self.stopped { self.arm(after: self.intervalMilliseconds) }
        }
    }
}
