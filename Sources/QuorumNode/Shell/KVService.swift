import QuorumCore

/// What a node offers its client-facing servers (HTTP now, the line protocol later).
///
/// Any node answers any request: the implementation coordinates it across the key's
/// replicas. Every failure is a `KVError` with a stable code.
public protocol KVService: Sendable {
    /// Reads a key. A deleted or absent key gives a result with no siblings (and, when
    /// the key has history, a context that a later write can supersede it with).
    func get(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> ReadResult

    /// Writes a value. `context` is the token a read returned, or nil for a blind write.
    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions
    ) async throws(KVError) -> WriteResult

    /// Deletes a key by writing a tombstone.
    func delete(bucket: String, key: [UInt8], context: String?, options: RequestOptions) async throws(KVError) -> WriteResult

    /// `get` that reports through `completion` instead of suspending: a server on an event
    /// loop answers with it without a task (and the thread hops a task costs) per request.
    /// `completion` runs once, on any thread, possibly before the call returns. The default
    /// runs the `async` form in a task.
    func get(bucket: String, key: [UInt8], options: RequestOptions, completion: @escaping KVCompletion<ReadResult>)

    /// `put` reporting through `completion`; see `get(bucket:key:options:completion:)`.
    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions, completion: @escaping KVCompletion<WriteResult>)

    /// `delete` reporting through `completion`; see `get(bucket:key:options:completion:)`.
    func delete(
        bucket: String, key: [UInt8], context: String?, options: RequestOptions, completion: @escaping KVCompletion<WriteResult>)

    /// Changes a key's expiry (`EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT`, `PERSIST`):
    /// reads at r, sets the new deadline on the versions read live and merges that into
    /// the replicas at w, so a concurrent value write is never overwritten. Answers
    /// whether the change applied (false: the key is absent or expired, a condition
    /// failed, or `PERSIST` found no ttl). See `ExpiryTouch`.
    func expire(
        bucket: String, key: [UInt8], change: ExpiryChange, conditions: [ExpiryCondition], options: RequestOptions
    ) async throws(KVError) -> Bool

    /// Updates a typed key (a counter, set or map; the bucket's datatype): the lead replica
    /// turns `operation` into a delta and the others join it, acknowledged at w. Answers
    /// the lead's reply (`INCR`'s new value, `SADD`'s count of new elements, ...).
    /// Fails `wrong_type` on a bucket of plain values or of another type.
    func updateType(
        bucket: String, key: [UInt8], operation: TypedOperation, options: RequestOptions
    ) async throws(KVError) -> TypedUpdateResult

    /// Reads a typed key's `members` (every member, or the listed ones) at r. An absent
    /// key answers a nil state.
    func readType(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions
    ) async throws(KVError) -> TypedReadResult

    /// Runs one operation on a key of a strongly consistent bucket through per-key
    /// consensus (issue #17): a linearizable read, a write, a delete or a compare-and-set.
    /// Fails `bad_parameter` on an eventually consistent bucket, and `unavailable` (saying
    /// whether it may have applied) when a majority of the key's primaries can't be had.
    func strong(
        bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions
    ) async throws(KVError) -> StrongAnswer

    /// The consistency of `bucket` by this node's copy of its props, without a request:
    /// servers route a key's GET, PUT and DELETE by it.
    func consistency(of bucket: String) -> BucketConsistency

    func bucketProps(bucket: String) async throws(KVError) -> BucketProps

    /// Changes some of a bucket's properties and spreads them to every node.
    func setBucketProps(bucket: String, update: BucketPropsUpdate) async throws(KVError) -> BucketProps

    func health() -> HealthReport

    /// Truncates `bucket` (nil: every bucket, `FLUSHALL`): every version written before
    /// the call reads as deleted on every replica and never comes back. Answers once every
    /// member adopted the point, so no write acknowledged after it is lost; with a member
    /// unreachable it fails with `unavailable` naming it (the members that did adopt keep
    /// the point, and gossip spreads it), and can be retried.
    func truncate(bucket: String?) async throws(KVError) -> TruncationReport

    /// One page of a bucket's live keys. Pages follow partition order, then key order; pass
    /// the previous page's `next` as `cursor`. Each partition is read from one replica.
    func listKeys(bucket: String, cursor: String?, limit: Int) async throws(KVError) -> KeyPage

    /// What `GET /status` shows: this node's view of the ring, its peers and its work.
    func status() async -> NodeStatus

    /// Partition ownership, as every node computes it.
    func ringReport() -> RingReport

    /// Makes this node (alone and empty) join the cluster of `seed`, a member's peer
    /// address: it copies its partitions' data, then serves (`POST /cluster/join`).
    func joinCluster(seed: String) async throws(KVError) -> MembershipChange

    /// Makes this node hand its partitions off and leave; the process exits once it is
    /// gone from the ring (`POST /cluster/leave`).
    func leaveCluster() async throws(KVError) -> MembershipChange
}

/// The answer to a truncation: the bucket (nil: every bucket), the point as wall-clock
/// milliseconds, and how many members adopted it (all of them, when it succeeded).
public struct TruncationReport: Sendable, Equatable, Codable {
    public var bucket: String?
    public var pointMilliseconds: UInt64
    public var members: Int

    public init(bucket: String?, pointMilliseconds: UInt64, members: Int) {
        self.bucket = bucket
        self.pointMilliseconds = pointMilliseconds
        self.members = members
    }

    enum CodingKeys: String, CodingKey {
        case bucket, members
        case pointMilliseconds = "point_ms"
    }
}

/// The answer to a join or leave request: where the node stands now.
public struct MembershipChange: Sendable, Equatable, Codable {
    public var node: String
    /// `joining`, `up`, `leaving` or `left`.
    public var status: String
    /// Partition transfers this node still has to run before the change completes.
    public var transfersPending: Int

    public init(node: String, status: String, transfersPending: Int) {
        self.node = node
        self.status = status
        self.transfersPending = transfersPending
    }

    enum CodingKeys: String, CodingKey {
        case node, status
        case transfersPending = "transfers_pending"
    }
}

/// Where a key request's answer goes when it is not awaited.
public typealias KVCompletion<Value> = @Sendable (Result<Value, KVError>) -> Void

extension KVService {
    public func get(bucket: String, key: [UInt8], options: RequestOptions, completion: @escaping KVCompletion<ReadResult>) {
        Task { completion(await Self.result { () async throws(KVError) in try await get(bucket: bucket, key: key, options: options) }) }
    }

    public func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions, completion: @escaping KVCompletion<WriteResult>
    ) {
        Task {
            completion(await Self.result { () async throws(KVError) in
                try await put(
                    bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
                    conditions: conditions)
            })
        }
    }

    public func delete(
        bucket: String, key: [UInt8], context: String?, options: RequestOptions, completion: @escaping KVCompletion<WriteResult>
    ) {
        Task {
            completion(await Self.result { () async throws(KVError) in
                try await delete(bucket: bucket, key: key, context: context, options: options)
            })
        }
    }

    public func expire(
        bucket: String, key: [UInt8], change: ExpiryChange, conditions: [ExpiryCondition], options: RequestOptions
    ) async throws(KVError) -> Bool {
        throw .badParameter(name: "command", message: "this service does not change expiry")
    }

    public func updateType(
        bucket: String, key: [UInt8], operation: TypedOperation, options: RequestOptions
    ) async throws(KVError) -> TypedUpdateResult {
        throw .badParameter(name: "command", message: "this service holds no counters, sets or maps")
    }

    public func readType(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions
    ) async throws(KVError) -> TypedReadResult {
        throw .badParameter(name: "command", message: "this service holds no counters, sets or maps")
    }

    public func strong(
        bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions
    ) async throws(KVError) -> StrongAnswer {
        throw .badParameter(name: "bucket", message: "this service holds no strongly consistent buckets")
    }

    public func consistency(of bucket: String) -> BucketConsistency { .eventual }

    private static func result<Value>(_ body: () async throws(KVError) -> Value) async -> Result<Value, KVError> {
        do throws(KVError) { return .success(try await body()) } catch { return .failure(error) }
    }

    /// A plain write: no precondition, no body in the answer.
    public func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions
    ) async throws(KVError) -> WriteResult {
        try await put(
            bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
            conditions: WriteConditions())
    }
}

/// What a write must find, and what its answer carries.
public struct WriteConditions: Sendable, Equatable {
    /// Create only: fail with `precondition_failed` when the key holds a live value
    /// (HTTP `If-None-Match: *`). Checked atomically on the lead replica.
    public var ifNoneMatch: Bool
    /// Answer with the key's live versions after the write (HTTP `returnbody=true`).
    public var returnBody: Bool
    /// The new version's expiry: `.none` takes the bucket's default ttl (none unless
    /// `ttl_seconds` is set), `.keep` the deadline of the live versions it supersedes
    /// (read at r first), `.at` an absolute deadline the server turned a ttl into.
    public var expiry: ExpiryRequest

    public init(ifNoneMatch: Bool = false, returnBody: Bool = false, expiry: ExpiryRequest = .none) {
        self.ifNoneMatch = ifNoneMatch
        self.returnBody = returnBody
        self.expiry = expiry
    }
}

/// A page of keys and the cursor of the next page (nil on the last page).
public struct KeyPage: Sendable, Equatable {
    public var keys: [[UInt8]]
    public var next: String?

    public init(keys: [[UInt8]], next: String?) {
        self.keys = keys
        self.next = next
    }
}

/// A read's answer: the live versions (one, or several siblings) and the context.
public struct ReadResult: Sendable, Equatable {
    /// Live versions; empty when the key is absent, deleted or expired. Each carries its
    /// expiry (`expiry.deadlineMilliseconds`).
    public var siblings: [Sibling]
    /// Opaque token for `X-Context`; empty when the key has no history.
    public var context: String
    /// Replicas that answered before the read completed.
    public var replies: Int

    public init(siblings: [Sibling], context: String, replies: Int) {
        self.siblings = siblings
        self.context = context
        self.replies = replies
    }

    /// The key's deadline (wall-clock milliseconds): the latest of its live versions',
    /// nil when one of them never expires or none is live. `TTL`, `PTTL`, `EXPIRETIME` and
    /// HTTP's `X-TTL` answer from it.
    public var deadlineMilliseconds: UInt64? { KeyState.keyDeadline(of: siblings) }
}

/// A write's answer.
public struct WriteResult: Sendable, Equatable {
    /// Context of the version just written, when known (it is in `vclock` buckets).
    public var context: String
    /// Replicas that acknowledged before the write completed.
    public var acks: Int
    /// The key's live versions after the write, when `returnBody` was asked for.
    public var siblings: [Sibling]

    public init(context: String, acks: Int, siblings: [Sibling] = []) {
        self.context = context
        self.acks = acks
        self.siblings = siblings
    }
}

/// The fields of a props change a client sent; absent fields stay as they are.
public struct BucketPropsUpdate: Sendable, Equatable, Codable {
    public var n: Int?
    public var r: ConsistencyLevel?
    public var w: ConsistencyLevel?
    public var conflict: ConflictMode?
    /// The bucket's default ttl in seconds; 0 removes it.
    public var ttlSeconds: UInt64?
    /// Makes the bucket one of counters, sets or maps: only when it is created.
    public var datatype: DataType?
    /// Makes the bucket strongly consistent (or says it is eventual): only when it is
    /// created (`StrongBucketRules`).
    public var consistency: BucketConsistency?

    public init(
        n: Int? = nil, r: ConsistencyLevel? = nil, w: ConsistencyLevel? = nil, conflict: ConflictMode? = nil,
        ttlSeconds: UInt64? = nil, datatype: DataType? = nil, consistency: BucketConsistency? = nil
    ) {
        self.datatype = datatype
        self.consistency = consistency
        self.n = n
        self.r = r
        self.w = w
        self.conflict = conflict
        self.ttlSeconds = ttlSeconds
    }

    enum CodingKeys: String, CodingKey {
        case n, r, w, conflict, datatype, consistency
        case ttlSeconds = "ttl_seconds"
    }
}

/// `GET /health`: the node is up and how it sees its peers.
public struct HealthReport: Sendable, Equatable, Codable {
    public var node: String
    public var status: String
    public var peers: [PeerHealth]

    public init(node: String, status: String, peers: [PeerHealth]) {
        self.node = node
        self.status = status
        self.peers = peers
    }
}

public struct PeerHealth: Sendable, Equatable, Codable {
    public var node: String
    public var address: String
    /// Whether the last exchange with this peer succeeded.
    public var reachable: Bool

    public init(node: String, address: String, reachable: Bool) {
        self.node = node
        self.address = address
        self.reachable = reachable
    }
}

/// Awaits a completion-style key request: how a service whose requests are callbacks at
/// heart offers the `async` forms.
func awaitCompletion<Value: Sendable>(_ start: (@escaping KVCompletion<Value>) -> Void) async throws(KVError) -> Value {
    try await withCheckedContinuation { continuation in start { continuation.resume(returning: $0) } }.get()
}

/// What a typed update answers: the lead replica's reply and the acknowledgements.
public struct TypedUpdateResult: Sendable, Equatable {
    public var reply: TypedReply
    public var acks: Int

    public init(reply: TypedReply, acks: Int) {
        self.reply = reply
        self.acks = acks
    }
}

/// What a typed read answers: the joined state of the selected members (nil: absent),
/// and how many replicas answered in time.
public struct TypedReadResult: Sendable, Equatable {
    public var state: TypedState?
    public var replies: Int

    public init(state: TypedState?, replies: Int) {
        self.state = state
        self.replies = replies
    }
}
