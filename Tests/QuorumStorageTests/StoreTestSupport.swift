import Dispatch
import Foundation
import Logging
import Synchronization
import XCTest

@testable import QuorumStorage

/// Generous bound for every wait in these tests: long enough for a loaded CI machine,
/// short enough that a hang fails the test instead of the whole run.
let testWaitTimeout: DispatchTimeInterval = .seconds(30)

/// A unique, empty directory under the system temp directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ name: String = #function) {
        let safeName = name.filter { $0.isLetter || $0.isNumber }
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("quorumstorage-\(safeName)-\(UUID().uuidString)").path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

func testLogger() -> Logger {
    var logger = Logger(label: "quorumkv.storage.tests")
    logger.logLevel = .critical
    return logger
}

/// Holds the writer inside a transform until released, so tests can line up the next group.
final class WriterGate: Sendable {
    let entered = DispatchSemaphore(value: 0)
    let releaseSignal = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)

    /// Queues a blocking write and returns once the writer is inside it.
    static func block(_ store: ReplicaStore, file: StaticString = #filePath, line: UInt = #line) -> WriterGate {
        let gate = WriterGate()
        store.update(partition: 0, bucket: "gate", key: [0], transform: { _ in
            gate.entered.signal()
            _ = gate.releaseSignal.wait(timeout: .now() + testWaitTimeout)
            return nil
        }, completion: { _ in gate.finished.signal() })
        XCTAssertEqual(gate.entered.wait(timeout: .now() + testWaitTimeout), .success,
                       "writer never ran the gate transform", file: file, line: line)
        return gate
    }

    func release() { releaseSignal.signal() }
}

/// Collects asynchronous write results by index.
final class ResultCollector: Sendable {
    private let results = Mutex<[Int: Result<[UInt8]?, any Error>]>([:])
    private let group = DispatchGroup()

    /// A completion for write `index`; call before submitting the write.
    func completion(for index: Int) -> @Sendable (Result<[UInt8]?, any Error>) -> Void {
        group.enter()
        return { result in
            self.results.withLock { $0[index] = result }
            self.group.leave()
        }
    }

    func waitAll(file: StaticString = #filePath, line: UInt = #line) -> [Int: Result<[UInt8]?, any Error>] {
        XCTAssertEqual(group.wait(timeout: .now() + testWaitTimeout), .success,
                       "not every write completed", file: file, line: line)
        return results.withLock { $0 }
    }
}

struct TransformFailure: Error, Equatable {
    var reason: String
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Deterministic pseudo-random bytes (incompressible) without touching the system RNG.
func noiseBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

func XCTAssertStoreError(
    _ expression: @autoclosure () throws -> some Any, matches: (StoreError) -> Bool,
    _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    do {
        _ = try expression()
        XCTFail("expected a StoreError. \(message)", file: file, line: line)
    } catch let error as StoreError {
        XCTAssertTrue(matches(error), "unexpected StoreError: \(error). \(message)", file: file, line: line)
    } catch {
        XCTFail("expected a StoreError, got \(error). \(message)", file: file, line: line)
    }
}

extension StoreError {
    var isCorrupt: Bool { if case .corrupt = self { return true } else { return false } }
    var isOverloaded: Bool { if case .overloaded = self { return true } else { return false } }
}
