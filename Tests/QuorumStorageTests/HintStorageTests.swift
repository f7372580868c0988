import Dispatch
import XCTest

@testable import QuorumStorage

final class HintStorageTests: XCTestCase {
    private func wait(_ body: (@escaping @Sendable (Result<Void, any Error>) -> Void) -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = ResultBox()
        body { result in
            outcome.set(result)
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + testWaitTimeout), .success)
        try outcome.get()
    }

    func testHintsSurviveReopenAndAreRemovedOnceDelivered() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var store: ReplicaStore? = try ReplicaStore(directory: directory.path, logger: testLogger())
        let big = noiseBytes(count: 10_000, seed: 7)
        let hints = [
            StoredHint(id: 1, target: "node2", bucket: "b", key: bytes("k1"), mode: 0, blob: bytes("state-1"), createdMilliseconds: 10),
            StoredHint(id: 2, target: "node3", bucket: "b", key: [0, 255], mode: 1, blob: big, createdMilliseconds: 11),
            StoredHint(id: 3, target: "node2", bucket: "c", key: bytes("k3"), mode: 0, blob: [], createdMilliseconds: 12),
        ]
        for hint in hints { try wait { store!.putHint(hint, completion: $0) } }
        store!.close()
        store = try ReplicaStore(directory: directory.path, logger: testLogger())
        XCTAssertEqual(try store!.allHints(), hints, "hints come back in id order, byte for byte")

        try wait { store!.deleteHints(ids: [1, 3], completion: $0) }
        XCTAssertEqual(try store!.allHints(), [hints[1]])
        XCTAssertEqual(try store!.keyCount(), 0, "hints are not replica data")
        store!.close()
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Void, any Error> = .success(())

    func set(_ value: Result<Void, any Error>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func get() throws {
        lock.lock()
        defer { lock.unlock() }
        try result.get()
    }
}
