import Dispatch
import XCTest

@testable import QuorumStorage

/// `deleteState` is a compare-and-delete inside the writer's group commit: it removes the
/// row only while the stored state is the one the caller checked.
final class StateDeletionTests: XCTestCase {
    private func delete(_ store: ReplicaStore, key: String, matching expected: [UInt8]) throws -> [UInt8]? {
        let done = DispatchSemaphore(value: 0)
        let outcome = Box()
        store.deleteState(partition: 1, bucket: "b", key: bytes(key), matches: { $0 == expected }) { result in
            outcome.set(result)
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + testWaitTimeout), .success)
        return try outcome.get()
    }

    func testDeletesOnlyTheStateItWasToldAbout() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try ReplicaStore(directory: directory.path, logger: testLogger())
        defer { store.close() }
        _ = try store.updateAndWait(partition: 1, bucket: "b", key: bytes("gone")) { _ in bytes("tombstone") }
        _ = try store.updateAndWait(partition: 1, bucket: "b", key: bytes("rewritten")) { _ in bytes("newer") }

        XCTAssertNil(try delete(store, key: "rewritten", matching: bytes("tombstone")), "a changed state is kept")
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: bytes("rewritten")), bytes("newer"))
        XCTAssertNil(try delete(store, key: "absent", matching: bytes("tombstone")), "nothing to delete")

        XCTAssertEqual(try delete(store, key: "gone", matching: bytes("tombstone")), bytes("tombstone"))
        XCTAssertNil(try store.read(partition: 1, bucket: "b", key: bytes("gone")))
        XCTAssertEqual(try store.keyCount(), 1)
        XCTAssertNil(try delete(store, key: "gone", matching: bytes("tombstone")), "a second delete finds nothing")
    }
}

private final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[UInt8]?, any Error> = .success(nil)

    func set(_ value: Result<[UInt8]?, any Error>) { lock.withLock { result = value } }
    func get() throws -> [UInt8]? { try lock.withLock { result }.get() }
}
