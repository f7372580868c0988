/// One anti-entropy exchange of one partition between this replica's tree and a peer's:
/// which hashes to ask for, which segments to list, which keys to repair.
///
/// Why a state machine with the peer's answers as inputs: the exchange spans several
/// round trips, and keeping every decision here (the shell only carries requests to the
/// peer and answers back) lets tests step it message by message and count exactly what
/// crosses the network. It descends only below nodes whose hashes differ, so replicas
/// that differ in k of m keys swap O(k · fanOut · depth) tree hashes plus the key lists of
/// at most k segments, never all m keys.
///
/// The exchange works on a copy of the local tree taken at `init`; writes that land during
/// the exchange (on either side) can make it repair a key that already agrees or miss one
/// that just diverged. Both are harmless: repair is a merge, and the next exchange finds
/// what this one missed.
///
/// Protocol, from the side that starts it (the peer answers from its own tree and store):
/// 1. `.requestRoot` → `.remoteRoot(hash:shape:)`. Equal roots finish at once.
/// 2. `.requestHashes(level:indices:)` → `.remoteHashes(level:hashes:)`, level by level from
///    1, naming only the children of nodes that differed on the level above, at most
///    `hashRequestIndicesMax` indices per request.
/// 3. `.requestSegmentKeys(segments:)` → `.segmentKeys(local:remote:)`: the shell lists the
///    keys of those segments from its own store and from the peer, at most
///    `segmentsPerRequestMax` segments per request.
/// 4. `.repair(keys:)` batches of at most `batchKeysMax` keys, then the next segment request,
///    and finally `.finished(stats)`.
/// Actions are carried out in the order returned. A failed request (peer unreachable,
/// timeout, store error) comes back as `.failed(reason)` and ends the exchange.
public struct AntiEntropyExchange: Sendable {
    /// What the shell feeds in: the peer's answers, the local store's key lists, failures.
    public enum Input: Sendable, Equatable {
        /// The peer's root and tree shape, answering `.requestRoot`.
        case remoteRoot(hash: UInt64, shape: MerkleShape)
        /// The peer's hashes for the indices of the last `.requestHashes`.
        case remoteHashes(level: Int, hashes: [Int: UInt64])
        /// The keys of the segments of the last `.requestSegmentKeys`: from the local
        /// store and from the peer.
        case segmentKeys(local: [SegmentKey], remote: [SegmentKey])
        /// The last request could not be answered: the peer is unreachable, timed out or
        /// refused, or the local store failed.
        case failed(String)
    }

    /// What the shell must do next, in order.
    public enum Action: Sendable, Equatable {
        /// Ask the peer for its root hash and tree shape.
        case requestRoot
        /// Ask the peer for the hashes of these nodes on `level` (ascending indices).
        case requestHashes(level: Int, indices: [Int])
        /// List the keys of these segments (ascending) locally and on the peer.
        case requestSegmentKeys(segments: [Int])
        /// Repair these keys through the read-repair path (merge both sides, write both).
        case repair(keys: [RepairKey])
        /// The exchange is over; report the figures.
        case finished(AntiEntropyStats)
        /// The exchange stopped; repairs already emitted stand. Report and retry later.
        case failed(AntiEntropyFailure, AntiEntropyStats)
    }

    /// Where the exchange is. Each case says what it may become.
    public enum State: Sendable, Equatable {
        /// Created. `start()` → `awaitingRoot`.
        case idle
        /// Sent `.requestRoot`. `.remoteRoot` → `finished` (equal roots or a tree without
        /// keys on either side), `descending` (level 1), or `listingSegments` (a one-segment
        /// tree); a shape mismatch or unexpected input → `failed`.
        case awaitingRoot
        /// Comparing one level, one request at a time. `.remoteHashes` → `descending` (the
        /// rest of this level, or the next level below the differing nodes),
        /// `listingSegments` (differing segments found), or `finished` (nothing differed).
        case descending(Descent)
        /// Comparing keys of differing segments, one request at a time. `.segmentKeys` →
        /// `listingSegments` (more segments) or `finished`.
        case listingSegments(SegmentListing)
        /// Done; further inputs are ignored (late replies after a timeout are normal).
        case finished
        /// Stopped on a failure; further inputs are ignored.
        case failed(AntiEntropyFailure)
    }

    /// Progress through one level of the tree.
    public struct Descent: Sendable, Equatable {
        public var level: Int
        /// Indices asked for and not yet answered.
        public var requested: [Int]
        /// Indices of this level still to ask for.
        public var queued: [Int]
        /// Indices of this level found to differ so far.
        public var differing: [Int]
    }

    /// Progress through the differing segments.
    public struct SegmentListing: Sendable, Equatable {
        /// Segments asked for and not yet answered.
        public var requested: [Int]
        /// Segments still to ask for.
        public var queued: [Int]
    }

    public private(set) var state: State = .idle
    public private(set) var stats = AntiEntropyStats()
    public let limits: AntiEntropyLimits
    private var local: MerkleTree

    /// An exchange comparing `local` (a snapshot of this replica's tree for the partition)
    /// against one peer. The tree's shape must be `limits.shape`.
    public init(local: MerkleTree, limits: AntiEntropyLimits = .defaults) {
        precondition(local.shape == limits.shape, "the local tree's shape \(local.shape) differs from the configured \(limits.shape)")
        precondition(limits.hashRequestIndicesMax > 0 && limits.segmentsPerRequestMax > 0 && limits.batchKeysMax > 0,
                     "anti-entropy request bounds must be positive: \(limits)")
        var tree = local
        tree.refresh()
        self.local = tree
        self.limits = limits
    }

    /// Begins the exchange: ask the peer for its root.
    public mutating func start() -> [Action] {
        precondition(state == .idle, "an exchange starts once; it is \(state)")
        state = .awaitingRoot
        stats.requests += 1
        return [.requestRoot]
    }

    /// Feeds one input; returns what to do next.
    public mutating func handle(_ input: Input) -> [Action] {
        switch (state, input) {
        case (.finished, _), (.failed, _):
            return []
        case (_, .failed(let reason)):
            return fail(.peerFailed(reason))
        case (.awaitingRoot, .remoteRoot(let hash, let shape)):
            return compareRoot(hash, shape: shape)
        case (.descending(let descent), .remoteHashes(let level, let hashes)):
            guard level == descent.level else {
                return fail(.unexpectedInput("hashes for level \(level) while comparing level \(descent.level)"))
            }
            return compareLevel(descent, remote: hashes)
        case (.listingSegments(let listing), .segmentKeys(let localKeys, let remoteKeys)):
            return compareSegments(listing, local: localKeys, remote: remoteKeys)
        default:
            return fail(.unexpectedInput("\(Self.name(of: input)) while \(Self.name(of: state))"))
        }
    }

    // MARK: - Transitions

    private mutating func compareRoot(_ remoteRoot: UInt64, shape: MerkleShape) -> [Action] {
        guard shape == local.shape else { return fail(.shapeMismatch(local: local.shape, remote: shape)) }
        stats.hashesReceived += 1
        stats.hashesCompared += 1
        guard remoteRoot != local.root else { return finish() }
        if local.shape.leafLevel == 0 { return listSegments([0]) }
        return descend(Descent(level: 1, requested: [], queued: Array(local.shape.childrenIndices(of: 0, level: 0)), differing: []))
    }

    private mutating func compareLevel(_ descent: Descent, remote: [Int: UInt64]) -> [Action] {
        var descent = descent
        let localHashes = local.hashes(level: descent.level, indices: descent.requested)
        let answered = descent.requested.filter { remote[$0] != nil }.count
        stats.hashesReceived += answered
        stats.hashesCompared += answered
        descent.differing += MerkleDiff.differingIndices(requested: descent.requested, local: localHashes, remote: remote)
        descent.requested = []
        if !descent.queued.isEmpty { return descend(descent) }
        if descent.differing.isEmpty { return finish() }
        let differing = descent.differing.sorted()
        if descent.level == local.shape.leafLevel { return listSegments(differing) }
        let children = differing.flatMap { local.shape.childrenIndices(of: $0, level: descent.level) }
        return descend(Descent(level: descent.level + 1, requested: [], queued: children, differing: []))
    }

    /// Asks for the next bounded slice of `descent.queued`.
    private mutating func descend(_ descent: Descent) -> [Action] {
        var descent = descent
        let count = min(limits.hashRequestIndicesMax, descent.queued.count)
        descent.requested = Array(descent.queued.prefix(count))
        descent.queued.removeFirst(count)
        state = .descending(descent)
        stats.requests += 1
        return [.requestHashes(level: descent.level, indices: descent.requested)]
    }

    private mutating func listSegments(_ segments: [Int]) -> [Action] {
        stats.segmentsDiffering = segments.count
        return requestNextSegments(SegmentListing(requested: [], queued: segments))
    }

    private mutating func requestNextSegments(_ listing: SegmentListing) -> [Action] {
        guard !listing.queued.isEmpty else { return finish() }
        var listing = listing
        let count = min(limits.segmentsPerRequestMax, listing.queued.count)
        listing.requested = Array(listing.queued.prefix(count))
        listing.queued.removeFirst(count)
        state = .listingSegments(listing)
        stats.requests += 1
        return [.requestSegmentKeys(segments: listing.requested)]
    }

    private mutating func compareSegments(_ listing: SegmentListing, local localKeys: [SegmentKey], remote remoteKeys: [SegmentKey]) -> [Action] {
        // Keys outside the requested segments are not this exchange's to repair; a peer
        // that sends them is confused, and ignoring them keeps repairs within the partition.
        let requested = Set(listing.requested)
        let inScope = { (entry: SegmentKey) in requested.contains(self.local.shape.segment(bucket: entry.bucket, key: entry.key)) }
        let remoteInScope = remoteKeys.filter(inScope)
        let localInScope = localKeys.filter(inScope)
        stats.keyEntriesReceived += remoteKeys.count
        stats.keyEntriesListedLocally += localKeys.count
        stats.keyEntriesIgnored += (remoteKeys.count - remoteInScope.count) + (localKeys.count - localInScope.count)
        let repairs = MerkleDiff.keysToRepair(local: localInScope, remote: remoteInScope)
        var actions: [Action] = []
        actions.reserveCapacity(repairs.count / limits.batchKeysMax + 2)
        for start in stride(from: 0, to: repairs.count, by: limits.batchKeysMax) {
            actions.append(.repair(keys: Array(repairs[start..<min(start + limits.batchKeysMax, repairs.count)])))
            stats.repairBatches += 1
        }
        for repair in repairs {
            switch (repair.localDigest, repair.remoteDigest) {
            case (nil, _): stats.keysMissingLocally += 1
            case (_, nil): stats.keysMissingRemotely += 1
            default: stats.keysDiffering += 1
            }
        }
        actions += requestNextSegments(SegmentListing(requested: [], queued: listing.queued))
        return actions
    }

    private mutating func finish() -> [Action] {
        state = .finished
        return [.finished(stats)]
    }

    private mutating func fail(_ failure: AntiEntropyFailure) -> [Action] {
        state = .failed(failure)
        return [.failed(failure, stats)]
    }

    private static func name(of input: Input) -> String {
        switch input {
        case .remoteRoot: return "a root"
        case .remoteHashes(let level, _): return "hashes for level \(level)"
        case .segmentKeys: return "segment keys"
        case .failed: return "a failure"
        }
    }

    private static func name(of state: State) -> String {
        switch state {
        case .idle: return "not started"
        case .awaitingRoot: return "awaiting the root"
        case .descending(let descent): return "comparing level \(descent.level)"
        case .listingSegments: return "comparing segment keys"
        case .finished: return "finished"
        case .failed: return "failed"
        }
    }
}

/// What one exchange moved and found, for `/status`, logs and the O(k log m) check.
public struct AntiEntropyStats: Sendable, Equatable {
    /// Requests sent to the peer (root, hash and segment-key requests): the round trips.
    public var requests = 0
    /// Tree hashes compared, the root included.
    public var hashesCompared = 0
    /// Tree hashes the peer sent, the root included.
    public var hashesReceived = 0
    /// Leaves found to differ.
    public var segmentsDiffering = 0
    /// (bucket, key, digest) entries the peer listed for differing segments.
    public var keyEntriesReceived = 0
    /// Entries the local store listed for differing segments (read locally, not sent).
    public var keyEntriesListedLocally = 0
    /// Entries outside the requested segments, dropped.
    public var keyEntriesIgnored = 0
    /// Keys only the peer holds.
    public var keysMissingLocally = 0
    /// Keys only this replica holds.
    public var keysMissingRemotely = 0
    /// Keys both hold with different digests.
    public var keysDiffering = 0
    /// `.repair` actions emitted.
    public var repairBatches = 0

    public init() {}

    /// Keys named in `.repair` actions.
    public var keysToRepair: Int { keysMissingLocally + keysMissingRemotely + keysDiffering }

    /// Hashes that crossed the network from the peer: tree hashes plus one digest per key
    /// entry it listed. The figure that grows like k·log m rather than m.
    public var hashesMoved: Int { hashesReceived + keyEntriesReceived }
}

/// Why an exchange stopped early.
public enum AntiEntropyFailure: Error, Sendable, Equatable {
    /// The peer's tree has another shape: its node indices mean other key ranges, so the
    /// trees can't be compared. The cluster's anti-entropy settings disagree.
    case shapeMismatch(local: MerkleShape, remote: MerkleShape)
    /// An input that doesn't answer the outstanding request (a confused peer or shell).
    case unexpectedInput(String)
    /// The request failed: the peer was unreachable or timed out, or the store failed.
    case peerFailed(String)

    public var message: String {
        switch self {
        case .shapeMismatch(let local, let remote):
            return "Merkle tree shapes differ: local \(local.segmentCount) segments × fan-out \(local.fanOut), peer \(remote.segmentCount) × \(remote.fanOut); use the same anti-entropy settings on every node"
        case .unexpectedInput(let what): return "unexpected anti-entropy input: \(what)"
        case .peerFailed(let reason): return "anti-entropy exchange failed: \(reason)"
        }
    }
}
