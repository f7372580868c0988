import XCTest
@testable import QuorumCore

final class AntiEntropyMerkleTreeTests: XCTestCase {
    private func entries(_ count: Int, seed: UInt64) -> [(keyHash: UInt64, digest: UInt64)] {
        var generator = AntiEntropyTestRandom(seed: seed)
        return (0..<count).map { index in (keyHash: AntiEntropyTestKey("k\(index)").keyHash, digest: generator.next()) }
    }

    private func ancestor(of segment: Int, level: Int, shape: MerkleShape) -> Int {
        var index = segment
        for _ in level..<shape.leafLevel { index /= shape.fanOut }
        return index
    }

    func testShapeLevelsAndChildren() {
        XCTAssertEqual(MerkleShape().levelSizes, [1, 32, 1024])
        XCTAssertEqual(MerkleShape(segmentCount: 2048, fanOut: 32).levelSizes, [1, 2, 64, 2048])
        XCTAssertEqual(MerkleShape(segmentCount: 1, fanOut: 32).levelSizes, [1])
        XCTAssertEqual(MerkleShape(segmentCount: 1, fanOut: 32).leafLevel, 0)
        let odd = MerkleShape(segmentCount: 64, fanOut: 5)
        XCTAssertEqual(odd.levelSizes, [1, 3, 13, 64])
        XCTAssertEqual(odd.childrenIndices(of: 12, level: 2), 60..<64, "the last node has fewer children")
        XCTAssertEqual(odd.childrenIndices(of: 2, level: 1), 10..<13)
        XCTAssertEqual(odd.childrenIndices(of: 0, level: 3), 0..<0, "segments have no children")
        XCTAssertEqual(odd.childrenIndices(of: 13, level: 2), 0..<0, "no such node")
        XCTAssertEqual(odd.childrenIndices(of: -1, level: 1), 0..<0)
        XCTAssertNil(MerkleShape(validatingSegmentCount: 1000, fanOut: 32), "not a power of two")
        XCTAssertNil(MerkleShape(validatingSegmentCount: 1024, fanOut: 1))
        XCTAssertNil(MerkleShape(validatingSegmentCount: 0, fanOut: 32))
        XCTAssertEqual(MerkleShape(validatingSegmentCount: 1024, fanOut: 32), MerkleShape())
        XCTAssertEqual(AntiEntropyLimits.defaults.shape, MerkleShape())
    }

    func testEmptyTreesHaveTheSameWellDefinedRoot() {
        for shape in [MerkleShape(), MerkleShape(segmentCount: 1, fanOut: 2), MerkleShape(segmentCount: 64, fanOut: 5)] {
            var first = MerkleTree(shape: shape)
            var second = MerkleTree(shape: shape, entries: [])
            XCTAssertEqual(first.root, second.root)
            XCTAssertEqual(first.root, MerkleTree.emptyRoot(shape: shape))
            XCTAssertEqual(first.keyCount, 0)
        }
        // Pinned: a peer running another build must compute the same hashes, so any change
        // to the hashing is a wire-format change and must fail here first.
        XCTAssertEqual(MerkleTree.emptyRoot(shape: MerkleShape()), 0xe1e6_9404_2c89_edeb)
        let pair: [(keyHash: UInt64, digest: UInt64)] = [(AntiEntropyTestKey("a").keyHash, 1), (AntiEntropyTestKey("b").keyHash, 2)]
        var known = MerkleTree(entries: pair)
        XCTAssertEqual(known.root, 0x7926_6d3e_ab96_a970)
    }

    func testInsertionOrderDoesNotChangeTheRoot() {
        var generator = AntiEntropyTestRandom(seed: 42)
        for shape in [MerkleShape(), MerkleShape(segmentCount: 16, fanOut: 4), MerkleShape(segmentCount: 1, fanOut: 2)] {
            let all = entries(3000, seed: 7)
            var built = MerkleTree(shape: shape, entries: all)
            let expected = built.root
            for round in 0..<5 {
                let shuffled = all.shuffled(using: &generator)
                var rebuilt = MerkleTree(shape: shape, entries: shuffled)
                XCTAssertEqual(rebuilt.root, expected, "shape \(shape.levelSizes), shuffle \(round)")
                var updated = MerkleTree(shape: shape)
                for (index, entry) in shuffled.enumerated() {
                    updated.update(keyHash: entry.keyHash, old: nil, new: entry.digest)
                    if index % 500 == 0 { _ = updated.root }  // interleave reads with lazy recomputation
                }
                XCTAssertEqual(updated.root, expected, "built by updates, shape \(shape.levelSizes), shuffle \(round)")
                XCTAssertEqual(updated.keyCount, all.count)
            }
        }
    }

    func testUpdatingThenRevertingAKeyRestoresTheRoot() {
        let all = entries(500, seed: 3)
        var tree = MerkleTree(entries: all)
        let original = tree.root
        let target = all[17]
        tree.update(keyHash: target.keyHash, old: target.digest, new: 99)
        XCTAssertTrue(tree.needsRefresh)
        let changed = tree.root
        XCTAssertFalse(tree.needsRefresh)
        XCTAssertNotEqual(changed, original, "a new digest changes the root")
        tree.update(keyHash: target.keyHash, old: 99, new: target.digest)
        XCTAssertEqual(tree.root, original, "reverting restores it")

        tree.update(keyHash: target.keyHash, old: target.digest, new: nil)
        XCTAssertNotEqual(tree.root, original, "removing a key changes the root")
        XCTAssertEqual(tree.keyCount, all.count - 1)
        tree.update(keyHash: target.keyHash, old: nil, new: target.digest)
        XCTAssertEqual(tree.root, original, "putting it back restores it")

        let extra = AntiEntropyTestKey("extra").keyHash
        tree.update(keyHash: extra, old: nil, new: 5)
        XCTAssertNotEqual(tree.root, original)
        tree.update(keyHash: extra, old: 5, new: nil)
        XCTAssertEqual(tree.root, original)
        XCTAssertEqual(tree.keyCount, all.count)
    }

    func testAnyOneChangeChangesEveryHashOnItsPath() {
        let shape = MerkleShape()
        var tree = MerkleTree(shape: shape, entries: entries(2000, seed: 11))
        let key = AntiEntropyTestKey("k5")
        let segment = shape.segment(forKeyHash: key.keyHash)
        let before = (0...shape.leafLevel).map { level in tree.hash(level: level, index: ancestor(of: segment, level: level, shape: shape))! }
        var generator = AntiEntropyTestRandom(seed: 11)
        let digest = (0..<6).map { _ in generator.next() }[5]  // k5's digest in `entries`
        tree.update(keyHash: key.keyHash, old: digest, new: digest &+ 1)
        let after = (0...shape.leafLevel).map { level in tree.hash(level: level, index: ancestor(of: segment, level: level, shape: shape))! }
        for level in 0...shape.leafLevel { XCTAssertNotEqual(before[level], after[level], "level \(level)") }
        XCTAssertEqual(tree.segmentHash(segment), after[shape.leafLevel])
    }

    func testHashesLeaveOutNodesTheLevelDoesNotHave() {
        var tree = MerkleTree(entries: entries(100, seed: 1))
        XCTAssertEqual(tree.hashes(level: 1, indices: [0, 31, 32, -1]).keys.sorted(), [0, 31])
        XCTAssertEqual(tree.hashes(level: 7, indices: [0]), [:])
        XCTAssertEqual(tree.hashes(level: 0, indices: [0]), [0: tree.root])
        XCTAssertNil(tree.hash(level: 2, index: 1024))
    }

    func testSegmentsSpreadTheKeysOfOnePartition() {
        // Every key of a partition shares the hash's top bits (that is how the ring places
        // it), so segments must come from other bits or one partition's tree would use
        // only segmentCount / partitionCount of its leaves.
        let ring = Ring(members: ["a"], partitionCount: 64)
        let shape = MerkleShape()
        var used = Set<Int>()
        var inPartition = 0
        for index in 0..<40_000 {
            let hash = AntiEntropyTestKey("key-\(index)").keyHash
            guard ring.partition(forHash: hash) == 5 else { continue }
            inPartition += 1
            used.insert(shape.segment(forKeyHash: hash))
        }
        // ~625 keys over 1024 segments fill about 1024·(1 − e^(−0.61)) ≈ 468 of them.
        XCTAssertGreaterThan(used.count, 400, "\(inPartition) keys of one partition used only \(used.count) segments")
    }

    func testVersionDigestFollowsTheEncodedState() throws {
        let limits = Limits.defaults
        let intent = WriteIntent(value: Array("v".utf8), contentType: "text/plain")
        let stamp = HLCTimestamp(physicalMilliseconds: 10, logical: 0)
        let first = try KeyState().applying(intent, actor: "a", timestamp: stamp, mode: .vclock, limits: limits)
        let same = try KeyState().applying(intent, actor: "a", timestamp: stamp, mode: .vclock, limits: limits)
        XCTAssertEqual(MerkleTree.versionDigest(of: first), MerkleTree.versionDigest(of: same))
        let deleted = try first.applying(.delete(context: first.context), actor: "a", timestamp: stamp, mode: .vclock, limits: limits)
        XCTAssertNotEqual(MerkleTree.versionDigest(of: first), MerkleTree.versionDigest(of: deleted))
        // A state decoded from storage digests like the one that was written.
        XCTAssertEqual(MerkleTree.versionDigest(of: try KeyState(decoding: deleted.encoded())), MerkleTree.versionDigest(of: deleted))
        XCTAssertEqual(MerkleTree.versionDigest(of: first), StableHash.hash(first.encoded()))
    }
}
