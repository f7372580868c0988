import QuorumCore

/// Uniform draws below a bound, in the types the simulator counts in.
extension SplitMix64 {
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "a draw needs a positive bound")
        return Int(next(upperBound: UInt64(bound)))
    }

    mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "a draw needs a positive bound")
        return next(upperBound: bound)
    }
}
