import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import QuorumCore
import QuorumServices
import QuorumStorage
import Synchronization
import XCTest

@testable import QuorumNode

private struct TreesTimeout: Error, CustomStringConvertible {
    var description: String { "the partition trees were not built within 20 s" }
}

/// A typed key's header (issue #16) is its `kv` state, so the node's live Merkle trees
/// follow it through `SQLiteReplicaStorage.updateTyped` exactly as they follow any state,
/// and a fresh build (which scans `kv`) agrees with them.
final class TypedStorageMerkleTests: XCTestCase {
    private let logger = Logger(label: "typed-trees-test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `body` on `loop` (the adapter answers on the loop it was made for) and waits
    /// for the value it reports.
    private func wait<T: Sendable>(on loop: any EventLoop, _ body: @escaping (@escaping @Sendable (T) -> Void) -> Void) -> T {
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let call = body
        loop.execute {
            call { value in
                box.withLock { $0 = value }
                done.signal()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        return box.withLock { $0! }
    }

    private func waitUntilReady(_ trees: PartitionTrees) throws {
        let deadline = Date().addingTimeInterval(20)
        while trees.readyCount < 4 {
            guard Date() < deadline else { throw TreesTimeout() }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    func testHeaderWritesMoveTheTreeLikeStateWrites() throws {
        let directory = NSTemporaryDirectory() + "typed-trees-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ReplicaStore(directory: directory, logger: logger)
        defer { store.close() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let shape = MerkleShape(segmentCount: 64, fanOut: 4)
        let trees = PartitionTrees(partitionCount: 4, held: { [0, 1, 2, 3] }, store: store, shape: shape, logger: logger)
        trees.buildMissing()
        try waitUntilReady(trees)
        let loop = group.next()
        let storage = SQLiteReplicaStorage(
            store: store, trees: trees, loop: loop, blockingQueue: DispatchQueue(label: "typed-trees-blocking"))
        let key = Array("set".utf8)
        let partition = 2

        let before = trees.roots()
        let written: Result<StoredTyped, StateWriteError> = wait(on: loop) { done in
            storage.updateTyped(partition: partition, bucket: "b", key: key, members: .all, transform: { _ throws(KVError) in
                TypedRowChanges(header: [1, 2, 3], members: [MemberChange(member: [9], payload: [4])])
            }, completion: { done($0) })
        }
        XCTAssertEqual(try written.get(), StoredTyped(header: [1, 2, 3], members: [StoredMember(member: [9], payload: [4])]))
        let after = trees.roots()
        XCTAssertNotEqual(before["\(partition)"], after["\(partition)"], "the header's write changes its partition's root")
        XCTAssertEqual(before.filter { $0.key != "\(partition)" }, after.filter { $0.key != "\(partition)" })
        let segment = shape.segment(bucket: "b", key: key)
        XCTAssertEqual(try trees.segmentKeys(partition: partition, segments: [segment]),
                       [SegmentKey(bucket: "b", key: key, digest: StableHash.hash([1, 2, 3]))],
                       "the key's leaf holds its header's digest, as for any state")

        // A refusal changes nothing, in the store or the tree.
        let refused: Result<StoredTyped, StateWriteError> = wait(on: loop) { done in
            storage.updateTyped(partition: partition, bucket: "b", key: key, members: .all, transform: { _ throws(KVError) in
                throw KVError.badParameter(name: "member", message: "refused")
            }, completion: { done($0) })
        }
        XCTAssertEqual(refused, .failure(.refused(.badParameter(name: "member", message: "refused"))))
        XCTAssertEqual(trees.roots(), after)

        let read: Result<StoredTyped?, StorageFailure> = wait(on: loop) { done in
            storage.readTyped(partition: partition, bucket: "b", key: key, members: .listed([[9]])) { done($0) }
        }
        XCTAssertEqual(try read.get(), StoredTyped(header: [1, 2, 3], members: [StoredMember(member: [9], payload: [4])]))

        let fresh = PartitionTrees(partitionCount: 4, held: { [0, 1, 2, 3] }, store: store, shape: shape, logger: logger)
        fresh.buildMissing()
        try waitUntilReady(fresh)
        XCTAssertEqual(trees.roots(), fresh.roots(), "a build from the table agrees with the kept trees")

        // Deleting the key removes its leaf and its members.
        let deleted: Result<Bool, StorageFailure> = wait(on: loop) { done in
            storage.deleteState(partition: partition, bucket: "b", key: key, matches: { _ in true }) { done($0) }
        }
        XCTAssertEqual(deleted, .success(true))
        XCTAssertEqual(trees.roots(), before)
        XCTAssertNil(try store.readTyped(partition: partition, bucket: "b", key: key, members: .all))
    }
}
