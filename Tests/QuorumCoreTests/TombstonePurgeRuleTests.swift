import XCTest
@testable import QuorumCore

final class TombstonePurgeRuleTests: XCTestCase {
    private let limits = Limits.defaults
    private let grace: UInt64 = 60_000
    private func ts(_ ms: UInt64) -> HLCTimestamp { HLCTimestamp(physicalMilliseconds: ms, logical: 0) }

    private func live(at ms: UInt64 = 1000) throws -> KeyState {
        try KeyState().applying(WriteIntent(value: Array("v".utf8), contentType: "text/plain"), actor: "a", timestamp: ts(ms), mode: .vclock, limits: limits)
    }

    /// A key written at 1000 ms and deleted at `deletedAt` with the write's context.
    private func deleted(at deletedAt: UInt64 = 2000) throws -> KeyState {
        let written = try live()
        return try written.applying(.delete(context: written.context), actor: "a", timestamp: ts(deletedAt), mode: .vclock, limits: limits)
    }

    private func decide(_ state: KeyState, now: UInt64, replicas: [UInt64?]) -> TombstonePurgeRule.Decision {
        TombstonePurgeRule.decide(state: state, nowMilliseconds: now, graceMilliseconds: grace, replicaDigests: replicas)
    }

    func testATombstoneEveryReplicaHoldsIsPurgedAfterTheGrace() throws {
        let state = try deleted(at: 2000)
        let digest = MerkleTree.versionDigest(of: state)
        XCTAssertEqual(decide(state, now: 2000 + grace, replicas: [digest, digest, digest]), .purge, "exactly grace old")
        XCTAssertEqual(decide(state, now: 10_000_000, replicas: [digest, digest, digest]), .purge)
    }

    func testWithinTheGraceItStays() throws {
        let state = try deleted(at: 2000)
        let digest = MerkleTree.versionDigest(of: state)
        XCTAssertEqual(decide(state, now: 2000 + grace - 1, replicas: [digest, digest]), .keep(.withinGrace(remainingMilliseconds: 1)))
        XCTAssertEqual(decide(state, now: 2000, replicas: [digest, digest]), .keep(.withinGrace(remainingMilliseconds: grace)))
        // A tombstone stamped ahead of this node's clock waits for the clock plus the grace.
        XCTAssertEqual(decide(state, now: 500, replicas: [digest]), .keep(.withinGrace(remainingMilliseconds: 1500 + grace)))
        // A grace that overflows never purges.
        XCTAssertEqual(
            TombstonePurgeRule.decide(state: state, nowMilliseconds: .max, graceMilliseconds: .max, replicaDigests: [digest]),
            .keep(.withinGrace(remainingMilliseconds: .max)))
    }

    func testTheNewestOfSeveralTombstonesCounts() throws {
        // Two concurrent blind deletes leave two tombstone siblings.
        let first = try KeyState().applying(.delete(), actor: "a", timestamp: ts(1000), mode: .vclock, limits: limits)
        let second = try KeyState().applying(.delete(), actor: "b", timestamp: ts(5000), mode: .vclock, limits: limits)
        let state = first.merged(with: second, mode: .vclock)
        XCTAssertEqual(state.siblings.count, 2)
        let digest = MerkleTree.versionDigest(of: state)
        XCTAssertEqual(decide(state, now: 1000 + grace, replicas: [digest]), .keep(.withinGrace(remainingMilliseconds: 4000)))
        XCTAssertEqual(decide(state, now: 5000 + grace, replicas: [digest]), .purge)
    }

    func testALiveSiblingKeepsTheKey() throws {
        let written = try live()
        // A concurrent (blind) delete beside the live write: the key is still readable.
        let tombstone = try KeyState().applying(.delete(), actor: "b", timestamp: ts(2000), mode: .vclock, limits: limits)
        let state = written.merged(with: tombstone, mode: .vclock)
        XCTAssertFalse(state.isDeleted)
        let digest = MerkleTree.versionDigest(of: state)
        XCTAssertEqual(decide(state, now: 10_000_000, replicas: [digest, digest]), .keep(.liveSibling))
        XCTAssertEqual(decide(written, now: 10_000_000, replicas: [MerkleTree.versionDigest(of: written)]), .keep(.liveSibling))
    }

    func testAStateWithoutSiblingsStays() {
        XCTAssertEqual(decide(KeyState(), now: 10_000_000, replicas: [MerkleTree.versionDigest(of: KeyState())]), .keep(.noTombstone))
    }

    func testAnUnknownReplicaKeepsTheTombstone() throws {
        let state = try deleted()
        let digest = MerkleTree.versionDigest(of: state)
        XCTAssertEqual(decide(state, now: 10_000_000, replicas: [digest, nil, digest]), .keep(.replicaUnknown(replica: 1)))
        XCTAssertEqual(decide(state, now: 10_000_000, replicas: []), .keep(.noReplicas))
    }

    func testAReplicaWithAnotherVersionKeepsTheTombstone() throws {
        let state = try deleted()
        let digest = MerkleTree.versionDigest(of: state)
        // Replica 2 missed the delete and still holds the live value: purging would let
        // anti-entropy copy that value back.
        let older = MerkleTree.versionDigest(of: try live())
        XCTAssertEqual(decide(state, now: 10_000_000, replicas: [digest, digest, older]), .keep(.replicaDiffers(replica: 2)))
        // A replica that has moved on (a newer write) also differs.
        let newer = try state.applying(WriteIntent(value: [1], contentType: "x", context: state.context), actor: "b", timestamp: ts(3000), mode: .vclock, limits: limits)
        XCTAssertEqual(decide(state, now: 10_000_000, replicas: [MerkleTree.versionDigest(of: newer), digest]), .keep(.replicaDiffers(replica: 0)))
    }
}
