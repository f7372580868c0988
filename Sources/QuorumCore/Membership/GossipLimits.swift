/// The bounds of membership gossip: how far the gossiped state and each message may grow.
///
/// Kept apart from `Limits` so gossip can be tuned without touching the request path's
/// bounds; the shell copies these into its settings like the others.
public struct GossipLimits: Sendable, Equatable, Codable {
    /// Peers contacted per round. With 3 and a round every 500 ms, a change reaches every
    /// node of a 100-node cluster in about log₄(100) ≈ 3–4 rounds, and a cluster of up to
    /// four nodes hears every peer directly each round.
    public var fanout: Int = 3
    /// Members a state may list (including those that left); a decoded state with more is refused.
    public var membersMax: Int = 1024
    /// Buckets whose props a state may carry; a decoded state with more is refused.
    public var bucketsMax: Int = 10_000
    /// Largest encoded state sent. Past it a round sends heartbeats and the digest only
    /// (and counts it), so a runaway state can't grow every message; the limit sits well
    /// above a full cluster (1024 members ≈ 150 KiB) with a few thousand buckets.
    public var stateBytesMax: Int = 1024 * 1024
    /// Largest encoded gossip message accepted: the state plus a heartbeat per member.
    public var messageBytesMax: Int = 1024 * 1024 + 128 * 1024

    public init() {}

    public static let defaults = GossipLimits()
}
