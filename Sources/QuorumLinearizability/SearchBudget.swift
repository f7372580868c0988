/// How much work the checker may do on one key before it gives up and answers
/// `undecided`. The only place the limits live.
///
/// Counted in search steps and memo entries rather than wall-clock time so that the
/// simulator's verdict for a seed is the same on every machine and every run; the
/// search is exponential in the worst case (checking linearizability is NP-complete),
/// so a bound is needed, and a history it cannot decide counts as a failure (issue 17):
/// keep histories small enough to decide.
public struct SearchBudget: Sendable, Equatable {
    /// Iterations of the search loop: each tries one operation or backtracks once.
    public var maxSteps: Int
    /// Distinct (linearized set, state) pairs remembered; bounds memory.
    public var maxCacheEntries: Int

    public init(maxSteps: Int, maxCacheEntries: Int) {
        self.maxSteps = maxSteps
        self.maxCacheEntries = maxCacheEntries
    }

    /// Enough for a few hundred operations per key with a handful of clients, which the
    /// tests decide in well under a second in a debug build; far short of exhausting
    /// memory on an adversarial history. In time: about 600,000 steps a second in a
    /// debug build, so at most some 3 seconds per key there (`checkPerKey` gives each key
    /// the whole budget, so a history's bound is this times its number of keys).
    public static let standard = SearchBudget(maxSteps: 2_000_000, maxCacheEntries: 500_000)
}
