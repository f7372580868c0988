/// The simulator's agenda: actions ordered by virtual time, ties broken by the order they
/// were scheduled, so a run never depends on anything but its seed.
///
/// A binary heap; bounded by `eventsMax` so a runaway feedback loop (a bug that schedules
/// without end) stops the run with a clear message instead of eating memory.
struct EventQueue {
    struct Event {
        var time: UInt64
        var sequence: UInt64
        var action: () -> Void

        func precedes(_ other: Event) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    private var heap: [Event] = []
    private var nextSequence: UInt64 = 0
    let eventsMax: Int

    init(eventsMax: Int) {
        self.eventsMax = eventsMax
    }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    var nextTime: UInt64? { heap.first?.time }

    mutating func schedule(at time: UInt64, _ action: @escaping () -> Void) {
        precondition(heap.count < eventsMax, "the simulator's event queue passed its bound of \(eventsMax) events")
        heap.append(Event(time: time, sequence: nextSequence, action: action))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> Event? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
