/// The expiry the cache workload's SETs carry (`SET key value EX ttl`), and its bounds.
///
/// Every SET gets `ttlSeconds`, except that with `shortTTLSeconds` set a share
/// (`shortShare`) of them gets the short ttl instead: with a ttl much longer than the run
/// no key would expire while it is measured and the figures would be a plain 90/10 mix;
/// the short share makes keys expire mid-run, so reads miss as a real cache's do and the
/// server's expiry path (hiding expired values on reads) is measured too.
///
/// Preloaded records carry no expiry: a key misses only after a cache SET of it has
/// expired and no later SET has replaced it.
public struct CacheExpiry: Sendable, Equatable {
    /// Whole seconds, as `EX` takes them.
    public static let defaultTTLSeconds = 60
    /// Share of SETs given the short ttl when `--short-ttl` is given without a share.
    public static let defaultShortShare = 0.25
    /// Any ttl, long or short: at least a second (`EX 0` is an error in Redis), at most a
    /// year, far past any run and well inside every server's limit.
    public static let ttlBounds = 1...31_536_000

    public var ttlSeconds: Int
    /// The ttl of the short share; nil gives every SET `ttlSeconds`.
    public var shortTTLSeconds: Int?
    /// Share of SETs, in (0, 1], given `shortTTLSeconds`.
    public var shortShare: Double

    public init(ttlSeconds: Int = defaultTTLSeconds, shortTTLSeconds: Int? = nil, shortShare: Double = defaultShortShare) {
        self.ttlSeconds = ttlSeconds
        self.shortTTLSeconds = shortTTLSeconds
        self.shortShare = shortShare
    }

    /// The ttl of one SET, from a uniform draw in [0, 1).
    public func ttl(draw: Double) -> Int {
        if let shortTTLSeconds, draw < shortShare { return shortTTLSeconds }
        return ttlSeconds
    }

    /// Refuses a ttl out of bounds, a short ttl not shorter than the ttl, a share outside (0, 1].
    public func validate() throws {
        let bounds = Self.ttlBounds
        guard bounds.contains(ttlSeconds) else {
            throw BenchError.usage("--ttl must be \(bounds.lowerBound)...\(bounds.upperBound) seconds")
        }
        if let shortTTLSeconds {
            guard bounds.contains(shortTTLSeconds), shortTTLSeconds < ttlSeconds else {
                throw BenchError.usage("--short-ttl must be \(bounds.lowerBound) second or more and shorter than --ttl (\(ttlSeconds))")
            }
        }
        guard shortShare > 0, shortShare <= 1 else { throw BenchError.usage("--short-ttl-share must be in (0, 1]") }
    }
}
