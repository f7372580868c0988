/// Every bound QuorumKV enforces, in one place, so a reader can see what can grow and how far.
/// (Users, passwords, tokens and logins have theirs in `AccessLimits`, beside the ACL code.)
///
/// Defaults follow SPEC.md's "Limits" table. Shells copy these into their own settings
/// and may override them from configuration; the core never reads configuration itself.
public struct Limits: Sendable, Equatable, Codable {
    /// Largest key, in bytes (SPEC: 1 KiB).
    public var keyBytesMax: Int = 1024
    /// Largest value, in bytes (SPEC: 16 MiB).
    public var valueBytesMax: Int = 16 * 1024 * 1024
    /// Longest bucket name; names are 1...this of `[A-Za-z0-9_.-]`.
    public var bucketNameBytesMax: Int = 64
    /// Siblings one key may hold in a `vclock` bucket; a write past it fails.
    public var siblingsMax: Int = 64
    /// Vector clock entries kept per key; past it the oldest entries without a live sibling are pruned.
    public var clockEntriesMax: Int = 32
    /// Request timeout when the client names none.
    public var requestTimeoutMillisecondsDefault: Int = 2000
    /// Longest timeout a client may ask for.
    public var requestTimeoutMillisecondsMax: Int = 60_000
    /// Largest node-to-node frame, header included. A state can hold several siblings, so
    /// this sits above `valueBytesMax`; a larger frame closes the connection that sent it.
    public var frameBytesMax: Int = 64 * 1024 * 1024
    /// Requests one peer connection may have outstanding; past it new requests fail at once.
    public var peerInFlightMax: Int = 4096
    /// Largest HTTP request body accepted (a value plus room for nothing else).
    public var httpBodyBytesMax: Int = 16 * 1024 * 1024
    /// Largest HTTP request head (request line plus headers).
    public var httpHeaderBytesMax: Int = 16 * 1024
    /// Client requests a node coordinates at once; past it new ones get 503 `overloaded`.
    public var coordinatedRequestsMax: Int = 10_000
    /// Writes the storage writer takes into one group commit.
    public var groupCommitOperationsMax: Int = 512
    /// Writes queued for the storage writer; past it writes fail with `overloaded`.
    public var writeQueueOperationsMax: Int = 20_000
    /// Values at or above this size are stored LZ4-compressed.
    public var compressionThresholdBytes: Int = 4096
    /// Most keys one listing page may return.
    public var keyPageMax: Int = 1000
    /// Largest `n` a bucket or request may use.
    public var replicasMax: Int = 16
    /// Longest ttl a write, an expiry change or a bucket default may ask for (100 years,
    /// far below where a deadline in milliseconds could overflow).
    public var ttlSecondsMax: UInt64 = 100 * 365 * 24 * 3600
    /// The clock skew between nodes that expiry is documented to tolerate: a version may
    /// still be read up to this long after its deadline by a node whose clock is behind
    /// (docs/architecture.md, "Expiry"); the simulator checks reads against it. Operators
    /// keep nodes' clocks closer than this (NTP keeps them within milliseconds).
    public var expirySkewMillisecondsMax: UInt64 = 1000

    /// Elements of one set, fields of one map (issue #16); an update that would create
    /// more fails with `too_large`. Merges never refuse: concurrent leads may pass it a little.
    public var typedMembersMax: Int = 100_000
    /// Largest set element or map field name, in bytes.
    public var typedMemberBytesMax: Int = 1024
    /// Actors (replica incarnations) one typed key's context may name. The context is
    /// never pruned (that would lose increments and revive removed elements), so this
    /// bounds it instead: an update by a new actor past it fails.
    public var typedActorsMax: Int = 64
    /// Dots one member may hold (about one per actor that updated it concurrently).
    public var typedDotsPerMemberMax: Int = 64
    /// Operation ids a counter remembers to deduplicate retried increments.
    public var typedOperationIDsMax: Int = 256
    /// Longest operation id, in bytes.
    public var typedOperationIDBytesMax: Int = 64

    public init() {}

    public static let defaults = Limits()
}
