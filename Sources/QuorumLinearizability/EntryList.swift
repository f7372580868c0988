/// The history as a doubly linked list of call and return entries in time order, with a
/// head sentinel, as in Wing and Gong's algorithm and Porcupine's checker.
///
/// Linearizing an operation lifts its call and return entries out of the list; undoing
/// it puts them back in exactly where they were (dancing links), which is valid because
/// the search undoes lifts in the reverse order it made them. Links are indices into
/// arrays rather than class references: no reference counting in the inner loop.
struct EntryList {
    static let head = 0
    static let none = -1

    /// For entry `e` (1...), the operation it belongs to and whether it is the call.
    private(set) var operation: [Int]
    private(set) var isCall: [Bool]
    /// For a call entry, its return entry.
    private(set) var match: [Int]
    private(set) var next: [Int]
    private(set) var prev: [Int]

    /// `invoked[i]` and `responded[i]` are operation `i`'s times; a nil response is
    /// +infinity (indeterminate).
    init(invoked: [UInt64], responded: [UInt64?]) {
        struct Event { var time: UInt64; var isCall: Bool; var operation: Int; var infinite: Bool }
        var events: [Event] = []
        for index in invoked.indices {
            events.append(Event(time: invoked[index], isCall: true, operation: index, infinite: false))
            events.append(
                Event(time: responded[index] ?? .max, isCall: false, operation: index, infinite: responded[index] == nil))
        }
        // Time order; at equal times calls first, so touching intervals count as
        // concurrent; indeterminate returns last of all; ties broken by operation for
        // determinism.
        events.sort { a, b in
            if a.infinite != b.infinite { return !a.infinite }
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.operation < b.operation
        }
        let count = events.count + 1
        operation = [Self.none] + events.map(\.operation)
        isCall = [false] + events.map(\.isCall)
        match = Array(repeating: Self.none, count: count)
        next = (0..<count).map { $0 + 1 < count ? $0 + 1 : Self.none }
        prev = (0..<count).map { $0 - 1 }
        var returnEntry = Array(repeating: Self.none, count: invoked.count)
        for entry in 1..<count where !isCall[entry] { returnEntry[operation[entry]] = entry }
        for entry in 1..<count where isCall[entry] { match[entry] = returnEntry[operation[entry]] }
    }

    var first: Int { next[Self.head] }

    /// Removes a call entry and its return entry from the list.
    mutating func lift(_ call: Int) {
        unlink(call)
        unlink(match[call])
    }

    /// Puts back the entries of the most recent `lift(call)` still in effect.
    mutating func unlift(_ call: Int) {
        relink(match[call])
        relink(call)
    }

    private mutating func unlink(_ entry: Int) {
        next[prev[entry]] = next[entry]
        if next[entry] != Self.none { prev[next[entry]] = prev[entry] }
    }

    private mutating func relink(_ entry: Int) {
        next[prev[entry]] = entry
        if next[entry] != Self.none { prev[next[entry]] = entry }
    }
}
