import XCTest

@testable import QuorumCore

/// Typed keys through the repair paths' pure parts (issue #16): hints carrying deltas
/// (format version 2, the queue joining two deltas), repair batches carrying whole states,
/// and the anti-entropy and stray-copy decisions on typed states.
final class TypedRepairTests: XCTestCase {
    private let limits = Limits.defaults

    /// Applies `op` at `actor` on `state`; returns the delta and the state after it.
    private func apply(_ op: TypedOperation, actor: String, on state: TypedState, at time: UInt64 = 1) throws -> (TypedState, TypedState) {
        let stamp = HLCTimestamp(physicalMilliseconds: time, logical: 0)
        let delta = try TypedState.delta(applying: op, actor: actor, stamp: stamp, current: state, limits: limits)
        return (delta.delta, state.joined(with: delta.delta, isFull: delta.isFull))
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: Hints

    func testATypedHintRoundTripsAsVersion2WithAnExactSize() throws {
        let (delta, _) = try apply(.setAdd([bytes("a"), bytes("b")]), actor: "n1@1", on: TypedState(datatype: .set))
        let hint = Hint(id: 7, target: "node2", bucket: "tags", key: bytes("k"), payload: .typed(delta), createdMilliseconds: 1_700_000_000_000)
        let encoded = hint.encoded()
        XCTAssertEqual(encoded.first, 2, "a typed hint is written as version 2")
        XCTAssertEqual(hint.byteSize, encoded.count)
        XCTAssertEqual(try Hint(decoding: encoded), hint)
        XCTAssertNil(hint.state, "a typed hint has no plain state")
        XCTAssertThrowsError(try Hint(decoding: Array(encoded.dropLast())))
    }

    func testAPlainHintStillWritesVersion1() throws {
        let state = KeyState(
            siblings: [
                Sibling(dot: Dot(actor: "a", counter: 1), value: bytes("v"), contentType: "text/plain", isTombstone: false,
                        timestamp: HLCTimestamp(physicalMilliseconds: 5, logical: 0))
            ])
        let hint = Hint(id: 1, target: "node2", bucket: "b", key: bytes("k"), state: state, mode: .lww, createdMilliseconds: 3)
        XCTAssertEqual(hint.encoded().first, 1)
        XCTAssertEqual(hint.byteSize, hint.encoded().count)
        XCTAssertEqual(try Hint(decoding: hint.encoded()), hint)
    }

    func testAVersion2HintCarryingAFullStateIsRefused() throws {
        let (delta, _) = try apply(.setAdd([bytes("a")]), actor: "n1@1", on: TypedState(datatype: .set))
        var writer = ByteWriter()
        writer.write(UInt8(2))
        writer.writeVarInt(1)
        writer.writeString("node2")
        writer.writeString("b")
        writer.writeBytes(bytes("k"))
        writer.writeVarInt(9)
        writer.write(UInt8(1))
        delta.encode(into: &writer, isFull: true)
        XCTAssertThrowsError(try Hint(decoding: writer.bytes))
    }

    /// Two deltas of one key coalesce into one hint; joining it equals joining both, and
    /// a remove the second delta made survives the coalescing (its member stays listed).
    func testTheQueueJoinsTwoDeltasOfAKeyKeepingRemoves() throws {
        // The target already holds "a" (dot of actor t); the stand-in then takes an add of
        // "b" and a remove of "a" that observed the target's dot.
        let (toTarget, target) = try apply(.setAdd([bytes("a")]), actor: "t@1", on: TypedState(datatype: .set))
        let (addB, lead) = try apply(.setAdd([bytes("b")]), actor: "l@1", on: target, at: 2)
        let (removeA, _) = try apply(.setRemove([bytes("a")]), actor: "l@1", on: lead, at: 3)
        _ = toTarget
        var queue = HintQueue()
        guard case .accepted(let first) = queue.enqueue(target: "t", bucket: "s", key: bytes("k"), payload: .typed(addB), nowMilliseconds: 10)
        else { return XCTFail("refused") }
        guard case .accepted(let second) = queue.enqueue(target: "t", bucket: "s", key: bytes("k"), payload: .typed(removeA), nowMilliseconds: 20)
        else { return XCTFail("refused") }
        XCTAssertEqual(second.id, first.id, "merged into the hint held")
        XCTAssertEqual(second.createdMilliseconds, 10)
        XCTAssertEqual(queue.coalescedCount, 1)
        XCTAssertEqual(queue.pendingBytes, second.byteSize)
        guard case .typed(let joined) = second.payload else { return XCTFail("not typed") }
        XCTAssertNotNil(joined.members[bytes("a")], "the remove of a stays listed")
        let viaHint = target.joined(with: joined, isFull: false)
        let oneByOne = target.joined(with: addB, isFull: false).joined(with: removeA, isFull: false)
        XCTAssertEqual(viaHint.withoutEmptyMembers, oneByOne.withoutEmptyMembers)
        XCTAssertEqual(viaHint.setElements, [bytes("b")], "a was removed, b added")
        // `joined(isFull: false)` would drop the removed member, and the target would keep "a".
        let lossy = addB.joined(with: removeA, isFull: false)
        XCTAssertEqual(target.joined(with: lossy, isFull: false).setElements, [bytes("a"), bytes("b")])
    }

    func testTypedAndPlainHintsOfOneKeyStayApart() throws {
        let (delta, _) = try apply(.increment(by: 2, operationID: nil), actor: "n1@1", on: TypedState(datatype: .counter))
        var queue = HintQueue()
        _ = queue.enqueue(target: "t", bucket: "c", key: bytes("k"), payload: .typed(delta), nowMilliseconds: 1)
        _ = queue.enqueue(target: "t", bucket: "c", key: bytes("k"), state: KeyState(), mode: .lww, nowMilliseconds: 1)
        XCTAssertEqual(queue.pendingCount, 2)
        let restored = HintQueue(restoring: [queue.hint(id: 1)!, queue.hint(id: 2)!])
        XCTAssertEqual(restored.pendingCount, 2)
    }

    func testCounterDeltasCoalesceToTheSum() throws {
        var state = TypedState(datatype: .counter)
        var queue = HintQueue()
        for by in [Int64(3), 4, -2] {
            let (delta, next) = try apply(.increment(by: by, operationID: nil), actor: "n1@1", on: state)
            state = next
            _ = queue.enqueue(target: "t", bucket: "c", key: bytes("k"), payload: .typed(delta), nowMilliseconds: 1)
        }
        XCTAssertEqual(queue.pendingCount, 1)
        guard case .typed(let joined)? = queue.hint(id: 1)?.payload else { return XCTFail("no typed hint") }
        XCTAssertEqual(try TypedState(datatype: .counter).joined(with: joined, isFull: false).counterValue(), 5)
    }

    // MARK: Repair batches

    func testARepairBatchWithTypedEntriesIsVersion2AndRoundTrips() throws {
        let (_, set) = try apply(.setAdd([bytes("x"), bytes("y")]), actor: "n1@1", on: TypedState(datatype: .set))
        let plain = KeyState()
        let batch = RepairBatch(entries: [
            RepairBatch.Entry(bucket: "plain", key: bytes("p"), state: plain, mode: .vclock),
            RepairBatch.Entry(bucket: "tags", key: bytes("t"), typed: set),
        ])
        let encoded = batch.encoded()
        XCTAssertEqual(encoded.first, 2)
        XCTAssertEqual(try RepairBatch(decoding: encoded), batch)
        XCTAssertEqual(RepairBatch(entries: [batch.entries[0]]).encoded().first, 1, "plain entries only: still version 1")
        XCTAssertEqual(try RepairBatch(decoding: RepairBatch(entries: [batch.entries[0]]).encoded()).entries, [batch.entries[0]])
        // A typed entry inside a version 1 batch is refused, as is a delta in a version 2 one.
        var v1 = encoded
        v1[0] = 1
        XCTAssertThrowsError(try RepairBatch(decoding: v1))
        var writer = ByteWriter()
        writer.write(UInt8(2))
        writer.writeVarInt(1)
        writer.writeString("tags")
        writer.writeBytes(bytes("t"))
        writer.write(UInt8(2))
        set.encode(into: &writer, isFull: false)
        XCTAssertThrowsError(try RepairBatch(decoding: writer.bytes))
    }

    // MARK: Anti-entropy and stray copies

    func testTypedKeyRepairShipsTheWholeJoinBothWays() throws {
        let (_, base) = try apply(.setAdd([bytes("a"), bytes("b")]), actor: "n1@1", on: TypedState(datatype: .set))
        // Local removed "a"; remote added "c". The join has b and c.
        let (_, local) = try apply(.setRemove([bytes("a")]), actor: "n1@1", on: base, at: 2)
        let (_, remote) = try apply(.setAdd([bytes("c")]), actor: "n2@1", on: base, at: 3)
        let repair = try XCTUnwrap(TypedKeyRepair(local: local, remote: remote))
        XCTAssertEqual(repair.merged.setElements, [bytes("b"), bytes("c")])
        XCTAssertTrue(repair.writeLocally)
        XCTAssertTrue(repair.sendToPeer)
        // The peer joining the whole join as a full state loses "a", which a delta of "c" alone would not do.
        XCTAssertEqual(remote.joined(with: repair.merged, isFull: true).setElements, [bytes("b"), bytes("c")])
        // One side absent: the other's state goes over whole; equal sides: nothing to do.
        let oneSided = try XCTUnwrap(TypedKeyRepair(local: nil, remote: remote))
        XCTAssertTrue(oneSided.writeLocally)
        XCTAssertFalse(oneSided.sendToPeer)
        let same = try XCTUnwrap(TypedKeyRepair(local: remote, remote: remote))
        XCTAssertFalse(same.writeLocally || same.sendToPeer)
        XCTAssertNil(TypedKeyRepair(local: nil, remote: nil))
        XCTAssertNil(TypedKeyRepair(local: TypedState(datatype: .counter), remote: remote), "two datatypes: no repair")
    }

    func testATypedStrayCopyIsHandedOffUntilAReplicaHoldsIt() throws {
        let (_, copy) = try apply(.setAdd([bytes("a")]), actor: "n1@1", on: TypedState(datatype: .set))
        let (_, newer) = try apply(.setAdd([bytes("b")]), actor: "n2@1", on: copy, at: 2)
        XCTAssertEqual(TypedStrayCopyRule.decide(copy: copy, replicas: []), .keep)
        XCTAssertEqual(TypedStrayCopyRule.decide(copy: copy, replicas: [.some(nil), .some(TypedState(datatype: .set))]), .handOff(replicas: [0, 1]))
        XCTAssertEqual(TypedStrayCopyRule.decide(copy: copy, replicas: [.some(nil), .some(newer)]), .delete)
        XCTAssertEqual(TypedStrayCopyRule.decide(copy: copy, replicas: [nil, .some(nil)]), .wait)
        // A replica that removed "a" since holds everything the copy has: delete, nothing comes back.
        let (_, removed) = try apply(.setRemove([bytes("a")]), actor: "n2@1", on: copy, at: 3)
        XCTAssertEqual(TypedStrayCopyRule.decide(copy: copy, replicas: [.some(removed)]), .delete)
    }
}

extension TypedRepairTests {
    /// `byteSize` stays exact for a plain hint whose state carries expiry (KeyState 2).
    func testAPlainHintWithExpiryHasAnExactSize() {
        var sibling = Sibling(
            dot: Dot(actor: "a", counter: 1), value: Array("v".utf8), contentType: "text/plain", isTombstone: false,
            timestamp: HLCTimestamp(physicalMilliseconds: 5, logical: 0))
        sibling.expiry = ExpiryRegister(deadlineMilliseconds: 60_000, stamp: HLCTimestamp(physicalMilliseconds: 5, logical: 0))
        let hint = Hint(id: 3, target: "t", bucket: "b", key: [1], state: KeyState(siblings: [sibling]), mode: .lww, createdMilliseconds: 9)
        XCTAssertEqual(hint.byteSize, hint.encoded().count)
    }
}
