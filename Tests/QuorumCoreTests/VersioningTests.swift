import XCTest
@testable import QuorumCore

final class VersioningTests: XCTestCase {
    private let limits = Limits.defaults
    private func ts(_ ms: UInt64, _ logical: UInt32 = 0) -> HLCTimestamp { HLCTimestamp(physicalMilliseconds: ms, logical: logical) }
    private func write(_ text: String, context: VersionVector = .empty) -> WriteIntent {
        WriteIntent(value: Array(text.utf8), contentType: "text/plain", context: context)
    }
    private func values(_ state: KeyState) -> Set<String> { Set(state.liveSiblings.map { String(decoding: $0.value, as: UTF8.self) }) }

    func testHybridLogicalClockIsMonotonicAndFollowsRemoteTime() {
        var clock = HybridLogicalClock()
        let first = clock.tick(nowMilliseconds: 100)
        let second = clock.tick(nowMilliseconds: 100)
        let third = clock.tick(nowMilliseconds: 90)  // wall clock stepped back
        XCTAssertLessThan(first, second)
        XCTAssertLessThan(second, third)
        clock.observe(ts(500, 7), nowMilliseconds: 120)
        let fourth = clock.tick(nowMilliseconds: 130)
        XCTAssertGreaterThan(fourth, ts(500, 7))
        XCTAssertEqual(clock.tick(nowMilliseconds: 600), ts(600, 0))
    }

    func testBlindWritesFromTwoLeadsBecomeSiblingsAndAContextResolvesThem() throws {
        let atA = try KeyState().applying(write("from-a"), actor: "a", timestamp: ts(1), mode: .vclock, limits: limits)
        let atB = try KeyState().applying(write("from-b"), actor: "b", timestamp: ts(1), mode: .vclock, limits: limits)
        let merged = atA.merged(with: atB, mode: .vclock)
        XCTAssertEqual(values(merged), ["from-a", "from-b"])
        XCTAssertEqual(merged, atB.merged(with: atA, mode: .vclock), "merge commutes")
        XCTAssertEqual(merged.merged(with: merged, mode: .vclock), merged, "merge is idempotent")

        let resolved = try merged.applying(write("resolved", context: merged.context), actor: "a", timestamp: ts(2), mode: .vclock, limits: limits)
        XCTAssertEqual(values(resolved), ["resolved"])
        // B, which still holds only its own sibling, learns that it was superseded.
        XCTAssertEqual(values(atB.merged(with: resolved, mode: .vclock)), ["resolved"])
        XCTAssertEqual(values(resolved.merged(with: atB, mode: .vclock)), ["resolved"])
    }

    func testBlindWritesAtOneLeadAlsoBecomeSiblings() throws {
        let first = try KeyState().applying(write("one"), actor: "a", timestamp: ts(1), mode: .vclock, limits: limits)
        let second = try first.applying(write("two"), actor: "a", timestamp: ts(2), mode: .vclock, limits: limits)
        XCTAssertEqual(values(second), ["one", "two"])
        let third = try second.applying(write("three", context: first.context), actor: "a", timestamp: ts(3), mode: .vclock, limits: limits)
        XCTAssertEqual(values(third), ["two", "three"], "the context covered only the first write")
    }

    func testAContextFromAnotherReplicaSupersedesASiblingThatArrivesLater() throws {
        let atA = try KeyState().applying(write("old"), actor: "a", timestamp: ts(1), mode: .vclock, limits: limits)
        // The client read "old" from A, then wrote through lead B, which had never seen it.
        let atB = try KeyState().applying(write("new", context: atA.context), actor: "b", timestamp: ts(2), mode: .vclock, limits: limits)
        XCTAssertEqual(values(atB.merged(with: atA, mode: .vclock)), ["new"])
        XCTAssertEqual(values(atA.merged(with: atB, mode: .vclock)), ["new"])
    }

    func testDeletesAreTombstonesThatStayDeletedAcrossMerges() throws {
        let written = try KeyState().applying(write("v"), actor: "a", timestamp: ts(1), mode: .vclock, limits: limits)
        let deleted = try written.applying(.delete(context: written.context), actor: "b", timestamp: ts(2), mode: .vclock, limits: limits)
        XCTAssertTrue(deleted.isDeleted)
        XCTAssertTrue(written.merged(with: deleted, mode: .vclock).isDeleted, "an old replica can't resurrect the key")
        XCTAssertTrue(deleted.merged(with: written, mode: .vclock).isDeleted)

        let lwwWritten = try KeyState().applying(write("v"), actor: "a", timestamp: ts(1), mode: .lww, limits: limits)
        let lwwDeleted = try lwwWritten.applying(.delete(), actor: "b", timestamp: ts(2), mode: .lww, limits: limits)
        XCTAssertTrue(lwwWritten.merged(with: lwwDeleted, mode: .lww).isDeleted)
        XCTAssertTrue(lwwDeleted.merged(with: lwwWritten, mode: .lww).isDeleted)
    }

    func testLastWriterWinsKeepsTheNewestAndBreaksTiesByNode() throws {
        let older = try KeyState().applying(write("older"), actor: "z", timestamp: ts(10), mode: .lww, limits: limits)
        let newer = try KeyState().applying(write("newer"), actor: "a", timestamp: ts(11), mode: .lww, limits: limits)
        XCTAssertEqual(values(older.merged(with: newer, mode: .lww)), ["newer"])
        XCTAssertEqual(values(newer.merged(with: older, mode: .lww)), ["newer"])
        let tieA = try KeyState().applying(write("a"), actor: "a", timestamp: ts(10), mode: .lww, limits: limits)
        let tieB = try KeyState().applying(write("b"), actor: "b", timestamp: ts(10), mode: .lww, limits: limits)
        XCTAssertEqual(values(tieA.merged(with: tieB, mode: .lww)), ["b"])
        XCTAssertEqual(values(tieB.merged(with: tieA, mode: .lww)), ["b"])
        XCTAssertEqual(tieA.merged(with: tieB, mode: .lww).siblings.count, 1)
    }

    func testSiblingCapFailsWithAClearError() throws {
        var small = Limits()
        small.siblingsMax = 3
        var state = KeyState()
        for index in 0..<3 {
            state = try state.applying(write("v\(index)"), actor: "a", timestamp: ts(UInt64(index)), mode: .vclock, limits: small)
        }
        XCTAssertThrowsError(try state.applying(write("v3"), actor: "a", timestamp: ts(9), mode: .vclock, limits: small)) { error in
            XCTAssertEqual(error as? KVError, .siblingLimit(limit: 3))
            XCTAssertTrue((error as! KVError).message.contains("context"))
        }
        // Writing with the context still works: it resolves the siblings.
        let resolved = try state.applying(write("fixed", context: state.context), actor: "a", timestamp: ts(10), mode: .vclock, limits: small)
        XCTAssertEqual(values(resolved), ["fixed"])
    }

    func testClockIsPrunedOldestFirstButKeepsLiveSiblingActors() throws {
        var small = Limits()
        small.clockEntriesMax = 3
        var state = KeyState()
        for index in 0..<6 {
            state = try state.applying(write("v\(index)", context: state.context), actor: "actor\(index)", timestamp: ts(UInt64(100 + index)), mode: .vclock, limits: small)
        }
        XCTAssertEqual(state.clock.entries.count, 3)
        XCTAssertEqual(state.clock["actor5"], 1, "the live sibling's actor is kept")
        XCTAssertEqual(state.clock["actor0"], 0, "the oldest entry was pruned")
        XCTAssertEqual(values(state), ["v5"])
    }

    func testStateAndContextRoundTripThroughTheirEncodings() throws {
        let a = try KeyState().applying(write("x"), actor: "node1.1", timestamp: ts(5, 2), mode: .vclock, limits: limits)
        let b = try KeyState().applying(WriteIntent(value: [0, 255, 10], contentType: "application/octet-stream"), actor: "node2.1", timestamp: ts(6), mode: .vclock, limits: limits)
        let state = a.merged(with: b, mode: .vclock)
        XCTAssertEqual(try KeyState(decoding: state.encoded()), state)
        let token = state.context.contextToken
        XCTAssertEqual(try VersionVector(contextToken: token).entries.map(\.counter), state.context.entries.map(\.counter))
        XCTAssertThrowsError(try VersionVector(contextToken: "not a token!")) { error in
            XCTAssertEqual((error as? KVError)?.code, "bad_parameter")
        }
        XCTAssertThrowsError(try KeyState(decoding: Array(state.encoded().dropLast(2))))
    }

    func testBase64RoundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(Base64URL.decode(Base64URL.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64URL.encode(Array("hello".utf8)), "aGVsbG8")
        XCTAssertNil(Base64URL.decode("a"))
    }
}
