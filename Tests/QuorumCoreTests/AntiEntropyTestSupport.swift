import XCTest
@testable import QuorumCore

/// The shared seeded generator, so every random workload replays from its seed.
typealias AntiEntropyTestRandom = SplitMix64

struct AntiEntropyTestKey: Hashable, Comparable {
    var bucket: String
    var key: [UInt8]

    init(bucket: String = "b", _ text: String) {
        self.bucket = bucket
        self.key = Array(text.utf8)
    }

    var keyHash: UInt64 { StableHash.keyHash(bucket: bucket, key: key) }

    static func < (lhs: AntiEntropyTestKey, rhs: AntiEntropyTestKey) -> Bool {
        lhs.bucket != rhs.bucket ? lhs.bucket < rhs.bucket : lhs.key.lexicographicallyPrecedes(rhs.key)
    }
}

/// A replica as anti-entropy sees it: its keys' digests, its tree kept current by
/// `set`, and the per-segment key lists a store would scan.
struct AntiEntropyTestReplica {
    let shape: MerkleShape
    private(set) var digests: [AntiEntropyTestKey: UInt64] = [:]
    private(set) var tree: MerkleTree
    private var segments: [[AntiEntropyTestKey: UInt64]]

    init(shape: MerkleShape = MerkleShape(), digests: [AntiEntropyTestKey: UInt64] = [:]) {
        self.shape = shape
        self.digests = digests
        self.segments = Array(repeating: [:], count: shape.segmentCount)
        for (key, digest) in digests { segments[shape.segment(forKeyHash: key.keyHash)][key] = digest }
        self.tree = MerkleTree(shape: shape, entries: digests.map { (keyHash: $0.key.keyHash, digest: $0.value) })
    }

    /// A write (or a purge, with nil), updating the tree the way the store's shell would.
    mutating func set(_ key: AntiEntropyTestKey, _ digest: UInt64?) {
        let hash = key.keyHash
        tree.update(keyHash: hash, old: digests[key], new: digest)
        digests[key] = digest
        segments[shape.segment(forKeyHash: hash)][key] = digest
    }

    func keys(inSegments requested: [Int]) -> [SegmentKey] {
        requested.flatMap { segment in
            segments[segment].map { SegmentKey(bucket: $0.key.bucket, key: $0.key.key, digest: $0.value) }
        }
    }

    var root: UInt64 {
        mutating get { tree.root }
    }
}

/// Everything one exchange did, as the shell would have seen it.
struct AntiEntropyExchangeRun {
    var actions: [AntiEntropyExchange.Action] = []
    var repairs: [RepairKey] = []
    var stats = AntiEntropyStats()
    var failure: AntiEntropyFailure?
}

/// Runs one exchange from `local` against `remote`, answering every request from the
/// replicas' trees and key lists, and checks every bound on the way.
func runAntiEntropyExchange(
    local: inout AntiEntropyTestReplica, remote: inout AntiEntropyTestReplica, limits: AntiEntropyLimits,
    file: StaticString = #filePath, line: UInt = #line
) -> AntiEntropyExchangeRun {
    var exchange = AntiEntropyExchange(local: local.tree, limits: limits)
    var run = AntiEntropyExchangeRun()
    var pending = exchange.start()
    var steps = 0
    while !pending.isEmpty {
        steps += 1
        precondition(steps < 1_000_000, "exchange does not end")
        let action = pending.removeFirst()
        run.actions.append(action)
        switch action {
        case .requestRoot:
            pending += exchange.handle(.remoteRoot(hash: remote.root, shape: remote.tree.shape))
        case .requestHashes(let level, let indices):
            XCTAssertLessThanOrEqual(indices.count, limits.hashRequestIndicesMax, "hash request too wide", file: file, line: line)
            XCTAssertFalse(indices.isEmpty, "empty hash request", file: file, line: line)
            var tree = remote.tree
            pending += exchange.handle(.remoteHashes(level: level, hashes: tree.hashes(level: level, indices: indices)))
        case .requestSegmentKeys(let segments):
            XCTAssertLessThanOrEqual(segments.count, limits.segmentsPerRequestMax, "segment request too wide", file: file, line: line)
            XCTAssertFalse(segments.isEmpty, "empty segment request", file: file, line: line)
            pending += exchange.handle(.segmentKeys(local: local.keys(inSegments: segments), remote: remote.keys(inSegments: segments)))
        case .repair(let keys):
            XCTAssertLessThanOrEqual(keys.count, limits.batchKeysMax, "repair batch over the bound", file: file, line: line)
            XCTAssertFalse(keys.isEmpty, "empty repair batch", file: file, line: line)
            run.repairs += keys
        case .finished(let stats):
            run.stats = stats
            XCTAssertTrue(pending.isEmpty, "actions after finished", file: file, line: line)
            XCTAssertEqual(exchange.state, .finished, file: file, line: line)
        case .failed(let failure, let stats):
            run.stats = stats
            run.failure = failure
        }
    }
    XCTAssertEqual(run.stats.keysToRepair, run.repairs.count, "stats count every repair", file: file, line: line)
    return run
}

/// The repairs a correct exchange must name: every key whose (key, digest) pair is in
/// the symmetric difference of the two replicas' sets, with both sides' digests.
func expectedAntiEntropyRepairs(local: AntiEntropyTestReplica, remote: AntiEntropyTestReplica) -> Set<RepairKey> {
    var result = Set<RepairKey>()
    for key in Set(local.digests.keys).union(remote.digests.keys) where local.digests[key] != remote.digests[key] {
        result.insert(RepairKey(bucket: key.bucket, key: key.key, localDigest: local.digests[key], remoteDigest: remote.digests[key]))
    }
    return result
}
