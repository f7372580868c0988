/// Bounds the requests a driver coordinates that still wait for answers, with one timer for
/// all of them instead of one per request.
///
/// A waiting request is an entry in a min-heap ordered by deadline (then by arrival), on
/// the executor's monotonic clock. One tick, scheduled through the executor, is armed
/// while entries wait, for the earliest deadline; it finishes every entry whose deadline
/// has passed and arms itself again for the earliest left, but no sooner than one
/// granularity later, so deadlines that close share a tick. A new entry moves the armed
/// tick only when its deadline is more than a granularity before it (a shorter timeout
/// than those waiting); one with the same timeout as the others, the usual case, never
/// does. So:
/// - a deadline fires no earlier than its timeout and at most `granularityMilliseconds`
///   late (plus however late the executor runs the tick);
/// - a request that finishes leaves the heap at once (O(log n)), and cancels nothing;
/// - requests that time out together cost one tick per granularity, however many they are;
/// - under steady traffic the tick fires about once per timeout period, finds the
///   requests it was armed for long gone, and moves on to the earliest still waiting;
/// - an idle driver has no timer: the tick armed for the last request fires once (at
///   most one timeout after it), finds nothing and arms no other.
///
/// Runs on the driver's executor only, like the driver.
final class DeadlineSweep {
    private let executor: any ServiceExecutor
    let granularityMilliseconds: UInt64
    private var heap: [DeadlineEntry] = []
    private var arrivals: UInt64 = 0
    private var tick: (any ScheduledWork)?
    /// When the armed tick is due, on the executor's clock.
    private var tickDueMilliseconds: UInt64 = 0
    /// Set while a tick finishes entries: their completions may add requests, and the tick
    /// arms the next one itself when it is done.
    private var sweeping = false

    init(executor: any ServiceExecutor, granularityMilliseconds: Int) {
        precondition(granularityMilliseconds >= 1, "the sweep granularity is at least 1 ms, got \(granularityMilliseconds)")
        self.executor = executor
        self.granularityMilliseconds = UInt64(granularityMilliseconds)
    }

    /// Requests waiting now.
    var waiting: Int { heap.count }

    /// Whether a tick is armed.
    var isArmed: Bool { tick != nil }

    /// Starts bounding `entry`: its `deadlinePassed` runs once `timeoutMilliseconds` have
    /// passed (and at most one granularity more) unless it leaves first.
    func add(_ entry: DeadlineEntry, timeoutMilliseconds: Int) {
        precondition(entry.heapIndex < 0, "a request waits in its driver's sweep once")
        let now = executor.uptimeMilliseconds()
        entry.deadlineMilliseconds = now + UInt64(max(1, timeoutMilliseconds))
        entry.arrival = arrivals
        arrivals += 1
        entry.heapIndex = heap.count
        heap.append(entry)
        siftUp(heap.count - 1)
        if !sweeping { armIfNeeded(now: now) }
    }

    /// Stops bounding `entry` (it finished); nothing when it is not waiting.
    func remove(_ entry: DeadlineEntry) {
        let index = entry.heapIndex
        guard index >= 0 else { return }
        precondition(index < heap.count && heap[index] === entry, "a waiting request's heap position is its own")
        entry.heapIndex = -1
        let last = heap.removeLast()
        guard index < heap.count else { return }
        heap[index] = last
        last.heapIndex = index
        if index > 0, Self.precedes(last, heap[(index - 1) / 2]) {
            siftUp(index)
        } else {
            siftDown(index)
        }
    }

    // MARK: The tick

    /// Arms the tick for the earliest deadline unless one is armed that is at most a
    /// granularity later (so a new request with a shorter timeout than those waiting moves
    /// it; one with the same timeout, the usual case, never does).
    private func armIfNeeded(now: UInt64) {
        guard let first = heap.first else { return }
        if tick != nil {
            guard first.deadlineMilliseconds + granularityMilliseconds < tickDueMilliseconds else { return }
            tick?.cancel()
        }
        arm(at: first.deadlineMilliseconds, now: now)
    }

    private func arm(at due: UInt64, now: UInt64) {
        let due = max(due, now + 1)
        tickDueMilliseconds = due
        tick = executor.schedule(afterMilliseconds: Int(due - now)) { [weak self] in self?.sweep() }
    }

    private func sweep() {
        tick = nil
        let now = executor.uptimeMilliseconds()
        sweeping = true
        while let first = heap.first, first.deadlineMilliseconds <= now {
            remove(first)
            first.deadlinePassed()
        }
        sweeping = false
        // The next tick: at the earliest deadline, but at least a granularity from now.
        if let first = heap.first { arm(at: max(first.deadlineMilliseconds, now + granularityMilliseconds), now: now) }
    }

    // MARK: The heap

    private static func precedes(_ lhs: DeadlineEntry, _ rhs: DeadlineEntry) -> Bool {
        (lhs.deadlineMilliseconds, lhs.arrival) < (rhs.deadlineMilliseconds, rhs.arrival)
    }

    private func siftUp(_ start: Int) {
        var index = start
        let entry = heap[index]
        while index > 0 {
            let parent = (index - 1) / 2
            guard Self.precedes(entry, heap[parent]) else { break }
            heap[index] = heap[parent]
            heap[index].heapIndex = index
            index = parent
        }
        heap[index] = entry
        entry.heapIndex = index
    }

    private func siftDown(_ start: Int) {
        var index = start
        let entry = heap[index]
        let count = heap.count
        while true {
            let left = 2 * index + 1
            guard left < count else { break }
            let right = left + 1
            let child = right < count && Self.precedes(heap[right], heap[left]) ? right : left
            guard Self.precedes(heap[child], entry) else { break }
            heap[index] = heap[child]
            heap[index].heapIndex = index
            index = child
        }
        heap[index] = entry
        entry.heapIndex = index
    }
}

/// A request as its driver's `DeadlineSweep` sees it.
class DeadlineEntry {
    /// On the executor's clock; set when the request starts waiting.
    fileprivate(set) var deadlineMilliseconds: UInt64 = 0
    fileprivate var arrival: UInt64 = 0
    /// Its place in the sweep's heap; -1 while it is not waiting.
    fileprivate(set) var heapIndex = -1

    /// Whether it waits in a sweep now.
    var isWaiting: Bool { heapIndex >= 0 }

    /// Its deadline passed while it waited (it has left the sweep already).
    func deadlinePassed() {
        preconditionFailure("every request kind says what its deadline does")
    }
}
