/// Every bound of per-key consensus in one place (issue #17), beside the code that uses
/// them, as `AccessLimits` sits beside the ACL code.
///
/// Relations, checked by `isConsistent`: the first back-off is no longer than the
/// longest, and a proposer gives up after a bounded number of attempts, so an operation
/// under contention ends with `.contended` rather than looping until its deadline.
public struct ConsensusLimits: Sendable, Equatable {
    /// Prepare rounds one operation may start (the first, retries after a rejection, and
    /// restarts after completing someone else's proposal). Past it the operation ends `.contended`.
    public var attemptsMax: Int = 10
    /// Upper bound of the first retry's random back-off, in milliseconds; each further
    /// retry doubles it up to `backoffMillisecondsMax`.
    public var backoffBaseMilliseconds: UInt64 = 10
    /// Longest back-off before one retry, in milliseconds.
    public var backoffMillisecondsMax: UInt64 = 1000

    /// Longest node id a ballot may carry; a decoder refuses longer ones so a forged
    /// state can't make it allocate.
    public static let nodeIDBytesMax = 255
    /// Longest content type a strong value may carry.
    public static let contentTypeBytesMax = 255

    public init(attemptsMax: Int = 10, backoffBaseMilliseconds: UInt64 = 10, backoffMillisecondsMax: UInt64 = 1000) {
        self.attemptsMax = attemptsMax
        self.backoffBaseMilliseconds = backoffBaseMilliseconds
        self.backoffMillisecondsMax = backoffMillisecondsMax
    }

    public static let defaults = ConsensusLimits()

    public var isConsistent: Bool {
        attemptsMax >= 1 && backoffBaseMilliseconds >= 1 && backoffBaseMilliseconds <= backoffMillisecondsMax
    }

    /// The random back-off before retry number `retry` (1 for the first retry): "equal
    /// jitter", between half and all of `min(max, base · 2^(retry-1))`. Randomised so two
    /// proposers that collided do not collide again in lockstep; bounded so a retry never
    /// waits longer than `backoffMillisecondsMax`. `draw` is a random number the caller
    /// supplies (the core draws none of its own).
    public func backoffMilliseconds(retry: Int, draw: UInt64) -> UInt64 {
        let doublings = UInt64(min(max(retry - 1, 0), 32))
        let ceiling = min(backoffMillisecondsMax, backoffBaseMilliseconds << doublings)
        let floor = ceiling / 2
        return floor + draw % (ceiling - floor + 1)
    }
}
