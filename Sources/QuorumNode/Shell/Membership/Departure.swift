import Synchronization

/// Resumes whoever waits for this node to have left its cluster (the `serve` command, to
/// exit) once the ring-change driver says its departure had time to spread.
final class Departure: Sendable {
    private let state = Mutex<(left: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func departed() {
        let waiters = state.withLock { state in
            state.left = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.left { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
