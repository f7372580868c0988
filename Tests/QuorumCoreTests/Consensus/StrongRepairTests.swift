import XCTest

@testable import QuorumCore

/// Strong keys in repair (issue #17): the repair batch's strong entries (version 3, and
/// its fixture), the decisions of `StrongKeyRepair` and `StrongStrayCopyRule`, and the
/// `.strongFetch` / `.strongCommit` messages.
final class StrongRepairTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func ballot(_ milliseconds: UInt64, _ logical: UInt32 = 0, _ node: String) -> PaxosBallot {
        PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: milliseconds, logical: logical), node: node)
    }

    private func commit(_ value: String?, _ milliseconds: UInt64, _ node: String = "node-a") -> PaxosCommit {
        PaxosCommit(
            ballot: ballot(milliseconds, 0, node),
            value: value.map { .value(bytes: bytes($0), contentType: "text/plain") } ?? .tombstone)
    }

    // MARK: Repair batch

    /// `Tests/Fixtures/format-v3/repair-batch-strong.hex`, written by hand from the layout
    /// in `RepairBatch.swift`. Never edit or regenerate it.
    func testTheStrongRepairBatchFixtureDecodesFieldByField() throws {
        let fixture = try FormatFixtures.bytes("repair-batch-strong", version: 3)
        XCTAssertEqual(fixture.first, 3, "repair batch version 3")
        let batch = try RepairBatch(decoding: fixture)
        XCTAssertEqual(batch.entries.count, 3)
        XCTAssertEqual(batch.entries[0], RepairBatch.Entry(bucket: "plain", key: bytes("p"), state: KeyState(), mode: .vclock))
        XCTAssertEqual(batch.entries[1].bucket, "accounts")
        XCTAssertEqual(batch.entries[1].key, bytes("alice"))
        XCTAssertEqual(batch.entries[1].payload, .strong(PaxosCommit(
            ballot: ballot(1_700_000_000_500, 2, "node-b"),
            value: .value(bytes: bytes("42"), contentType: "text/plain; charset=utf-8"),
            basedOn: ballot(1_700_000_000_123, 1, "node-c"))))
        XCTAssertEqual(batch.entries[2], RepairBatch.Entry(
            bucket: "accounts", key: bytes("bob"), commit: PaxosCommit(ballot: ballot(1_700_000_000_400, 0, "node-a"), value: .tombstone)))
        XCTAssertNil(batch.entries[1].state)
        XCTAssertNil(batch.entries[1].mode)
        assertSameEncoding(batch.encoded(), fixture, "repair-batch-strong")
    }

    /// Version 3 only when a batch carries a strong entry: others keep the bytes an older
    /// node reads.
    func testTheBatchVersionIsTheOldestThatHoldsItsEntries() throws {
        let plain = RepairBatch.Entry(bucket: "b", key: bytes("k"), state: KeyState(), mode: .lww)
        let typed = RepairBatch.Entry(bucket: "t", key: bytes("k"), typed: TypedState(datatype: .counter))
        let strong = RepairBatch.Entry(bucket: "s", key: bytes("k"), commit: commit("v", 10))
        XCTAssertEqual(RepairBatch(entries: [plain]).encoded().first, 1)
        XCTAssertEqual(RepairBatch(entries: [plain, typed]).encoded().first, 2)
        XCTAssertEqual(RepairBatch(entries: [strong, plain]).encoded().first, 3)
        XCTAssertEqual(RepairBatch(entries: [typed, strong]).encoded().first, 3)
        let mixed = RepairBatch(entries: [plain, typed, strong])
        XCTAssertEqual(try RepairBatch(decoding: mixed.encoded()), mixed)
        XCTAssertEqual(strong.stateBytes, StrongRecord.encoded(commit("v", 10)).count)
    }

    /// A strong entry (kind 3) in a version 1 or 2 batch is malformed: those versions never had it.
    func testAStrongEntryInAnOlderVersionIsRefused() throws {
        var bytes = RepairBatch(entries: [RepairBatch.Entry(bucket: "s", key: self.bytes("k"), commit: commit("v", 10))]).encoded()
        for version: UInt8 in [1, 2] {
            bytes[0] = version
            XCTAssertThrowsError(try RepairBatch(decoding: bytes)) { error in
                XCTAssertEqual(error as? WireError, .malformed("unknown repair entry kind 3"))
            }
        }
    }

    // MARK: Decisions

    func testTheLaterBallotGoesWhereItIsMissing() {
        XCTAssertNil(StrongKeyRepair(local: nil, remote: nil))
        XCTAssertNil(StrongKeyRepair(local: commit("v", 10), remote: commit("v", 10)), "the same commit: nothing to do")

        let onlyLocal = StrongKeyRepair(local: commit("v", 10), remote: nil)
        XCTAssertEqual(onlyLocal, StrongKeyRepair(local: commit("v", 10), remote: nil))
        XCTAssertEqual(onlyLocal?.newest, commit("v", 10))
        XCTAssertEqual(onlyLocal?.writeLocally, false)
        XCTAssertEqual(onlyLocal?.sendToPeer, true)

        let remoteNewer = StrongKeyRepair(local: commit("old", 10), remote: commit(nil, 20))
        XCTAssertEqual(remoteNewer?.newest, commit(nil, 20), "a committed delete is a commit like any other")
        XCTAssertEqual(remoteNewer?.writeLocally, true)
        XCTAssertEqual(remoteNewer?.sendToPeer, false)

        // Same HLC, the node id breaks the tie: ballots order, not write times.
        let tie = StrongKeyRepair(local: commit("b", 10, "node-b"), remote: commit("a", 10, "node-a"))
        XCTAssertEqual(tie?.newest, commit("b", 10, "node-b"))
        XCTAssertEqual(tie?.sendToPeer, true)
        XCTAssertEqual(tie?.writeLocally, false)
    }

    func testAStrayStrongCopyGoesOnceAReplicaHoldsItOrALaterCommit() {
        let copy = commit("v", 20)
        XCTAssertEqual(StrongStrayCopyRule.decide(copy: copy, replicas: []), .keep)
        XCTAssertEqual(StrongStrayCopyRule.decide(copy: copy, replicas: [.some(copy)]), .delete)
        XCTAssertEqual(StrongStrayCopyRule.decide(copy: copy, replicas: [nil, .some(commit(nil, 30))]), .delete)
        XCTAssertEqual(StrongStrayCopyRule.decide(copy: copy, replicas: [.some(nil), .some(commit("old", 10))]), .handOff(replicas: [0, 1]))
        XCTAssertEqual(StrongStrayCopyRule.decide(copy: copy, replicas: [.some(nil), nil]), .wait, "a silent replica might hold it")
    }

    // MARK: Messages

    func testStrongFetchAndItsAnswerRoundTrip() throws {
        let request = PeerRequest.strongFetch(bucket: "accounts", key: bytes("alice"))
        XCTAssertEqual(try PeerRequest(decoding: request.encoded()), request)
        for response in [PeerResponse.strongCommit(nil), .strongCommit(commit("v", 10)), .strongCommit(commit(nil, 11))] {
            XCTAssertEqual(try PeerResponse(decoding: response.encoded()), response)
        }
        // The bytes (a tag after the Paxos ones, then the fields), as seeded in the fuzz corpus.
        XCTAssertEqual(request.encoded(), [0x17, 8] + bytes("accounts") + [5] + bytes("alice"))
        XCTAssertEqual(PeerResponse.strongCommit(nil).encoded(), [0x10, 0])
        let alice = try RepairBatch(decoding: try FormatFixtures.bytes("repair-batch-strong", version: 3)).entries[1].payload
        guard case .strong(let fixtureCommit) = alice else { return XCTFail("the fixture's second entry is not strong") }
        var commitBytes = ByteWriter()
        fixtureCommit.encode(into: &commitBytes)
        XCTAssertEqual(PeerResponse.strongCommit(fixtureCommit).encoded(), [0x10, 1] + commitBytes.bytes)
        var truncated = PeerResponse.strongCommit(commit("v", 10)).encoded()
        truncated.removeLast()
        XCTAssertThrowsError(try PeerResponse(decoding: truncated))
    }
}
