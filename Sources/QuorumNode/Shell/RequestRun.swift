import NIOCore
import Synchronization

/// One client request in flight: the pure coordinator behind a lock, the continuation
/// the client awaits, and the deadline. Effects are carried out outside the lock.
final class RequestRun<Coordinator: Sendable, Outcome: Sendable>: Sendable {
    private struct State {
        var coordinator: Coordinator
        var continuation: CheckedContinuation<Outcome, Never>?
        var deadline: Scheduled<Void>?
    }

    private let state: Mutex<State>

    init(coordinator: Coordinator, continuation: CheckedContinuation<Outcome, Never>) {
        state = Mutex(State(coordinator: coordinator, continuation: continuation))
    }

    func setDeadline(_ deadline: Scheduled<Void>) {
        let finished = state.withLock { state in
            guard state.continuation != nil else { return true }
            state.deadline = deadline
            return false
        }
        if finished { deadline.cancel() }
    }

    /// Steps the coordinator; returns what it decided. `finish` resumes the client once.
    func step<Result>(_ body: (inout Coordinator) -> Result) -> Result {
        state.withLock { body(&$0.coordinator) }
    }

    func finish(_ outcome: Outcome) {
        let (continuation, deadline) = state.withLock { state in
            defer {
                state.continuation = nil
                state.deadline = nil
            }
            return (state.continuation, state.deadline)
        }
        deadline?.cancel()
        continuation?.resume(returning: outcome)
    }
}
