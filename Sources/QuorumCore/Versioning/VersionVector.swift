/// A version vector: for each actor, the highest event counter known.
///
/// Used as a key's causal context: an entry `a: c` says every write `a` issued for this
/// key up to `c` is known (kept as a sibling or already superseded). Each entry keeps the
/// time it last advanced so pruning can drop the oldest first.
public struct VersionVector: Sendable, Equatable, Hashable {
    public struct Entry: Sendable, Equatable, Hashable {
        public var actor: String
        public var counter: UInt64
        /// When this entry last advanced (HLC physical milliseconds); used only for pruning.
        public var touchedMilliseconds: UInt64

        public init(actor: String, counter: UInt64, touchedMilliseconds: UInt64 = 0) {
            self.actor = actor
            self.counter = counter
            self.touchedMilliseconds = touchedMilliseconds
        }
    }

    /// Sorted by actor so equal vectors encode to equal bytes.
    public private(set) var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = []
        for entry in entries { advance(entry.actor, to: entry.counter, touchedMilliseconds: entry.touchedMilliseconds) }
    }

    public static let empty = VersionVector()

    public var isEmpty: Bool { entries.isEmpty }

    public subscript(actor: String) -> UInt64 {
        guard let index = index(of: actor) else { return 0 }
        return entries[index].counter
    }

    /// Whether the event `dot` is known to this vector.
    public func covers(_ dot: Dot) -> Bool {
        dot.counter <= self[dot.actor]
    }

    /// Raises `actor`'s entry to at least `counter`.
    public mutating func advance(_ actor: String, to counter: UInt64, touchedMilliseconds: UInt64 = 0) {
        switch search(actor) {
        case .found(let index):
            if counter > entries[index].counter { entries[index].counter = counter }
            entries[index].touchedMilliseconds = max(entries[index].touchedMilliseconds, touchedMilliseconds)
        case .insertAt(let index):
            entries.insert(Entry(actor: actor, counter: counter, touchedMilliseconds: touchedMilliseconds), at: index)
        }
    }

    /// The least vector that covers both.
    public func merged(with other: VersionVector) -> VersionVector {
        var result = self
        for entry in other.entries {
            result.advance(entry.actor, to: entry.counter, touchedMilliseconds: entry.touchedMilliseconds)
        }
        return result
    }

    /// True when every event `other` knows, this one knows too.
    public func descends(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { self[$0.actor] >= $0.counter }
    }

    /// Drops the least recently advanced entries, never one in `keep`, until at most
    /// `maximum` remain. Dropping an entry forgets what it summarized, so callers keep
    /// the actors of live siblings.
    public mutating func prune(maximum: Int, keep: Set<String>) {
        guard entries.count > maximum else { return }
        let removable = entries.filter { !keep.contains($0.actor) }
            .sorted { ($0.touchedMilliseconds, $0.actor) < ($1.touchedMilliseconds, $1.actor) }
        var excess = entries.count - maximum
        var drop = Set<String>()
        for entry in removable where excess > 0 {
            drop.insert(entry.actor)
            excess -= 1
        }
        entries.removeAll { drop.contains($0.actor) }
    }

    private func index(of actor: String) -> Int? {
        if case .found(let index) = search(actor) { return index }
        return nil
    }

    private enum SearchResult { case found(Int), insertAt(Int) }

    private func search(_ actor: String) -> SearchResult {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].actor == actor { return .found(middle) }
            if entries[middle].actor < actor { low = middle + 1 } else { high = middle }
        }
        return .insertAt(low)
    }
}

/// One write event: the actor that issued it and that actor's counter for the key.
public struct Dot: Sendable, Equatable, Hashable, Comparable {
    public var actor: String
    public var counter: UInt64

    public init(actor: String, counter: UInt64) {
        self.actor = actor
        self.counter = counter
    }

    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        (lhs.actor, lhs.counter) < (rhs.actor, rhs.counter)
    }
}
