/// One client request in flight on its executor: the pure coordinator, whom to tell the
/// outcome (once), and what its deadline does while it waits in the driver's sweep.
final class RequestRun<Coordinator, Outcome>: DeadlineEntry {
    var coordinator: Coordinator
    private var completion: ((Outcome) -> Void)?
    /// The outcome once the deadline passed; nil to keep waiting for answers.
    private let onDeadline: (inout Coordinator) -> Outcome?
    private unowned let sweep: DeadlineSweep

    init(
        coordinator: Coordinator, sweep: DeadlineSweep, onDeadline: @escaping (inout Coordinator) -> Outcome?,
        completion: @escaping (Outcome) -> Void
    ) {
        self.coordinator = coordinator
        self.sweep = sweep
        self.onDeadline = onDeadline
        self.completion = completion
    }

    var isFinished: Bool { completion == nil }

    /// Bounds the request by `timeoutMilliseconds` from now, if it still waits.
    func waitAtMost(milliseconds timeoutMilliseconds: Int) {
        guard !isFinished else { return }
        sweep.add(self, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Tells the client; later calls do nothing.
    func finish(_ outcome: Outcome) {
        guard let completion else { return }
        self.completion = nil
        if isWaiting { sweep.remove(self) }
        completion(outcome)
    }

    override func deadlinePassed() {
        if let outcome = onDeadline(&coordinator) { finish(outcome) }
    }
}
