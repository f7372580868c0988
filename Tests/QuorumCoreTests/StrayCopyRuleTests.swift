import XCTest
@testable import QuorumCore

final class StrayCopyRuleTests: XCTestCase {
    private let limits = Limits.defaults
    private let grace: UInt64 = 60_000
    private func ts(_ ms: UInt64) -> HLCTimestamp { HLCTimestamp(physicalMilliseconds: ms, logical: 0) }

    private func written(_ value: String, by actor: String = "a", at ms: UInt64, over base: KeyState = KeyState()) throws -> KeyState {
        try base.applying(
            WriteIntent(value: Array(value.utf8), contentType: "text/plain", isTombstone: false, context: base.context),
            actor: actor, timestamp: ts(ms), mode: .vclock, limits: limits)
    }

    private func decide(_ copy: KeyState, _ replicas: [StrayCopyRule.ReplicaState], now: UInt64) -> StrayCopyRule.Decision {
        StrayCopyRule.decide(copy: copy, replicas: replicas, mode: .vclock, nowMilliseconds: now, graceMilliseconds: grace)
    }

    func testAStrayIsANodeOutsideTheKeysReplicas() {
        XCTAssertTrue(StrayCopyRule.isStray(node: "n4", replicas: ["n1", "n2", "n3"]))
        XCTAssertFalse(StrayCopyRule.isStray(node: "n2", replicas: ["n1", "n2", "n3"]))
    }

    func testACopyAReplicaAlreadyHoldsIsDeletedEvenIfOthersLackItOrAreSilent() throws {
        let copy = try written("v1", at: 1000)
        let newer = try written("v2", at: 2000, over: copy)
        XCTAssertEqual(decide(copy, [.held(copy), .held(copy)], now: 3000), .delete)
        XCTAssertEqual(decide(copy, [.unknown, .held(newer)], now: 3000), .delete, "a newer state supersedes the copy")
        XCTAssertEqual(decide(copy, [.held(nil), .held(copy), .unknown], now: 3000), .delete, "anti-entropy spreads it to the others")
    }

    func testARecentVersionTheReplicasLackIsHandedOffToThem() throws {
        let base = try written("v1", at: 1000)
        let lateWrite = try written("v2", at: 2000, over: base)  // acknowledged by the old replicas during the switch
        XCTAssertEqual(decide(lateWrite, [.held(base), .held(nil), .held(base)], now: 2500), .handOff(replicas: [0, 1, 2]))
        // A concurrent sibling on the copy is news too.
        let concurrent = try written("other", by: "b", at: 1500)
        XCTAssertEqual(decide(concurrent, [.held(base)], now: 2000), .handOff(replicas: [0]))
    }

    func testAnOldVersionNoReplicaHoldsIsDeletedNotHandedOff() throws {
        // Deleted and purged on the replicas since: handing it off would bring it back.
        let copy = try written("v1", at: 1000)
        XCTAssertEqual(decide(copy, [.held(nil), .held(nil)], now: 1000 + grace), .delete)
        XCTAssertEqual(decide(copy, [.held(nil), .held(nil)], now: 1000 + grace - 1), .handOff(replicas: [0, 1]))
    }

    func testItWaitsWhileAReplicaIsSilentAndNoneThatAnsweredHoldsTheCopy() throws {
        let copy = try written("v1", at: 1000)
        XCTAssertEqual(decide(copy, [.held(nil), .unknown], now: 1500), .wait)
        XCTAssertEqual(decide(copy, [.unknown], now: 10_000_000), .wait, "even an old copy: the silent replica may hold it")
    }

    func testTombstonesAreStrayCopiesLikeValues() throws {
        let value = try written("v1", at: 1000)
        let tombstone = try value.applying(.delete(context: value.context), actor: "a", timestamp: ts(2000), mode: .vclock, limits: limits)
        XCTAssertEqual(decide(tombstone, [.held(tombstone)], now: 3000), .delete)
        XCTAssertEqual(decide(tombstone, [.held(value)], now: 3000), .handOff(replicas: [0]), "the replica must learn of the delete")
        XCTAssertEqual(decide(tombstone, [.held(nil)], now: 2000 + grace), .delete, "purged everywhere since")
    }

    func testNoReplicasMeansKeepAndAnEmptyCopyGoes() {
        XCTAssertEqual(decide(KeyState(), [.held(nil)], now: 0), .delete)
        XCTAssertEqual(StrayCopyRule.decide(copy: KeyState(), replicas: [], mode: .lww, nowMilliseconds: 0, graceMilliseconds: grace), .keep)
    }
}
