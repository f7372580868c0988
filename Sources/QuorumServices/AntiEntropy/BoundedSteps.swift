/// Runs `count` steps with at most `concurrency` of them in flight, then `done` once.
///
/// A step calls its `finished` when it is through, maybe before it even returns (a local
/// answer at hand, a peer skipped as down). Such steps go on in this loop instead of
/// nesting, so a long run of them does not deepen the stack.
final class BoundedSteps {
    private let count: Int
    private let concurrency: Int
    private let step: (_ index: Int, _ finished: @escaping () -> Void) -> Void
    private var done: (() -> Void)?
    private var started = 0
    private var finished = 0
    private var pumping = false

    private init(count: Int, concurrency: Int, step: @escaping (Int, @escaping () -> Void) -> Void, done: @escaping () -> Void) {
        precondition(concurrency > 0, "steps need room for at least one in flight")
        self.count = count
        self.concurrency = concurrency
        self.step = step
        self.done = done
    }

    static func run(
        count: Int, concurrency: Int = 1, step: @escaping (_ index: Int, _ finished: @escaping () -> Void) -> Void,
        done: @escaping () -> Void
    ) {
        BoundedSteps(count: count, concurrency: concurrency, step: step, done: done).pump()
    }

    private func pump() {
        guard !pumping else { return }  // a step finished inside `step`: the loop below goes on
        pumping = true
        while started < count, started - finished < concurrency {
            let index = started
            started += 1
            var reported = false
            step(index) { [self] in
                guard !reported else { return }
                reported = true
                finished += 1
                pump()
            }
        }
        pumping = false
        if finished == count, let done {
            self.done = nil
            done()
        }
    }
}
