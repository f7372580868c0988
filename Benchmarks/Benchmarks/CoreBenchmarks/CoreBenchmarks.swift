import Benchmark
import QuorumCore

/// The pure core's hot paths: every request does a ring lookup and a clock merge; every
/// write updates a Merkle tree; every peer message is a frame.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        maxDuration: .seconds(2),
        maxIterations: 1_000_000)

    let keys: [[UInt8]] = (0..<4_096).map { Array("qkvbench:\($0)".utf8) }
    let members = (1...5).map { "node\($0)" }
    let ring = Ring(members: members, partitionCount: 64)

    Benchmark("Ring: preference list (n=3) for a key") { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(ring.preferenceList(bucket: "default", key: keys[index & 4_095], n: 3))
            index &+= 1
        }
    }

    Benchmark("Ring: key hash and partition") { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(ring.partition(bucket: "default", key: keys[index & 4_095]))
            index &+= 1
        }
    }

    let left = VersionVector(entries: members.prefix(3).enumerated().map { .init(actor: $1, counter: UInt64($0 + 5)) })
    let right = VersionVector(entries: members.suffix(3).enumerated().map { .init(actor: $1, counter: UInt64($0 + 3)) })
    Benchmark("Clock: version vector compare (descends)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(left.descends(right))
            blackHole(right.descends(left))
        }
    }

    Benchmark("Clock: version vector merge") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(left.merged(with: right)) }
    }

    Benchmark("Clock: hybrid logical clock tick and observe") { benchmark in
        var clock = HybridLogicalClock()
        var now: UInt64 = 1_700_000_000_000
        for _ in benchmark.scaledIterations {
            now &+= 1
            blackHole(clock.tick(nowMilliseconds: now))
            clock.observe(HLCTimestamp(physicalMilliseconds: now, logical: 3), nowMilliseconds: now)
        }
    }

    let value = [UInt8](repeating: 0x78, count: 100)
    func state(_ actor: String, _ counter: UInt64, _ millis: UInt64) -> KeyState {
        let dot = Dot(actor: actor, counter: counter)
        return KeyState(
            clock: VersionVector(entries: [.init(actor: actor, counter: counter)]),
            siblings: [
                Sibling(
                    dot: dot, value: value, contentType: "application/octet-stream", isTombstone: false,
                    timestamp: HLCTimestamp(physicalMilliseconds: millis, logical: 0))
            ])
    }
    let older = state("node1", 4, 1_700_000_000_000)
    let newer = state("node2", 7, 1_700_000_000_005)
    Benchmark("Clock: key state merge (lww, 100-byte values)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(older.merged(with: newer, mode: .lww)) }
    }

    Benchmark("Codec: key state encode and decode (100-byte value)") { benchmark in
        for _ in benchmark.scaledIterations {
            let bytes = newer.encoded()
            blackHole(try? KeyState(decoding: bytes))
        }
    }

    let entries: [(keyHash: UInt64, digest: UInt64)] = (0..<100_000).map { index in
        (StableHash.keyHash(bucket: "default", key: Array("qkvbench:\(index)".utf8)), UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
    }
    Benchmark(
        "Merkle: build a tree of 100 000 keys",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(3), maxIterations: 200)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            var tree = MerkleTree(entries: entries)
            blackHole(tree.root)
        }
    }

    Benchmark("Merkle: update one key and read the root") { benchmark in
        var tree = MerkleTree(entries: entries)
        var index = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let entry = entries[index % entries.count]
            tree.update(keyHash: entry.keyHash, old: entry.digest, new: entry.digest &+ 1)
            tree.update(keyHash: entry.keyHash, old: entry.digest &+ 1, new: entry.digest)
            blackHole(tree.root)
            index &+= 1
        }
    }

    // Two segments' key lists (about 100 keys each, as with 100 000 keys in 1 024 segments)
    // differing in 10 keys.
    let localKeys = (0..<100).map { SegmentKey(bucket: "default", key: keys[$0], digest: UInt64($0)) }
    let remoteKeys = (0..<100).map { SegmentKey(bucket: "default", key: keys[$0], digest: $0 % 10 == 0 ? UInt64($0) + 1 : UInt64($0)) }
    Benchmark("Merkle: diff two segments of 100 keys (10 differ)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(MerkleDiff.keysToRepair(local: localKeys, remote: remoteKeys)) }
    }

    var treeA = MerkleTree(entries: entries)
    var treeB = MerkleTree(entries: entries.enumerated().map { $0.offset % 10_000 == 0 ? ($0.element.keyHash, 1) : $0.element })
    let levelOne = Array(0..<treeA.shape.nodeCount(level: 1))
    let hashesA = treeA.hashes(level: 1, indices: levelOne)
    let hashesB = treeB.hashes(level: 1, indices: levelOne)
    Benchmark("Merkle: compare one tree level (10 differing keys in 100 000)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(MerkleDiff.differingIndices(requested: levelOne, local: hashesA, remote: hashesB))
        }
    }

    let payload = newer.encoded()
    Benchmark("Frame: encode and decode a replica write (~150 bytes)") { benchmark in
        var id: UInt64 = 0
        for _ in benchmark.scaledIterations {
            id &+= 1
            let bytes = Frame(kind: .request, requestID: id, payload: payload).encoded()
            blackHole(try? Frame.decode(bytes, frameBytesMax: 1 << 24))
        }
    }
}
