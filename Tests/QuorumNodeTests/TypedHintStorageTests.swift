import Dispatch
import Foundation
import Logging
import QuorumCore
import QuorumStorage
import XCTest

@testable import QuorumNode

/// A stand-in's typed hints (issue #16) in the real SQLite store: stored in the hints
/// table with kind 2 beside plain ones, and restored after a reopen as the same hints.
final class TypedHintStorageTests: XCTestCase {
    private let logger = Logger(label: "typed-hint-test") { _ in SwiftLogNoOpLogHandler() }
    /// How long a store write may take before the test fails.
    private let writeWaitSeconds = 10.0

    private func put(_ hint: Hint, into store: ReplicaStore) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = LockedError()
        store.putHint(SQLiteHintStorage.row(from: hint)) { result in
            if case .failure(let error) = result { failure.set(error) }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + writeWaitSeconds), .success, "the store did not commit the hint")
        if let error = failure.get() { throw error }
    }

    func testTypedAndPlainHintsSurviveAReopen() throws {
        let directory = NSTemporaryDirectory() + "typed-hints-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let delta = try TypedState.delta(
            applying: .setAdd([Array("a".utf8), Array("b".utf8)]), actor: "n1@1", stamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0),
            current: TypedState(datatype: .set), limits: .defaults
        ).delta
        let typed = Hint(id: 4, target: "n3", bucket: "tags", key: Array("k".utf8), payload: .typed(delta), createdMilliseconds: 99)
        let plain = Hint(id: 5, target: "n3", bucket: "b", key: Array("k".utf8), state: KeyState(), mode: .vclock, createdMilliseconds: 100)
        XCTAssertEqual(SQLiteHintStorage.row(from: typed).mode, 2)
        var store = try ReplicaStore(directory: directory, logger: logger)
        try put(typed, into: store)
        try put(plain, into: store)
        store.close()
        store = try ReplicaStore(directory: directory, logger: logger)
        defer { store.close() }
        XCTAssertEqual(try SQLiteHintStorage.restore(from: store, logger: logger), [typed, plain])
    }
}

/// The error a store completion reported, handed to the test thread.
private final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ value: any Error) { lock.withLock { error = value } }
    func get() -> (any Error)? { lock.withLock { error } }
}
