import NIOCore
import Synchronization

/// One client request in flight: the pure coordinator behind a lock, whom to tell the
/// outcome, and the deadline. Effects are carried out outside the lock.
///
/// A completion rather than a continuation, so a server on an event loop can run a request
/// without a task: the outcome goes straight to the connection (at once, when every answer
/// it needs is local).
final class RequestRun<Coordinator: Sendable, Outcome: Sendable>: Sendable {
    private struct State {
        var coordinator: Coordinator
        var completion: (@Sendable (Outcome) -> Void)?
        var deadline: Scheduled<Void>?
    }

    private let state: Mutex<State>

    init(coordinator: Coordinator, completion: @escaping @Sendable (Outcome) -> Void) {
        state = Mutex(State(coordinator: coordinator, completion: completion))
    }

    /// True once `finish` ran: no deadline is needed any more.
    var isFinished: Bool { state.withLock { $0.completion == nil } }

    func setDeadline(_ deadline: Scheduled<Void>) {
        let finished = state.withLock { state in
            guard state.completion != nil else { return true }
            state.deadline = deadline
            return false
        }
        if finished { deadline.cancel() }
    }

    /// Steps the coordinator; returns what it decided. `finish` tells the client once.
    func step<Result>(_ body: (inout Coordinator) -> Result) -> Result {
        state.withLock { body(&$0.coordinator) }
    }

    func finish(_ outcome: Outcome) {
        let (completion, deadline) = state.withLock { state in
            defer {
                state.completion = nil
                state.deadline = nil
            }
            return (state.completion, state.deadline)
        }
        deadline?.cancel()
        completion?(outcome)
    }
}
