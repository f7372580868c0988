import QuorumCore

/// The links between simulated nodes: every message is delayed, and may be dropped,
/// duplicated (a copy arrives later), or held back by a partition.
///
/// Reordering comes from the delay spread: two messages on one link overtake each other
/// whenever the second draws a shorter delay. A partition is a set of directed links that
/// are cut: a symmetric partition cuts both directions, a one-way partition one. A link
/// is checked when a message arrives, so a cut also loses what was in flight.
struct SimulatedNetwork {
    struct Link: Hashable {
        var from: Int
        var to: Int
    }

    /// Chance, in parts per million, that a message is lost.
    var dropPerMillion: UInt64 = 0
    /// Chance, in parts per million, that a message arrives twice.
    var duplicatePerMillion: UInt64 = 0
    var delayMinimumMilliseconds: UInt64 = 1
    /// Delays are drawn uniformly in minimum ... minimum + spread, so a request often
    /// overtakes another sent before it. The calm mix widens it (see `SimulatedWorld`).
    var delaySpreadMilliseconds: UInt64 = 4
    private(set) var cut: Set<Link> = []

    func isCut(from: Int, to: Int) -> Bool {
        cut.contains(Link(from: from, to: to))
    }

    mutating func cut(from: Int, to: Int) {
        cut.insert(Link(from: from, to: to))
    }

    /// Cuts every link between `side` and the rest, both ways.
    mutating func partition(_ side: [Int], nodeCount: Int) {
        for inside in side {
            for outside in 0..<nodeCount where !side.contains(outside) {
                cut(from: inside, to: outside)
                cut(from: outside, to: inside)
            }
        }
    }

    mutating func healPartitions() {
        cut.removeAll()
    }

    mutating func calm() {
        dropPerMillion = 0
        duplicatePerMillion = 0
    }

    /// The arrival delays of one message: empty when dropped, two when duplicated.
    func deliveries(using random: inout SplitMix64) -> [UInt64] {
        if dropPerMillion > 0 && random.below(1_000_000) < dropPerMillion { return [] }
        var delays = [delayMinimumMilliseconds + random.below(delaySpreadMilliseconds + 1)]
        if duplicatePerMillion > 0 && random.below(1_000_000) < duplicatePerMillion {
            delays.append(delayMinimumMilliseconds + random.below(4 * delaySpreadMilliseconds + 1))
        }
        return delays
    }
}
