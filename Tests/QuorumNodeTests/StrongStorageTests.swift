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

private struct StrongTreesTimeout: Error, CustomStringConvertible {
    var description: String { "the partition trees were not built within 20 s" }
}

/// A strong key's commit (issue #17) is its `kv` row, so the node's live Merkle trees
/// follow it through `SQLiteReplicaStorage.updatePaxos` exactly as they follow any state;
/// its Paxos row (promises, votes) never reaches them.
final class StrongStorageMerkleTests: XCTestCase {
    private let logger = Logger(label: "strong-trees-test") { _ in SwiftLogNoOpLogHandler() }

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
            guard Date() < deadline else { throw StrongTreesTimeout() }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    private static func ballot(_ milliseconds: UInt64) -> PaxosBallot {
        PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: milliseconds, logical: 0), node: "node-a")
    }

    func testCommitsMoveTheTreeAndPromisesDoNot() throws {
        let directory = NSTemporaryDirectory() + "strong-trees-\(UUID().uuidString.prefix(8))"
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
            store: store, trees: trees, loop: loop, blockingQueue: DispatchQueue(label: "strong-trees-blocking"))
        let key = Array("account".utf8)
        let partition = 1
        let before = trees.roots()

        // A promise: the Paxos row only, no leaf.
        let promise = StoredPaxos(AcceptorState(promised: Self.ballot(10)))
        let promised: Result<StoredPaxos, StateWriteError> = wait(on: loop) { done in
            storage.updatePaxos(partition: partition, bucket: "s", key: key, transform: { _ throws(KVError) in promise },
                                completion: { done($0) })
        }
        XCTAssertEqual(try promised.get(), promise)
        XCTAssertEqual(trees.roots(), before, "a promise is no replicated data")

        // A commit: the kv row, whose digest is the key's leaf.
        let commit = PaxosCommit(ballot: Self.ballot(10), value: .value(bytes: [7], contentType: "application/octet-stream"))
        let committed = StoredPaxos(AcceptorState(promised: Self.ballot(10), committed: commit))
        let learned: Result<StoredPaxos, StateWriteError> = wait(on: loop) { done in
            storage.updatePaxos(partition: partition, bucket: "s", key: key, transform: { _ throws(KVError) in committed },
                                completion: { done($0) })
        }
        XCTAssertEqual(try learned.get(), committed)
        let after = trees.roots()
        XCTAssertNotEqual(before["\(partition)"], after["\(partition)"])
        let segment = shape.segment(bucket: "s", key: key)
        XCTAssertEqual(try trees.segmentKeys(partition: partition, segments: [segment]),
                       [SegmentKey(bucket: "s", key: key, digest: StableHash.hash(StrongRecord.encoded(commit)))])

        // A refusal and a step that changes nothing leave the tree alone.
        let refused: Result<StoredPaxos, StateWriteError> = wait(on: loop) { done in
            storage.updatePaxos(partition: partition, bucket: "s", key: key, transform: { _ throws(KVError) in
                throw KVError.wrongType(message: "refused")
            }, completion: { done($0) })
        }
        XCTAssertEqual(refused, .failure(.refused(.wrongType(message: "refused"))))
        let unchanged: Result<StoredPaxos, StateWriteError> = wait(on: loop) { done in
            storage.updatePaxos(partition: partition, bucket: "s", key: key, transform: { _ throws(KVError) in nil },
                                completion: { done($0) })
        }
        XCTAssertEqual(try unchanged.get(), committed)
        XCTAssertEqual(trees.roots(), after)

        let read: Result<StoredPaxos, StorageFailure> = wait(on: loop) { done in
            storage.readPaxos(partition: partition, bucket: "s", key: key) { done($0) }
        }
        XCTAssertEqual(try read.get(), committed)

        let fresh = PartitionTrees(partitionCount: 4, held: { [0, 1, 2, 3] }, store: store, shape: shape, logger: logger)
        fresh.buildMissing()
        try waitUntilReady(fresh)
        XCTAssertEqual(trees.roots(), fresh.roots(), "a build from the table agrees with the kept trees")
    }
}

/// The node's Paxos standing (`ConsensusStanding`): a store created at this start catches
/// up, one that existed votes with the floor it saved, and a crash anywhere in catch-up
/// leaves a store that catches up again.
final class ConsensusStandingTests: XCTestCase {
    private let logger = Logger(label: "consensus-standing-test") { _ in SwiftLogNoOpLogHandler() }
    private var directory = ""

    override func setUp() {
        super.setUp()
        directory = NSTemporaryDirectory() + "consensus-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    private func open(creationMeta: [String: String] = ConsensusStanding.creationMeta) throws -> ReplicaStore {
        var options = StoreOptions()
        options.metaAtCreation = creationMeta
        return try ReplicaStore(directory: directory, options: options, logger: logger)
    }

    private static func ballot(_ milliseconds: UInt64, _ node: String = "node-b") -> PaxosBallot {
        PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: milliseconds, logical: 3), node: node)
    }

    private func adopt(_ standing: ConsensusStanding, _ floor: PaxosBallot, relearning: Bool = false) -> Result<Void, KVError> {
        wait { standing.adopt(floor, relearning: relearning, completion: $0) }
    }

    private func raise(_ standing: ConsensusStanding, _ floor: PaxosBallot) -> Result<Void, KVError> {
        wait { standing.raise(to: floor, completion: $0) }
    }

    private func wait(_ start: (@escaping @Sendable (Result<Void, KVError>) -> Void) -> Void) -> Result<Void, KVError> {
        let result = Mutex<Result<Void, KVError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        start { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        return result.withLock { $0 } ?? .failure(.internalError(message: "no answer"))
    }

    func testTheNodeAsksForTheCatchUpMarkerAtCreation() {
        let options = Node.storeOptions(
            config: NodeConfig(nodeID: "n1"), logger: logger, terminate: { _ in })
        XCTAssertEqual(options.metaAtCreation, ConsensusStanding.creationMeta)
    }

    func testANewStoreCatchesUpUntilItsFloorIsSavedAndVotesWithItAfterRestarts() throws {
        var store = try open()
        var standing = try ConsensusStanding(store: store)
        XCTAssertEqual(standing.current, .catchingUp(floor: nil))
        store.close()

        // Crash during catch-up: still catching up.
        store = try open()
        standing = try ConsensusStanding(store: store)
        XCTAssertEqual(standing.current, .catchingUp(floor: nil))

        let floor = Self.ballot(1_700_000_000_000)
        guard case .success = adopt(standing, floor) else { return XCTFail("the floor was not saved") }
        XCTAssertEqual(standing.current, .voting(floor: floor))
        store.close()

        store = try open()
        defer { store.close() }
        XCTAssertEqual(try ConsensusStanding(store: store).current, .voting(floor: floor))
    }

    /// A store that relearns stays relearning across restarts; a fence from another member's
    /// catch-up raises its floor and keeps its mode, and never lowers a floor.
    func testRelearningAndFencesOutliveRestarts() throws {
        var store = try open()
        var standing = try ConsensusStanding(store: store)
        guard case .success = raise(standing, Self.ballot(3)) else { return XCTFail("the fence was not saved") }
        XCTAssertEqual(standing.current, .catchingUp(floor: Self.ballot(3)), "a fence while catching up keeps catching up")
        guard case .success = adopt(standing, Self.ballot(2), relearning: true) else { return XCTFail() }
        XCTAssertEqual(standing.current, .relearning(floor: Self.ballot(3)), "catch-up never goes below a fence")
        store.close()

        store = try open()
        standing = try ConsensusStanding(store: store)
        XCTAssertEqual(standing.current, .relearning(floor: Self.ballot(3)))
        guard case .success = raise(standing, Self.ballot(9)) else { return XCTFail() }
        guard case .success = raise(standing, Self.ballot(4)) else { return XCTFail() }
        XCTAssertEqual(standing.current, .relearning(floor: Self.ballot(9)))
        store.close()

        store = try open()
        defer { store.close() }
        XCTAssertEqual(try ConsensusStanding(store: store).current, .relearning(floor: Self.ballot(9)))
    }

    /// The floor is saved before the marker is cleared: a crash between the two leaves a
    /// store that catches up again, never one that votes without its floor.
    func testAFloorSavedWithoutTheMarkerClearedStillCatchesUp() throws {
        let store = try open()
        defer { store.close() }
        try store.setMetaValue(ConsensusStanding.floorMeta, ConsensusStanding.hex(Self.ballot(5).encoded()))
        XCTAssertEqual(try ConsensusStanding(store: store).current, .catchingUp(floor: Self.ballot(5)))
    }

    /// A store from before strong buckets (no marker at all) never promised anything.
    func testAStoreWithoutTheMarkerVotesWithNoFloor() throws {
        let store = try open(creationMeta: [:])
        defer { store.close() }
        XCTAssertEqual(try ConsensusStanding(store: store).current, .voting(floor: nil))
    }

    func testAdoptingNeverLowersTheFloor() throws {
        let store = try open()
        defer { store.close() }
        let standing = try ConsensusStanding(store: store)
        let high = Self.ballot(2_000)
        guard case .success = adopt(standing, high) else { return XCTFail("the floor was not saved") }
        guard case .success = adopt(standing, Self.ballot(1_000)) else { return XCTFail("the floor was not saved") }
        XCTAssertEqual(standing.current, .voting(floor: high))
        XCTAssertEqual(try ConsensusStanding(store: store).current, .voting(floor: high))
    }

    func testAnUnreadableFloorStopsTheStart() throws {
        let store = try open()
        defer { store.close() }
        try store.setMetaValue(ConsensusStanding.catchUpMeta, ConsensusStanding.done)
        try store.setMetaValue(ConsensusStanding.floorMeta, "zz")
        XCTAssertThrowsError(try ConsensusStanding(store: store)) { error in
            XCTAssertTrue("\(error)".contains("consensus floor"), "\(error)")
        }
    }

    func testHexRoundTrips() {
        let bytes = Self.ballot(1_700_000_000_123, "node-é").encoded()
        XCTAssertEqual(ConsensusStanding.hexBytes(ConsensusStanding.hex(bytes)), bytes)
        XCTAssertNil(ConsensusStanding.hexBytes("abc"))
        XCTAssertNil(ConsensusStanding.hexBytes("0G"))
    }
}
