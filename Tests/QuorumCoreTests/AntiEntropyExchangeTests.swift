import XCTest
@testable import QuorumCore

final class AntiEntropyExchangeTests: XCTestCase {
    private let limits = AntiEntropyLimits.defaults

    private func limits(segmentCount: Int, fanOut: Int) -> AntiEntropyLimits {
        var limits = AntiEntropyLimits()
        limits.segmentCount = segmentCount
        limits.fanOut = fanOut
        return limits
    }

    private func replica(_ pairs: [(String, UInt64)], shape: MerkleShape = MerkleShape()) -> AntiEntropyTestReplica {
        AntiEntropyTestReplica(shape: shape, digests: Dictionary(uniqueKeysWithValues: pairs.map { (AntiEntropyTestKey($0.0), $0.1) }))
    }

    private func repair(_ key: String, local: UInt64?, remote: UInt64?) -> RepairKey {
        RepairKey(bucket: "b", key: Array(key.utf8), localDigest: local, remoteDigest: remote)
    }

    // MARK: - Edge cases

    func testEmptyTreesAreEqualAfterTheRootAlone() {
        var local = AntiEntropyTestReplica()
        var remote = AntiEntropyTestReplica()
        let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: limits)
        var stats = AntiEntropyStats()
        stats.requests = 1
        stats.hashesReceived = 1
        stats.hashesCompared = 1
        XCTAssertEqual(run.actions, [.requestRoot, .finished(stats)])
        XCTAssertEqual(run.stats.hashesMoved, 1)
    }

    func testOneKeyTreesThatAgreeFinishAfterTheRoot() {
        var local = replica([("only", 7)])
        var remote = replica([("only", 7)])
        let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: limits)
        XCTAssertEqual(run.actions.count, 2)
        XCTAssertEqual(run.actions.first, .requestRoot)
        XCTAssertTrue(run.repairs.isEmpty)
        XCTAssertEqual(run.stats.requests, 1)
    }

    func testOneKeyOnOneSideIsRepairedInEitherDirection() {
        var holder = replica([("only", 7)])
        var empty = AntiEntropyTestReplica()
        let pushed = runAntiEntropyExchange(local: &holder, remote: &empty, limits: limits)
        XCTAssertEqual(pushed.repairs, [repair("only", local: 7, remote: nil)])
        XCTAssertEqual(pushed.stats.keysMissingRemotely, 1)
        let pulled = runAntiEntropyExchange(local: &empty, remote: &holder, limits: limits)
        XCTAssertEqual(pulled.repairs, [repair("only", local: nil, remote: 7)])
        XCTAssertEqual(pulled.stats.keysMissingLocally, 1)
        // One path down: root, 32 level-1 hashes, 32 segment hashes, one segment listing.
        XCTAssertEqual(pulled.stats.hashesReceived, 1 + 32 + 32)
        XCTAssertEqual(pulled.stats.segmentsDiffering, 1)
        XCTAssertEqual(pulled.stats.requests, 4)
        XCTAssertEqual(pulled.stats.keyEntriesReceived, 1)
    }

    func testOneKeyWithDifferentDigestsIsRepaired() {
        var local = replica([("only", 7)])
        var remote = replica([("only", 8)])
        let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: limits)
        XCTAssertEqual(run.repairs, [repair("only", local: 7, remote: 8)])
        XCTAssertEqual(run.stats.keysDiffering, 1)
        XCTAssertNil(run.failure)
    }

    func testEveryKeyDifferentIsRepairedInBoundedBatches() {
        let count = 3000
        var local = replica((0..<count).map { ("key-\($0)", UInt64($0)) })
        var remote = replica((0..<count).map { ("key-\($0)", UInt64($0) + 1) })
        var bounded = limits
        bounded.hashRequestIndicesMax = 100
        let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: bounded)
        XCTAssertEqual(Set(run.repairs), expectedAntiEntropyRepairs(local: local, remote: remote))
        XCTAssertEqual(run.repairs.count, count)
        XCTAssertEqual(run.stats.keysDiffering, count)
        XCTAssertEqual(run.stats.repairBatches, run.actions.filter { if case .repair = $0 { return true } else { return false } }.count)
        // Every segment differs: the exchange asks for all 1024 leaves, 100 at a time.
        let leafRequests = run.actions.filter { if case .requestHashes(2, _) = $0 { return true } else { return false } }
        XCTAssertEqual(leafRequests.count, 11)

        // Disjoint key sets: everything is missing somewhere.
        var left = replica((0..<count).map { ("left-\($0)", 1) })
        var right = replica((0..<count).map { ("right-\($0)", 1) })
        let disjoint = runAntiEntropyExchange(local: &left, remote: &right, limits: limits)
        XCTAssertEqual(Set(disjoint.repairs), expectedAntiEntropyRepairs(local: left, remote: right))
        XCTAssertEqual(disjoint.stats.keysMissingLocally, count)
        XCTAssertEqual(disjoint.stats.keysMissingRemotely, count)
    }

    func testRepairBatchesNeverExceedTheBound() {
        var local = replica((0..<1000).map { ("key-\($0)", 1) })
        var remote = AntiEntropyTestReplica()
        var small = limits
        small.batchKeysMax = 7
        small.segmentsPerRequestMax = 3
        let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: small)  // the runner asserts each bound
        let batches = run.actions.compactMap { action -> [RepairKey]? in
            if case .repair(let keys) = action { return keys } else { return nil }
        }
        XCTAssertTrue(batches.allSatisfy { $0.count <= 7 && !$0.isEmpty })
        XCTAssertEqual(run.repairs.count, 1000)
        XCTAssertEqual(Set(run.repairs).count, 1000, "each key once")
    }

    // MARK: - Cost: O(k log m), not m

    /// m = 100 000 keys, default shape (1024 segments, fan-out 32), seed 2024. Measured
    /// with this test (it prints these lines):
    ///
    ///     k (differing keys)   tree hashes   key entries   hashes moved   % of m   requests
    ///     1                      65              88             153         0.15       4
    ///     10                    353             970            1323         1.32       4
    ///     100                   993            9166           10159        10.2        9
    ///     1000                 1057           62078           63135        63.1       43
    ///
    /// Tree hashes grow like k·fanOut·(depth − 1) until every level-1 node differs
    /// (k ≳ 32), then stop at 1 + 32 + 1024. The peer's key lists for differing segments
    /// (≈ m / 1024 keys each) dominate from k ≈ 1 on; more segments per partition shrink
    /// that term for large partitions.
    func testKOfMDifferingKeysMoveFewHashes() {
        let m = 100_000
        var generator = AntiEntropyTestRandom(seed: 2024)
        var base: [AntiEntropyTestKey: UInt64] = [:]
        base.reserveCapacity(m)
        for index in 0..<m { base[AntiEntropyTestKey("key-\(index)")] = generator.next() }
        let original = AntiEntropyTestReplica(digests: base)
        var figures: [String] = []
        for k in [1, 10, 100, 1000] {
            var local = original
            var remote = original
            // k differences: a third are digests that differ, a third are missing on the
            // remote, a third are missing locally.
            var chosen = Set<Int>()
            while chosen.count < k { chosen.insert(Int(generator.next() % UInt64(m))) }
            for (position, index) in chosen.sorted().enumerated() {
                let key = AntiEntropyTestKey("key-\(index)")
                switch position % 3 {
                case 0: remote.set(key, base[key]! &+ 1)
                case 1: remote.set(key, nil)
                default: local.set(key, nil)
                }
            }
            let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: limits)
            let expected = expectedAntiEntropyRepairs(local: local, remote: remote)
            XCTAssertEqual(expected.count, k)
            XCTAssertEqual(Set(run.repairs), expected, "k=\(k): exactly the differing keys")
            XCTAssertEqual(run.repairs.count, k)
            let stats = run.stats
            let percent = Double(stats.hashesMoved) * 100 / Double(m)
            let figure = "k=\(k) m=\(m): \(stats.hashesReceived) tree hashes + \(stats.keyEntriesReceived) key entries = \(stats.hashesMoved) hashes moved (\(percent)% of m), \(stats.requests) requests, \(stats.segmentsDiffering) segments"
            figures.append(figure)
            XCTAssertLessThanOrEqual(stats.hashesReceived, 1 + 32 + 32 * min(k, 32), figure)
            if k <= 10 {
                XCTAssertLessThan(stats.hashesMoved, m * 5 / 100, figure)
            }
        }
        print(figures.joined(separator: "\n"))
    }

    // MARK: - Protocol steps

    func testStepsDescendOnlyBelowDifferingNodes() {
        let shape = MerkleShape(segmentCount: 16, fanOut: 4)
        let bounds = limits(segmentCount: 16, fanOut: 4)
        var local = replica([("a", 1), ("b", 2), ("c", 3)], shape: shape)
        var remote = replica([("a", 1), ("b", 2)], shape: shape)
        let segment = shape.segment(forKeyHash: AntiEntropyTestKey("c").keyHash)
        let parent = segment / 4

        var exchange = AntiEntropyExchange(local: local.tree, limits: bounds)
        XCTAssertEqual(exchange.state, .idle)
        XCTAssertEqual(exchange.start(), [.requestRoot])
        XCTAssertEqual(exchange.state, .awaitingRoot)

        XCTAssertEqual(exchange.handle(.remoteRoot(hash: remote.root, shape: shape)), [.requestHashes(level: 1, indices: [0, 1, 2, 3])])
        var remoteTree = remote.tree
        let children = Array(parent * 4..<parent * 4 + 4)
        XCTAssertEqual(exchange.handle(.remoteHashes(level: 1, hashes: remoteTree.hashes(level: 1, indices: 0..<4))),
                       [.requestHashes(level: 2, indices: children)])
        XCTAssertEqual(exchange.handle(.remoteHashes(level: 2, hashes: remoteTree.hashes(level: 2, indices: children))),
                       [.requestSegmentKeys(segments: [segment])])
        XCTAssertEqual(exchange.state, .listingSegments(.init(requested: [segment], queued: [])))

        let actions = exchange.handle(.segmentKeys(local: local.keys(inSegments: [segment]), remote: remote.keys(inSegments: [segment])))
        var stats = AntiEntropyStats()
        stats.requests = 4
        stats.hashesReceived = 1 + 4 + 4
        stats.hashesCompared = 9
        stats.segmentsDiffering = 1
        stats.keyEntriesReceived = remote.keys(inSegments: [segment]).count
        stats.keyEntriesListedLocally = local.keys(inSegments: [segment]).count
        stats.keysMissingRemotely = 1
        stats.repairBatches = 1
        XCTAssertEqual(actions, [.repair(keys: [repair("c", local: 3, remote: nil)]), .finished(stats)])
        XCTAssertEqual(exchange.state, .finished)
        XCTAssertEqual(exchange.handle(.remoteRoot(hash: 0, shape: shape)), [], "late replies are ignored")
    }

    func testAOneSegmentTreeListsItsKeysAfterTheRoot() {
        let shape = MerkleShape(segmentCount: 1, fanOut: 2)
        var local = replica([("a", 1)], shape: shape)
        var remote = replica([("a", 2)], shape: shape)
        let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: limits(segmentCount: 1, fanOut: 2))
        XCTAssertEqual(run.actions.prefix(3), [.requestRoot, .requestSegmentKeys(segments: [0]), .repair(keys: [repair("a", local: 1, remote: 2)])])
    }

    func testAShortAnswerCannotHideADifference() {
        let shape = MerkleShape(segmentCount: 16, fanOut: 4)
        let local = replica((0..<40).map { ("key-\($0)", 1) }, shape: shape)
        var exchange = AntiEntropyExchange(local: local.tree, limits: limits(segmentCount: 16, fanOut: 4))
        _ = exchange.start()
        XCTAssertEqual(exchange.handle(.remoteRoot(hash: 12345, shape: shape)), [.requestHashes(level: 1, indices: [0, 1, 2, 3])])
        // The peer answers nothing: every node counts as differing.
        XCTAssertEqual(exchange.handle(.remoteHashes(level: 1, hashes: [:])), [.requestHashes(level: 2, indices: Array(0..<16))])
        XCTAssertEqual(exchange.handle(.remoteHashes(level: 2, hashes: [3: 0])), [.requestSegmentKeys(segments: Array(0..<16))])
        XCTAssertEqual(exchange.stats.hashesReceived, 2, "the root and the one hash it did send")
    }

    func testKeysOutsideTheRequestedSegmentsAreIgnored() {
        let shape = MerkleShape(segmentCount: 16, fanOut: 4)
        var local = replica([("a", 1)], shape: shape)
        var remote = replica([("a", 2)], shape: shape)
        let segment = shape.segment(forKeyHash: AntiEntropyTestKey("a").keyHash)
        let stray = (0..<100).map { AntiEntropyTestKey("stray-\($0)") }.first { shape.segment(forKeyHash: $0.keyHash) != segment }!
        var exchange = AntiEntropyExchange(local: local.tree, limits: limits(segmentCount: 16, fanOut: 4))
        var pending = exchange.start()
        var repairs: [RepairKey] = []
        while let action = pending.first {
            pending.removeFirst()
            switch action {
            case .requestRoot: pending += exchange.handle(.remoteRoot(hash: remote.root, shape: shape))
            case .requestHashes(let level, let indices):
                var tree = remote.tree
                pending += exchange.handle(.remoteHashes(level: level, hashes: tree.hashes(level: level, indices: indices)))
            case .requestSegmentKeys(let segments):
                let extra = SegmentKey(bucket: stray.bucket, key: stray.key, digest: 9)
                pending += exchange.handle(.segmentKeys(local: local.keys(inSegments: segments), remote: remote.keys(inSegments: segments) + [extra]))
            case .repair(let keys): repairs += keys
            case .finished(let stats): XCTAssertEqual(stats.keyEntriesIgnored, 1)
            case .failed(let failure, _): XCTFail("\(failure)")
            }
        }
        XCTAssertEqual(repairs, [repair("a", local: 1, remote: 2)])
    }

    // MARK: - Failures

    func testAPeerWithAnotherShapeFailsTheExchange() {
        var exchange = AntiEntropyExchange(local: MerkleTree(), limits: limits)
        _ = exchange.start()
        let other = MerkleShape(segmentCount: 512, fanOut: 32)
        let actions = exchange.handle(.remoteRoot(hash: MerkleTree.emptyRoot(shape: other), shape: other))
        XCTAssertEqual(actions, [.failed(.shapeMismatch(local: MerkleShape(), remote: other), AntiEntropyStats(requests: 1))])
        XCTAssertEqual(exchange.state, .failed(.shapeMismatch(local: MerkleShape(), remote: other)))
        XCTAssertEqual(exchange.handle(.remoteRoot(hash: 0, shape: MerkleShape())), [], "a failed exchange ignores what comes later")
    }

    func testUnexpectedInputsAndPeerFailuresEndTheExchange() {
        var exchange = AntiEntropyExchange(local: MerkleTree(), limits: limits)
        _ = exchange.start()
        guard case .failed(.unexpectedInput(let what), _)? = exchange.handle(.segmentKeys(local: [], remote: [])).first else {
            return XCTFail("segment keys while awaiting the root must fail")
        }
        XCTAssertEqual(what, "segment keys while awaiting the root")

        var wrongLevel = AntiEntropyExchange(local: MerkleTree(), limits: limits)
        _ = wrongLevel.start()
        _ = wrongLevel.handle(.remoteRoot(hash: 1, shape: MerkleShape()))
        XCTAssertEqual(wrongLevel.handle(.remoteHashes(level: 2, hashes: [:])),
                       [.failed(.unexpectedInput("hashes for level 2 while comparing level 1"), AntiEntropyStats(requests: 2, hashesCompared: 1, hashesReceived: 1))])

        var timedOut = AntiEntropyExchange(local: MerkleTree(), limits: limits)
        _ = timedOut.start()
        XCTAssertEqual(timedOut.handle(.failed("peer b timed out")), [.failed(.peerFailed("peer b timed out"), AntiEntropyStats(requests: 1))])
    }

    // MARK: - Property: the diff is exactly the symmetric difference

    func testRandomWorkloadsRepairExactlyTheSymmetricDifference() {
        let shapes = [MerkleShape(), MerkleShape(segmentCount: 16, fanOut: 4), MerkleShape(segmentCount: 1, fanOut: 2),
                      MerkleShape(segmentCount: 64, fanOut: 5), MerkleShape(segmentCount: 256, fanOut: 16)]
        for seed in UInt64(1)...60 {
            var generator = AntiEntropyTestRandom(seed: seed)
            let shape = shapes[Int(generator.next() % UInt64(shapes.count))]
            var bounds = limits(segmentCount: shape.segmentCount, fanOut: shape.fanOut)
            bounds.hashRequestIndicesMax = 1 + Int(generator.next() % 64)
            bounds.segmentsPerRequestMax = 1 + Int(generator.next() % 8)
            bounds.batchKeysMax = 1 + Int(generator.next() % 50)
            let keyCount = Int(generator.next() % 3000)
            let differencePercent = generator.next() % 101  // from identical to all different
            var local = AntiEntropyTestReplica(shape: shape)
            var remote = AntiEntropyTestReplica(shape: shape)
            for index in 0..<keyCount {
                let key = AntiEntropyTestKey(bucket: index % 3 == 0 ? "b" : "other", "key-\(seed)-\(index)")
                let digest = generator.next()
                guard generator.next() % 100 < differencePercent else {
                    local.set(key, digest)
                    remote.set(key, digest)
                    continue
                }
                switch generator.next() % 3 {
                case 0: local.set(key, digest); remote.set(key, digest &+ 1)
                case 1: local.set(key, digest)
                default: remote.set(key, digest)
                }
            }
            let context = "seed \(seed), shape \(shape.levelSizes), \(keyCount) keys, \(differencePercent)% different, bounds \(bounds.hashRequestIndicesMax)/\(bounds.segmentsPerRequestMax)/\(bounds.batchKeysMax)"
            let expected = expectedAntiEntropyRepairs(local: local, remote: remote)
            let run = runAntiEntropyExchange(local: &local, remote: &remote, limits: bounds)
            XCTAssertNil(run.failure, context)
            XCTAssertEqual(run.repairs.count, expected.count, "each key once; \(context)")
            XCTAssertEqual(Set(run.repairs), expected, context)

            // Repairing every named key (both sides take the merge) makes the trees equal,
            // and the next exchange stops at the root.
            for repair in run.repairs {
                let merged = (repair.localDigest ?? 0) ^ (repair.remoteDigest ?? 0) ^ 0xabcdef
                let key = AntiEntropyTestKey(bucket: repair.bucket, String(decoding: repair.key, as: UTF8.self))
                local.set(key, merged)
                remote.set(key, merged)
            }
            XCTAssertEqual(local.root, remote.root, context)
            let again = runAntiEntropyExchange(local: &local, remote: &remote, limits: bounds)
            XCTAssertEqual(again.actions.count, 2, "converged; \(context)")
            XCTAssertTrue(again.repairs.isEmpty, context)
        }
    }
}

extension AntiEntropyStats {
    init(requests: Int, hashesCompared: Int = 0, hashesReceived: Int = 0) {
        self.init()
        self.requests = requests
        self.hashesCompared = hashesCompared
        self.hashesReceived = hashesReceived
    }
}
