import QuorumCore

/// A node's replica store as its services use it: encoded key states by (partition,
/// bucket, key), written in commit order, each partition's Merkle tree kept in step with
/// every committed change. SQLite on the node; `MemoryStore` behind a simulated disk in
/// the simulator. Every completion runs on the caller's executor, once, possibly before
/// the call returns.
public protocol ReplicaStorage: AnyObject {
    /// The key's committed encoded state, nil when it holds none.
    func readState(
        partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<[UInt8]?, StorageFailure>) -> Void)

    /// Read-modify-write of one key in commit order: `transform` gets the committed state
    /// (it may run on another thread, inside the store's transaction) and returns the new
    /// one. `completion` runs after the commit with the state stored, or the transform's
    /// `KVError`, or a store failure.
    func updateState(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable ([UInt8]?) throws(KVError) -> [UInt8],
        completion: @escaping (Result<[UInt8], StateWriteError>) -> Void)

    /// Compare-and-delete: removes the key's state if `matches` accepts the state stored at
    /// that moment, and with it a typed key's member rows; completes with whether it removed one.
    func deleteState(
        partition: Int, bucket: String, key: [UInt8], matches: @escaping @Sendable ([UInt8]) -> Bool,
        completion: @escaping (Result<Bool, StorageFailure>) -> Void)

    /// A typed key (issue #16) as committed: its header (the key's `kv` state) and the
    /// `members` selected that exist, sorted by member bytes, read in one snapshot; nil
    /// when the key holds no state.
    func readTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        completion: @escaping (Result<StoredTyped?, StorageFailure>) -> Void)

    /// Read-modify-write of a typed key in commit order, like `updateState`: `transform`
    /// gets the header and the selected members (nil when the key holds no state) and
    /// returns the new header and the member rows to change; header and members commit in
    /// one transaction, and the header's digest goes into the partition's Merkle tree like
    /// any state's. `completion` gets the header stored and the selected members as stored
    /// after the change, or the transform's `KVError` (nothing of it stored), or a store failure.
    func updateTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        transform: @escaping @Sendable (StoredTyped?) throws(KVError) -> TypedRowChanges,
        completion: @escaping (Result<StoredTyped, StateWriteError>) -> Void)

    /// A strong key's acceptor rows (issue #17): its Paxos row and its `kv` row (the
    /// `StrongRecord` of its latest commit), read in one snapshot.
    func readPaxos(
        partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<StoredPaxos, StorageFailure>) -> Void)

    /// Read-modify-write of a strong key's acceptor rows in commit order: `transform` gets
    /// both rows as committed and returns the new ones, or nil to change nothing. Both rows
    /// commit in one durable transaction (a nil row is deleted), the `kv` row's digest goes
    /// into the partition's Merkle tree, and only then does `completion` run, with the rows
    /// as stored: an acceptor answers after it, so a promise it gave survives a crash.
    func updatePaxos(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable (StoredPaxos) throws(KVError) -> StoredPaxos?,
        completion: @escaping (Result<StoredPaxos, StateWriteError>) -> Void)

    /// Whether the store holds a vote (an accepted proposal) or a commit of any strong key,
    /// bare promises aside: what `.paxosFence` answers.
    func holdsStrongValues(completion: @escaping (Result<Bool, StorageFailure>) -> Void)

    /// Up to `limit` rows of a partition in (bucket, key) order, after `after`: `kv` rows
    /// only (a typed key's header), never its member rows.
    func scan(
        partition: Int, after: (bucket: String, key: [UInt8])?, limit: Int,
        completion: @escaping (Result<[StoredRow], StorageFailure>) -> Void)
}

/// One stored key state.
public struct StoredRow: Sendable, Equatable {
    public var bucket: String
    public var key: [UInt8]
    public var blob: [UInt8]

    public init(bucket: String, key: [UInt8], blob: [UInt8]) {
        self.bucket = bucket
        self.key = key
        self.blob = blob
    }
}

/// Why the store could not do what was asked; `message` is for the operator and the peer.
public enum StorageFailure: Error, Sendable, Equatable {
    /// The store's write queue is full: the caller should back off.
    case overloaded(String)
    /// The disk is full: nothing of the write was stored, and the store takes writes again
    /// once space is freed. Not the node's end: it keeps serving reads.
    case full(String)
    /// Anything else: IO, a closed store, an unreadable row.
    case failed(String)

    public var message: String {
        switch self {
        case .overloaded(let message), .full(let message), .failed(let message): return message
        }
    }
}

/// Why a read-modify-write did not store anything.
public enum StateWriteError: Error, Sendable, Equatable {
    /// The transform refused the write (a create-only write on a live key, too many siblings).
    case refused(KVError)
    case storage(StorageFailure)
}
