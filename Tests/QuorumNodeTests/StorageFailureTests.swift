import Logging
import QuorumServices
import QuorumStorage
import Synchronization
import XCTest

@testable import QuorumNode

/// How the node takes its store's disk failures: an I/O error it cannot trust ends the
/// process with status 74 (the store's `onFatal`); a full disk is a refusal the replica
/// driver passes on.
final class StorageFailureTests: XCTestCase {
    func testTheStoreOptionsEndTheProcessWithStatus74OnAFatalStorageFailure() throws {
        let recorder = TransportLogRecorder()
        let exits = Mutex<[Int32]>([])
        var config = NodeConfig(nodeID: "node1")
        config.syncMode = .full
        let options = Node.storeOptions(config: config, logger: recorder.logger, terminate: { status in
            exits.withLock { $0.append(status) }
        })
        XCTAssertEqual(options.syncMode, .full)
        let onFatal = try XCTUnwrap(options.onFatal, "the node must hear of its store's fatal failures")
        XCTAssertTrue(exits.withLock { $0.isEmpty })

        onFatal("running COMMIT failed: disk I/O error (SQLite code 1034)")
        XCTAssertEqual(exits.withLock { $0 }, [74])
        XCTAssertEqual(Node.storageFailureExitStatus, 74)
        let critical = recorder.all.filter { $0.hasPrefix("critical ") }
        XCTAssertEqual(critical.count, 1, "\(recorder.all)")
        XCTAssertTrue(critical.first?.contains("disk I/O error (SQLite code 1034)") == true, "\(critical)")
        XCTAssertTrue(critical.first?.contains("exitStatus=74") == true, "\(critical)")
    }

    func testStoreErrorsMapToStorageFailures() {
        XCTAssertEqual(SQLiteReplicaStorage.failure(StoreError.diskFull("the disk is full")), .full("the disk is full"))
        XCTAssertEqual(SQLiteReplicaStorage.failure(StoreError.halted("must restart")), .failed("must restart"))
        XCTAssertEqual(SQLiteReplicaStorage.failure(StoreError.overloaded("queue full")), .overloaded("queue full"))
        XCTAssertEqual(StorageFailure.full("the disk is full").message, "the disk is full")
    }
}
