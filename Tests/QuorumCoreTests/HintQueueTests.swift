import XCTest
@testable import QuorumCore

final class HintQueueTests: XCTestCase {
    private func lwwState(_ value: String, at milliseconds: UInt64, actor: String = "a") throws -> KeyState {
        try KeyState().applying(
            WriteIntent(value: Array(value.utf8), contentType: "text/plain"), actor: actor,
            timestamp: HLCTimestamp(physicalMilliseconds: milliseconds, logical: 0), mode: .lww, limits: .defaults)
    }

    private func vclockState(_ value: String, actor: String) throws -> KeyState {
        try KeyState().applying(
            WriteIntent(value: Array(value.utf8), contentType: "text/plain"), actor: actor,
            timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0), mode: .vclock, limits: .defaults)
    }

    /// A hint as the queue would make it for `node2` in bucket `b`: for sizing bounds.
    private func probe(key: String, state: KeyState? = nil, mode: ConflictMode = .lww) throws -> Hint {
        Hint(
            id: 1, target: "node2", bucket: "b", key: Array(key.utf8), state: try state ?? lwwState(key, at: 1), mode: mode,
            createdMilliseconds: 0)
    }

    @discardableResult
    private func enqueue(
        _ queue: inout HintQueue, target: String = "node2", key: String, state: KeyState? = nil, mode: ConflictMode = .lww,
        at now: UInt64 = 0
    ) throws -> Hint {
        let result = queue.enqueue(
            target: target, bucket: "b", key: Array(key.utf8), state: try state ?? lwwState(key, at: 1), mode: mode,
            nowMilliseconds: now)
        guard case .accepted(let hint) = result else {
            XCTFail("refused: \(result)")
            throw HintRefusal.countFull(countMax: 0)
        }
        return hint
    }

    func testByteSizeIsTheEncodedSizeAndHintsRoundTrip() throws {
        var big = try lwwState(String(repeating: "v", count: 300), at: 1_700_000_000_000)
        big = big.merged(with: try lwwState("w", at: 5, actor: "other-actor"), mode: .lww)
        let siblings = try vclockState("x", actor: "a").merged(with: try vclockState("y", actor: "b"), mode: .vclock)
        for (index, state) in [KeyState(), try lwwState("", at: 0), big, siblings].enumerated() {
            let hint = Hint(
                id: UInt64(index) * 1_000_003, target: "node\(index)", bucket: "bucket",
                key: Array(repeating: 7, count: index * 100), state: state, mode: index == 3 ? .vclock : .lww,
                createdMilliseconds: UInt64(index) << 40)
            XCTAssertEqual(hint.byteSize, hint.encoded().count, "hint \(index)")
            XCTAssertEqual(try Hint(decoding: hint.encoded()), hint)
        }
        XCTAssertEqual(Hint.varIntLength(0), 1)
        XCTAssertEqual(Hint.varIntLength(127), 1)
        XCTAssertEqual(Hint.varIntLength(128), 2)
        XCTAssertEqual(Hint.varIntLength(.max), 10)
    }

    func testDamagedHintBytesThrow() throws {
        let bytes = try probe(key: "v", state: try lwwState("v", at: 1)).encoded()
        XCTAssertThrowsError(try Hint(decoding: bytes + [0]))
        XCTAssertThrowsError(try Hint(decoding: Array(bytes.dropLast())))
        var random = MembershipTestRandom(seed: 12)
        for _ in 0..<10_000 {
            var mutated = bytes
            mutated[random.below(mutated.count)] = UInt8(truncatingIfNeeded: random.next())
            if random.chance(1, in: 3) { mutated.removeLast(random.below(mutated.count)) }
            _ = try? Hint(decoding: mutated)
        }
    }

    func testEnqueueCountsAndAccountsBytes() throws {
        var queue = HintQueue()
        let first = try enqueue(&queue, key: "k1", at: 100)
        let second = try enqueue(&queue, target: "node3", key: "k2", at: 200)
        XCTAssertEqual([first.id, second.id], [1, 2])
        XCTAssertEqual(first.createdMilliseconds, 100)
        XCTAssertEqual(queue.pendingCount, 2)
        XCTAssertEqual(queue.pendingBytes, first.byteSize + second.byteSize)
        XCTAssertEqual(queue.pendingCount(for: "node2"), 1)
        XCTAssertEqual(queue.targets, ["node2", "node3"])
        XCTAssertEqual(queue.hint(id: 2), second)
    }

    func testAFullQueueRefusesAndCounts() throws {
        var limits = HintLimits()
        limits.countMax = 2
        var queue = HintQueue(limits: limits)
        try enqueue(&queue, key: "a")
        try enqueue(&queue, key: "b")
        let refused = queue.enqueue(
            target: "node2", bucket: "b", key: [9], state: try lwwState("c", at: 1), mode: .lww, nowMilliseconds: 0)
        XCTAssertEqual(refused, .refused(.countFull(countMax: 2)))
        XCTAssertEqual(queue.refusedCount, 1)
        XCTAssertEqual(queue.pendingCount, 2)

        limits = HintLimits()
        let one = try probe(key: "a")
        limits.bytesMax = one.byteSize * 2
        queue = HintQueue(limits: limits)
        try enqueue(&queue, key: "a")
        try enqueue(&queue, key: "b")
        guard case .refused(.bytesFull(let pending, let hintBytes, let maximum)) =
            queue.enqueue(
                target: "node2", bucket: "b", key: Array("c".utf8), state: try lwwState("c", at: 1), mode: .lww, nowMilliseconds: 0)
        else { return XCTFail("expected a bytes refusal") }
        XCTAssertEqual(pending, one.byteSize * 2)
        XCTAssertEqual(hintBytes, one.byteSize)
        XCTAssertEqual(maximum, limits.bytesMax)
        XCTAssertEqual(queue.refusedCount, 1)
        XCTAssertTrue(HintRefusal.bytesFull(pendingBytes: 1, hintBytes: 2, bytesMax: 3).message.contains("full"))
        // Once delivered, there is room again.
        _ = queue.due(for: "node2", nowMilliseconds: 0)
        queue.delivered(ids: [1])
        XCTAssertNoThrow(try enqueue(&queue, key: "c"))
    }

    func testDueIsOldestFirstBoundedAndOneBatchAtATime() throws {
        var limits = HintLimits()
        limits.batchMax = 3
        var queue = HintQueue(limits: limits)
        for index in 0..<7 { try enqueue(&queue, key: "k\(index)", at: UInt64(index)) }
        try enqueue(&queue, target: "node3", key: "other")
        XCTAssertEqual(queue.targetsDue(nowMilliseconds: 0), ["node2", "node3"])
        let batch = queue.due(for: "node2", nowMilliseconds: 0)
        XCTAssertEqual(batch.map(\.id), [1, 2, 3])
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0), [], "one batch in flight per target")
        XCTAssertEqual(queue.targetsDue(nowMilliseconds: 0), ["node3"])
        queue.delivered(ids: batch.map(\.id))
        XCTAssertEqual(queue.deliveredCount, 3)
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0, batchMax: 2).map(\.id), [4, 5], "a smaller batch on request")
        queue.delivered(ids: [4, 5])
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0, batchMax: 100).map(\.id), [6, 7], "never past batchMax")
        XCTAssertEqual(queue.due(for: "nobody", nowMilliseconds: 0), [])

        // The byte bound: at least one hint, however large.
        limits = HintLimits()
        limits.batchBytesMax = try probe(key: "k0").byteSize * 2
        queue = HintQueue(limits: limits)
        for index in 0..<5 { try enqueue(&queue, key: "k\(index)") }
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0).count, 2)
        limits.batchBytesMax = 1
        queue = HintQueue(limits: limits)
        for index in 0..<5 { try enqueue(&queue, key: "k\(index)") }
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0).count, 1)
    }

    func testFailedDeliveryBacksOffDoublingUpToTheMaximum() throws {
        var limits = HintLimits()
        limits.backoffInitialMilliseconds = 1000
        limits.backoffMaxMilliseconds = 5000
        var queue = HintQueue(limits: limits)
        try enqueue(&queue, key: "a")
        try enqueue(&queue, key: "b")
        var now: UInt64 = 10_000
        var waits: [UInt64] = []
        for _ in 0..<6 {
            XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: now).count, 2)
            let retryAt = queue.deliveryFailed(target: "node2", nowMilliseconds: now)
            XCTAssertEqual(queue.retryAtMilliseconds(for: "node2"), retryAt)
            waits.append(retryAt - now)
            XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: retryAt - 1), [], "still backing off")
            XCTAssertEqual(queue.targetsDue(nowMilliseconds: retryAt - 1), [])
            now = retryAt
        }
        XCTAssertEqual(waits, [1000, 2000, 4000, 5000, 5000, 5000])
        XCTAssertEqual(queue.pendingCount, 2, "failed hints stay")
        // Partial success: one acknowledged, the other failed; success resets the backoff
        // and the failure starts it over from the first step.
        let batch = queue.due(for: "node2", nowMilliseconds: now)
        queue.delivered(ids: [batch[0].id])
        XCTAssertNil(queue.retryAtMilliseconds(for: "node2"))
        XCTAssertEqual(queue.deliveryFailed(target: "node2", nowMilliseconds: now), now + 1000)
        XCTAssertEqual(queue.pendingCount, 1)
        queue.resetBackoff(for: "node2")
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: now).map(\.id), [batch[1].id], "a reset retries at once")
        queue.delivered(ids: [batch[1].id])
        XCTAssertEqual(queue.pendingCount, 0)
        XCTAssertEqual(queue.pendingBytes, 0)
        XCTAssertEqual(queue.targets, [])
        XCTAssertEqual(queue.deliveryFailed(target: "node2", nowMilliseconds: now), now, "nothing held: no backoff")
        XCTAssertNil(queue.retryAtMilliseconds(for: "node2"))
    }

    func testHintsForTheSameKeyAreCoalesced() throws {
        var queue = HintQueue()
        let first = try enqueue(&queue, key: "k", state: try lwwState("old", at: 100), at: 5)
        let second = try enqueue(&queue, key: "k", state: try lwwState("new", at: 200), at: 9)
        XCTAssertEqual(second.id, first.id, "merged into the hint already held")
        XCTAssertEqual(second.createdMilliseconds, 5, "keeps the oldest write's time")
        XCTAssertEqual(second.state?.siblings.map(\.value), [Array("new".utf8)])
        XCTAssertEqual(queue.pendingCount, 1)
        XCTAssertEqual(queue.pendingBytes, second.byteSize)
        XCTAssertEqual(queue.coalescedCount, 1)
        // An older write merged later does not win in lww.
        let third = try enqueue(&queue, key: "k", state: try lwwState("older", at: 50))
        XCTAssertEqual(third.state?.siblings.map(\.value), [Array("new".utf8)])

        // vclock: concurrent writes become siblings.
        let x = try enqueue(&queue, key: "v", state: try vclockState("x", actor: "a"), mode: .vclock)
        let y = try enqueue(&queue, key: "v", state: try vclockState("y", actor: "b"), mode: .vclock)
        XCTAssertEqual(y.id, x.id)
        XCTAssertEqual(Set(y.state?.siblings.map(\.value) ?? []), [Array("x".utf8), Array("y".utf8)])
        // Another target, another bucket, or another mode: separate hints.
        let elsewhere = try enqueue(&queue, target: "node3", key: "k")
        let otherMode = try enqueue(&queue, key: "k", state: try vclockState("z", actor: "a"), mode: .vclock)
        XCTAssertEqual(Set([first.id, x.id, elsewhere.id, otherMode.id]).count, 4)
        XCTAssertEqual(queue.pendingCount, 4)
    }

    func testAHintInFlightIsNotCoalescedInto() throws {
        var queue = HintQueue()
        let first = try enqueue(&queue, key: "k", state: try lwwState("one", at: 1))
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0).map(\.id), [first.id])
        let second = try enqueue(&queue, key: "k", state: try lwwState("two", at: 2))
        XCTAssertNotEqual(second.id, first.id, "the batch in flight must not absorb a newer write")
        queue.delivered(ids: [first.id])
        XCTAssertEqual(queue.pendingCount, 1)
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0).map(\.state?.siblings.first?.value), [Array("two".utf8)])
    }

    func testCoalescingPastTheByteBoundIsRefused() throws {
        var limits = HintLimits()
        let small = try probe(key: "k", state: try vclockState("x", actor: "a"), mode: .vclock)
        limits.bytesMax = small.byteSize + 10
        var queue = HintQueue(limits: limits)
        try enqueue(&queue, key: "k", state: try vclockState("x", actor: "a"), mode: .vclock)
        let grown = queue.enqueue(
            target: "node2", bucket: "b", key: Array("k".utf8),
            state: try vclockState(String(repeating: "y", count: 100), actor: "b"), mode: .vclock, nowMilliseconds: 0)
        guard case .refused(.bytesFull) = grown else { return XCTFail("\(grown)") }
        XCTAssertEqual(queue.hint(id: 1)?.state?.siblings.count, 1, "the held hint is unchanged")
        XCTAssertEqual(queue.pendingBytes, small.byteSize)
        XCTAssertEqual(queue.refusedCount, 1)
    }

    func testRestoringRebuildsTheQueue() throws {
        var original = HintQueue()
        for index in 0..<5 {
            try enqueue(&original, target: index % 2 == 0 ? "node2" : "node3", key: "k\(index)", at: UInt64(index))
        }
        let stored = (1...5).compactMap { original.hint(id: UInt64($0)) }
        var restored = HintQueue(restoring: stored.reversed())
        XCTAssertEqual(restored.pendingCount, 5)
        XCTAssertEqual(restored.pendingBytes, original.pendingBytes)
        XCTAssertEqual(restored.due(for: "node2", nowMilliseconds: 0).map(\.id), [1, 3, 5], "oldest first after a restart")
        let next = try enqueue(&restored, target: "node4", key: "new")
        XCTAssertEqual(next.id, 6, "ids continue after the highest restored")
        let merged = try enqueue(&restored, target: "node3", key: "k1", state: try lwwState("later", at: 99))
        XCTAssertEqual(merged.id, 2, "a restored hint is coalesced into like any other")
        // Restored past the bound: kept, but new hints are refused until it drains.
        var limits = HintLimits()
        limits.countMax = 2
        var crowded = HintQueue(restoring: stored, limits: limits)
        XCTAssertEqual(crowded.pendingCount, 5)
        XCTAssertEqual(
            crowded.enqueue(target: "n", bucket: "b", key: [1], state: KeyState(), mode: .lww, nowMilliseconds: 0),
            .refused(.countFull(countMax: 2)))
        // Duplicate ids in storage are taken once.
        XCTAssertEqual(HintQueue(restoring: stored + stored).pendingCount, 5)
    }

    func testOldHintsExpireButNotWhileInFlight() throws {
        var limits = HintLimits()
        limits.ageMaxMilliseconds = 1000
        var queue = HintQueue(limits: limits)
        try enqueue(&queue, key: "old", at: 0)
        try enqueue(&queue, target: "node3", key: "old-in-flight", at: 0)
        try enqueue(&queue, key: "young", at: 900)
        _ = queue.due(for: "node3", nowMilliseconds: 0)
        XCTAssertEqual(queue.expire(nowMilliseconds: 999), [])
        XCTAssertEqual(queue.expire(nowMilliseconds: 1000), [1])
        XCTAssertEqual(queue.expiredCount, 1)
        XCTAssertEqual(queue.pendingCount, 2)
        _ = queue.deliveryFailed(target: "node3", nowMilliseconds: 1000)
        XCTAssertEqual(queue.expire(nowMilliseconds: 1000), [2], "expires once its batch is over")
        XCTAssertEqual(queue.expire(nowMilliseconds: 1899), [])
        XCTAssertEqual(queue.expire(nowMilliseconds: 1900), [3])
        XCTAssertEqual(queue.pendingBytes, 0)
        XCTAssertEqual(queue.targets, [])
        XCTAssertEqual(queue.expire(nowMilliseconds: 0), [], "a clock behind the hints expires nothing")
    }

    func testDiscardDropsEveryHintForATarget() throws {
        var queue = HintQueue()
        try enqueue(&queue, key: "a")
        try enqueue(&queue, key: "b")
        try enqueue(&queue, target: "node3", key: "c")
        _ = queue.due(for: "node2", nowMilliseconds: 0)
        XCTAssertEqual(queue.discard(target: "node2"), [1, 2])
        XCTAssertEqual(queue.pendingCount, 1)
        XCTAssertEqual(queue.targets, ["node3"])
        XCTAssertEqual(queue.due(for: "node2", nowMilliseconds: 0), [])
        queue.delivered(ids: [1, 2])
        XCTAssertEqual(queue.deliveredCount, 0, "late acknowledgements of discarded hints are ignored")
    }
}
