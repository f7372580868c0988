import XCTest

@testable import QuorumCore

/// A version counter at `UInt64.max`, which only forged input holds (a client's context
/// token, a peer's state), fails the write instead of trapping the coordinating node.
/// Before the fix, `max(clock[actor], context[actor]) + 1` overflowed and the node died:
/// a client could crash a node with one PUT and a forged `X-Context` naming it.
final class ForgedCounterTests: XCTestCase {
    private let now = HLCTimestamp(physicalMilliseconds: 1_000, logical: 0)

    /// The token a client would send: a context that counts `UInt64.max` writes by node-a.
    private func forgedContext(_ counter: UInt64) throws -> VersionVector {
        try VersionVector(contextToken: VersionVector(entries: [.init(actor: "node-a", counter: counter)]).contextToken)
    }

    func testAForgedContextAtTheTopIsRefusedAsABadContext() throws {
        let context = try forgedContext(.max)
        let intent = WriteIntent(value: [1], contentType: "text/plain", context: context)
        XCTAssertThrowsError(try KeyState().applying(intent, actor: "node-a", timestamp: now, mode: .vclock, limits: .defaults)) {
            guard case .badParameter(name: "context", _)? = $0 as? KVError else { return XCTFail("\($0)") }
        }
    }

    func testAClockLeftAtTheTopFailsLaterWritesInBothModes() throws {
        // One below the top is accepted and numbers a version at the top...
        let intent = WriteIntent(value: [1], contentType: "text/plain", context: try forgedContext(.max - 1))
        let state = try KeyState().applying(intent, actor: "node-a", timestamp: now, mode: .vclock, limits: .defaults)
        XCTAssertEqual(state.clock["node-a"], .max)
        // ...after which the key's next write by that actor fails, in either mode, and
        // writes by other actors still work.
        let blind = WriteIntent(value: [2], contentType: "text/plain")
        for mode in [ConflictMode.vclock, .lww] {
            XCTAssertThrowsError(try state.applying(blind, actor: "node-a", timestamp: now, mode: mode, limits: .defaults))
            XCTAssertNoThrow(try state.applying(blind, actor: "node-b", timestamp: now, mode: mode, limits: .defaults))
        }
    }
}
