/// A hybrid logical clock reading: wall-clock milliseconds plus a logical counter.
///
/// Orders events like a Lamport clock while staying close to real time, so
/// last-writer-wins picks the write a person would call newest even when node clocks
/// drift a little. Ties between nodes are broken by node id where versions are compared.
public struct HLCTimestamp: Sendable, Equatable, Hashable, Comparable, Codable {
    public var physicalMilliseconds: UInt64
    public var logical: UInt32

    public init(physicalMilliseconds: UInt64, logical: UInt32) {
        self.physicalMilliseconds = physicalMilliseconds
        self.logical = logical
    }

    public static let zero = HLCTimestamp(physicalMilliseconds: 0, logical: 0)

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool {
        (lhs.physicalMilliseconds, lhs.logical) < (rhs.physicalMilliseconds, rhs.logical)
    }
}

/// The clock state one node keeps. The shell passes in the wall clock; the clock itself
/// reads nothing, so tests and the simulator control time.
public struct HybridLogicalClock: Sendable, Equatable {
    public private(set) var last: HLCTimestamp

    public init(last: HLCTimestamp = .zero) {
        self.last = last
    }

    /// A timestamp for a local event (a write this node coordinates), later than every
    /// timestamp this clock has issued or observed.
    public mutating func tick(nowMilliseconds: UInt64) -> HLCTimestamp {
        if nowMilliseconds > last.physicalMilliseconds {
            last = HLCTimestamp(physicalMilliseconds: nowMilliseconds, logical: 0)
        } else {
            last.logical &+= 1
        }
        return last
    }

    /// Folds in a timestamp seen from elsewhere so later local ticks order after it.
    public mutating func observe(_ remote: HLCTimestamp, nowMilliseconds: UInt64) {
        let physical = max(last.physicalMilliseconds, remote.physicalMilliseconds, nowMilliseconds)
        var logical: UInt32 = 0
        if physical == last.physicalMilliseconds && physical == remote.physicalMilliseconds {
            logical = max(last.logical, remote.logical) &+ 1
        } else if physical == last.physicalMilliseconds {
            logical = last.logical &+ 1
        } else if physical == remote.physicalMilliseconds {
            logical = remote.logical &+ 1
        }
        last = HLCTimestamp(physicalMilliseconds: physical, logical: logical)
    }
}
