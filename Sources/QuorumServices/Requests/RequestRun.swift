/// One client request in flight on its executor: the pure coordinator, whom to tell the
/// outcome (once), and the deadline while it waits.
final class RequestRun<Coordinator, Outcome> {
    var coordinator: Coordinator
    private var completion: ((Outcome) -> Void)?
    private var deadline: (any ScheduledWork)?

    init(coordinator: Coordinator, completion: @escaping (Outcome) -> Void) {
        self.coordinator = coordinator
        self.completion = completion
    }

    var isFinished: Bool { completion == nil }

    func setDeadline(_ work: any ScheduledWork) {
        if isFinished { return work.cancel() }
        deadline = work
    }

    /// Tells the client; later calls do nothing.
    func finish(_ outcome: Outcome) {
        guard let completion else { return }
        self.completion = nil
        deadline?.cancel()
        deadline = nil
        completion(outcome)
    }
}
