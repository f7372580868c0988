/// The versions of one encoding: a node reads every one in `readable` and writes only `newest`.
public struct FormatVersions: Sendable, Equatable {
    /// Every version a decoder reads: from the first one ever written (1) to `newest`.
    public let readable: ClosedRange<UInt8>

    /// The newest version encoders write. An encoding may write an older version for a
    /// value that version expresses (`KeyState` and `BucketProps` write version 1 unless a
    /// value uses expiry): the bytes stay a function of the value.
    public var newest: UInt8 { readable.upperBound }

    init(_ readable: ClosedRange<UInt8>) {
        self.readable = readable
    }
}

/// Every encoding QuorumKV keeps on disk or sends to another node, with its versions.
///
/// Each encoding starts with its version byte (a peer frame: the protocol version in its
/// header), and its decoder switches on that byte to a decoder per version. The rule, the
/// same for all: a change to an encoding gives it a new version, written from then on,
/// and adds a decoder for the new version beside the old ones. No decoder is ever
/// removed, so a node reads everything any earlier node wrote, and rows written before an
/// upgrade stay readable after it. A version a node does not read is refused with
/// `WireError.unsupportedVersion`, which tells the operator to upgrade the node.
///
/// `Tests/Fixtures/format-v1` holds the bytes version 1 of each encoding wrote; tests
/// decode them and check that today's encoders write the same bytes, so a change that
/// forgets to bump a version fails there. A new version adds its own fixtures.
///
/// Encodings that travel between nodes are read by older nodes during a rolling upgrade,
/// and an older node refuses a newer version. So a node must not send a peer a version
/// that peer can't read: an encoding that goes on the wire (a `KeyState` in a merge, a
/// hint or a read answer, `BucketProps`, gossip, repair batches) changes together with a
/// new `peerProtocol` version, and a node writes the old encodings to a peer that speaks
/// the old protocol (`Frame` says how much of that the transport does today). A new
/// request kind alone needs no new `peerProtocol` version: it changes no existing
/// payload, and an older node answers a tag it does not know with a failure naming it,
/// which the caller reports (a `FLUSHDB` during a rolling upgrade fails until every
/// member runs the release that has it). A new response kind, or a changed payload, is
/// a new `peerProtocol` version.
///
/// Typed keys' requests (`typedUpdate`, `typedMerge`, `typedFetch`, `storeTypedHint`) come
/// with response kinds of their own (`typedApplied`, `typed`) and keep `peerProtocol` at 1:
/// those responses answer only those requests, which an older node never sends, so no
/// older node ever reads one. `BucketProps` 3 (a typed bucket) reaches older nodes only
/// once someone creates a typed bucket, which needs every member upgraded first
/// (docs/operations.md).
///
/// Expiry (`KeyState` 2, `BucketProps` 2, the deadline at the end of a coordinateWrite)
/// keeps `peerProtocol` at 1, a stated exception: the transport has no version
/// negotiation yet (see `Frame`), so a protocol 2 would make upgraded and old nodes refuse
/// each other's every frame. Instead the new forms appear only on values that use expiry,
/// and everything else keeps its version 1 bytes. What an old node does with them: it
/// can't decode the message (`unsupportedVersion`, or trailing bytes in a
/// coordinateWrite), so that one request fails: it answers a request `bad_parameter`
/// (a write with a ttl then lacks that replica's ack, and a vclock write it would lead
/// fails with that error), an old coordinator counts an answer about an expiring key as
/// undecodable, and anti-entropy repairs of such keys to the old node fail and are
/// retried. No expiry is ever silently dropped. Upgrade every node
/// before clients use ttls or bucket default ttls (docs/operations.md). The SQLite table layout
/// is versioned apart from these (`Schema.version` in QuorumStorage).
public enum Formats {
    /// `KeyState`: a key's row in the `kv` table and a hint's state (inside the store's
    /// `StoredBlob` header), and the state in merge, hint, repair and read messages.
    public static let keyState = FormatVersions(1...2)
    /// `BucketProps`: the `bucket_props` table, setBucketProps requests, membership state.
    /// Version 4 (strong buckets, issue #17) is written only for strong buckets; like
    /// version 3 it reaches older nodes only once someone creates such a bucket, which
    /// needs every member upgraded first.
    public static let bucketProps = FormatVersions(1...4)
    /// `MembershipState`: gossip, and the copy each node saves in its store's meta table.
    /// Version 2 adds the truncation points; a state without any is still written as
    /// version 1, so nodes of the previous release keep reading gossip until a bucket is
    /// first truncated.
    public static let membershipState = FormatVersions(1...2)
    /// `TruncationPoints`: inside membership state version 2, and each node's copy in its
    /// store's meta table.
    public static let truncationPoints = FormatVersions(1...1)
    /// `GossipMessage`: the payload of gossip requests and answers.
    public static let gossipMessage = FormatVersions(1...1)
    /// `RepairBatch`: anti-entropy's merge batches, before LZ4. Version 2 adds entries of
    /// typed keys' full states (issue #16); a batch of plain entries only is still
    /// written as version 1, so a node of the previous release reads it. Version 3 adds
    /// strong keys' commits (issue #17), written only in a batch that carries one.
    public static let repairBatch = FormatVersions(1...3)
    /// `Hint.encoded()`. Version 2 carries a typed key's delta (issue #16); plain hints
    /// keep writing version 1.
    public static let hint = FormatVersions(1...2)
    /// `VersionVector.contextToken`: the `X-Context` clients keep and send back, possibly
    /// to another node than the one that issued it.
    public static let contextToken = FormatVersions(1...1)
    /// `Frame`'s protocol version: the header byte, and the layout of every payload
    /// (`PeerHello`, `PeerRequest`, `PeerResponse`).
    public static let peerProtocol = FormatVersions(1...1)
    /// `TypedHeader`: the `kv` row of a typed key (issue #16). Numbered from 0x40, not 1,
    /// so its first byte differs from every `KeyState` version (`TypedHeader.isTypedHeader`);
    /// a later version takes 0x41, and `KeyState` stays far below.
    public static let typedHeader = FormatVersions(0x40...0x40)
    /// `Member.encodedRow()`: one row of the `members` table (a member's dots and payloads).
    public static let typedMember = FormatVersions(1...1)
    /// `TypedState.encoded(isFull:)`: typed states in merges, hints, repairs, fetch answers.
    public static let typedState = FormatVersions(1...1)
    /// `TypedOperation.encoded()`: a client's typed update on its way to the lead replica.
    public static let typedOperation = FormatVersions(1...1)
    /// `CausalContext.token`: the `"context"` of a typed read that HTTP clients send back
    /// with a set remove, possibly to another node than the one that issued it.
    public static let typedContextToken = FormatVersions(1...1)
    /// `AcceptorState`: one key's Paxos promise, accepted proposal and latest commit (issue
    /// #17), the row of the Paxos table, kept apart from the `kv` table.
    public static let paxosState = FormatVersions(1...1)
    /// `StrongRecord`: the `kv` row of a key in a strongly consistent bucket (its latest
    /// commit), and the commits anti-entropy ships. Numbered from 0x50, apart from
    /// `KeyState` (1 and up) and `TypedHeader` (0x40 and up).
    public static let strongRecord = FormatVersions(0x50...0x50)
}
