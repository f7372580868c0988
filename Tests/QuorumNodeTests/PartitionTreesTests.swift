import Foundation
import Logging
import QuorumCore
import QuorumStorage
import Synchronization
import XCTest

@testable import QuorumNode

private struct HarnessTimeout: Error, CustomStringConvertible {
    var description: String { "the partition trees were not built within 20 s" }
}

/// The live Merkle trees against a real store: built from a scan, kept equal to a fresh
/// build by the writes the store commits, including writes that commit mid-build.
final class PartitionTreesTests: XCTestCase {
    private let logger = Logger(label: "trees-test") { _ in SwiftLogNoOpLogHandler() }

    /// One write the way `SQLiteReplicaStorage` does it: digests taken in the transaction, told to
    /// the trees once committed.
    private func write(_ store: ReplicaStore, _ trees: PartitionTrees, ring: Ring, key: String, value: UInt8) {
        let bytes = Array(key.utf8)
        let partition = ring.partition(bucket: "b", key: bytes)
        let digests = Mutex<(old: UInt64?, new: UInt64?)>((nil, nil))
        let done = DispatchSemaphore(value: 0)
        store.update(partition: partition, bucket: "b", key: bytes, transform: { blob in
            let next = (blob ?? []) + [value]
            digests.withLock { $0 = (blob.map { StableHash.hash($0) }, StableHash.hash(next)) }
            return next
        }, completion: { result in
            if case .success = result {
                let change = digests.withLock { $0 }
                trees.record(partition: partition, keyHash: StableHash.keyHash(bucket: "b", key: bytes), old: change.old, new: change.new)
            }
            done.signal()
        })
        done.wait()
    }

    private func waitUntilReady(_ trees: PartitionTrees) throws {
        let deadline = Date().addingTimeInterval(20)
        while trees.readyCount < 4 {
            guard Date() < deadline else { throw HarnessTimeout() }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    func testWritesDuringAndAfterTheBuildKeepTheTreeEqualToAFreshBuild() throws {
        let directory = NSTemporaryDirectory() + "trees-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ReplicaStore(directory: directory, logger: logger)
        defer { store.close() }
        let ring = Ring(members: ["n1"], partitionCount: 4)
        let shape = MerkleShape(segmentCount: 64, fanOut: 4)
        let trees = PartitionTrees(partitionCount: 4, held: { [0, 1, 2, 3] }, store: store, shape: shape, logger: logger)
        // Before any build: writes are ignored (the build will scan them).
        for index in 0..<2000 { write(store, trees, ring: ring, key: "k\(index)", value: 1) }
        trees.buildMissing()
        // Overwrite and add keys while the build runs.
        for index in stride(from: 0, to: 3000, by: 3) { write(store, trees, ring: ring, key: "k\(index)", value: 2) }
        try waitUntilReady(trees)
        for index in stride(from: 1, to: 2000, by: 7) { write(store, trees, ring: ring, key: "k\(index)", value: 3) }

        let fresh = PartitionTrees(partitionCount: 4, held: { [0, 1, 2, 3] }, store: store, shape: shape, logger: logger)
        fresh.buildMissing()
        try waitUntilReady(fresh)
        XCTAssertEqual(trees.roots(), fresh.roots())
        XCTAssertEqual(trees.roots().count, 4)
        XCTAssertEqual(trees.rebuildCount, 4)
        // A changed value changes its partition's root and nothing else.
        let before = trees.roots()
        write(store, trees, ring: ring, key: "k5", value: 9)
        let changed = String(ring.partition(bucket: "b", key: Array("k5".utf8)))
        let after = trees.roots()
        XCTAssertNotEqual(before[changed], after[changed])
        XCTAssertEqual(before.filter { $0.key != changed }, after.filter { $0.key != changed })
    }
}
