import XCTest

@testable import QuorumCore

/// Expiry as part of the version: the per-dot register's merge, stripping, touches and
/// the purge of expired versions.
final class ExpiryTests: XCTestCase {
    private let limits = Limits.defaults
    private func ts(_ ms: UInt64, _ logical: UInt32 = 0) -> HLCTimestamp { HLCTimestamp(physicalMilliseconds: ms, logical: logical) }

    private func write(
        _ value: String, actor: String = "a", at ms: UInt64, deadline: UInt64? = nil, mode: ConflictMode
    ) throws -> KeyState {
        try write(KeyState(), value, actor: actor, at: ms, deadline: deadline, mode: mode)
    }

    private func write(
        _ state: KeyState, _ value: String, actor: String = "a", at ms: UInt64, deadline: UInt64? = nil,
        mode: ConflictMode, context: VersionVector = .empty
    ) throws -> KeyState {
        try state.applying(
            WriteIntent(value: Array(value.utf8), contentType: "text/plain", context: context, expiresAtMilliseconds: deadline),
            actor: actor, timestamp: ts(ms), mode: mode, limits: limits)
    }

    // MARK: The register

    func testTheRegisterJoinIsALatticeAndTheLaterStampWins() {
        let registers: [ExpiryRegister] = [
            .none, ExpiryRegister(deadlineMilliseconds: 5, stamp: ts(1)), ExpiryRegister(deadlineMilliseconds: nil, stamp: ts(1)),
            ExpiryRegister(deadlineMilliseconds: 9, stamp: ts(1)), ExpiryRegister(deadlineMilliseconds: 2, stamp: ts(3)),
        ]
        for a in registers {
            XCTAssertEqual(a.joined(with: a), a)
            for b in registers {
                XCTAssertEqual(a.joined(with: b), b.joined(with: a))
                for c in registers { XCTAssertEqual(a.joined(with: b).joined(with: c), a.joined(with: b.joined(with: c))) }
            }
        }
        XCTAssertEqual(registers[1].joined(with: registers[4]), registers[4], "later stamp")
        XCTAssertEqual(registers[1].joined(with: registers[3]), registers[1], "tie: the earlier deadline")
        XCTAssertEqual(registers[1].joined(with: registers[2]), registers[1], "tie: none counts as the latest")
    }

    /// Random states built from one history of writes, touches and strips: every merge
    /// order gives the same state, in both modes.
    func testMergeStaysCommutativeAssociativeAndIdempotentWithExpiry() throws {
        var random = SplitMix64(seed: 14)
        for mode in ConflictMode.allCases {
            for _ in 0..<200 {
                var states: [KeyState] = []
                var base = KeyState()
                for step in 0..<4 {
                    let actor = ["a", "b"][Int(random.next() % 2)]
                    base = try write(
                        base, "v\(step)", actor: actor, at: 100 + random.next() % 4, deadline: random.next() % 2 == 0 ? nil : 200 + random.next() % 50,
                        mode: mode)
                    var variant = base
                    switch random.next() % 3 {
                    case 0: variant = variant.strippingExpired(atMilliseconds: 200 + random.next() % 60)
                    case 1:
                        variant = ExpiryTouch.plan(
                            read: variant, change: random.next() % 2 == 0 ? .persist : .at(milliseconds: 300 + random.next() % 9),
                            conditions: [], nowMilliseconds: 150, stamp: ts(120 + random.next() % 5)) ?? variant
                    default: break
                    }
                    states.append(variant)
                }
                let (x, y, z) = (states[0], states[2], states[3])
                XCTAssertEqual(x.merged(with: y, mode: mode), y.merged(with: x, mode: mode), "\(mode) commutative")
                XCTAssertEqual(
                    x.merged(with: y, mode: mode).merged(with: z, mode: mode), x.merged(with: y.merged(with: z, mode: mode), mode: mode),
                    "\(mode) associative")
                XCTAssertEqual(x.merged(with: x, mode: mode), x, "\(mode) idempotent")
                // Equal states encode to equal bytes, whatever order they were merged in.
                XCTAssertEqual(x.merged(with: z, mode: mode).encoded(), z.merged(with: x, mode: mode).encoded())
            }
        }
    }

    // MARK: Reading and stripping

    func testAnExpiredVersionReadsAsAbsentFromItsDeadline() throws {
        let state = try write("v", at: 100, deadline: 1000, mode: .lww)
        XCTAssertEqual(state.liveSiblings(atMilliseconds: 999).count, 1)
        XCTAssertTrue(state.liveSiblings(atMilliseconds: 1000).isEmpty, "the deadline itself is expired")
        XCTAssertTrue(state.isDeleted(atMilliseconds: 1000))
        XCTAssertEqual(state.deadlineMilliseconds(atMilliseconds: 999), 1000)
    }

    /// The winner expires: it still shadows the older version, like a tombstone, in every
    /// merge and in its stripped form.
    func testAnExpiredLWWWinnerStillShadowsOlderVersions() throws {
        let older = try write("old", actor: "b", at: 100, mode: .lww)
        let newer = try write("new", at: 200, deadline: 500, mode: .lww)
        let merged = older.merged(with: newer, mode: .lww)
        XCTAssertTrue(merged.liveSiblings(atMilliseconds: 600).isEmpty, "not the older value")
        let stripped = newer.strippingExpired(atMilliseconds: 600)
        XCTAssertEqual(stripped.siblings.first?.isTombstone, true)
        XCTAssertTrue(older.merged(with: stripped, mode: .lww).liveSiblings(atMilliseconds: 600).isEmpty)
        XCTAssertTrue(stripped.merged(with: older, mode: .lww).liveSiblings(atMilliseconds: 0).isEmpty)
    }

    /// A replica that stripped and one that did not converge on the stripped form.
    func testStrippedAndFullCopiesConvergeOnTheStrippedForm() throws {
        for mode in ConflictMode.allCases {
            let full = try write("v", at: 100, deadline: 500, mode: mode)
            let stripped = full.strippingExpired(atMilliseconds: 500)
            XCTAssertEqual(full.merged(with: stripped, mode: mode), stripped, "\(mode)")
            XCTAssertEqual(stripped.merged(with: full, mode: mode), stripped, "\(mode)")
            XCTAssertTrue(stripped.siblings.allSatisfy { $0.value.isEmpty }, "the value's bytes are dropped")
        }
    }

    /// A copy stripped under the old deadline does not undo an EXPIRE that moved the
    /// deadline later before it passed.
    func testAStaleStripDoesNotUndoALaterExtension() throws {
        let full = try write("v", at: 100, deadline: 500, mode: .lww)
        let extended = try XCTUnwrap(
            ExpiryTouch.plan(read: full, change: .at(milliseconds: 5000), conditions: [], nowMilliseconds: 400, stamp: ts(400)))
        let staleStrip = full.strippingExpired(atMilliseconds: 600)
        let merged = staleStrip.merged(with: extended, mode: .lww)
        XCTAssertEqual(merged.liveSiblings(atMilliseconds: 600).map(\.value), [Array("v".utf8)])
        XCTAssertEqual(merged.deadlineMilliseconds(atMilliseconds: 600), 5000)
    }

    // MARK: Touches

    /// EXPIRE is a merge of registers on the versions it read: a value written
    /// concurrently (a newer dot) keeps its own expiry and its value, in both modes.
    func testATouchNeverOverwritesAConcurrentWrite() throws {
        for mode in ConflictMode.allCases {
            let read = try write("old", at: 100, mode: mode)
            let touched = try XCTUnwrap(
                ExpiryTouch.plan(read: read, change: .at(milliseconds: 900), conditions: [], nowMilliseconds: 150, stamp: ts(300)))
            // Concurrently, another client writes with the read's context at an earlier HLC.
            let concurrent = try write(read, "new", actor: "b", at: 200, mode: mode, context: read.context)
            for merged in [touched.merged(with: concurrent, mode: mode), concurrent.merged(with: touched, mode: mode)] {
                let live = merged.liveSiblings(atMilliseconds: 1000)
                XCTAssertEqual(live.map(\.value), [Array("new".utf8)], "\(mode): the new write survives, untouched")
                XCTAssertNil(live.first?.expiry.deadlineMilliseconds, "\(mode): the touch did not reach the new dot")
            }
        }
    }

    func testATouchWinsOverTheRegisterItReadEvenFromABehindClock() throws {
        let read = try write("v", at: 5000, deadline: 9000, mode: .lww)
        let touched = try XCTUnwrap(
            ExpiryTouch.plan(read: read, change: .persist, conditions: [], nowMilliseconds: 10, stamp: ts(10)))
        XCTAssertGreaterThan(touched.siblings[0].expiry.stamp, read.siblings[0].expiry.stamp)
        XCTAssertNil(read.merged(with: touched, mode: .lww).siblings[0].expiry.deadlineMilliseconds)
    }

    func testConditionsFollowRedis() throws {
        let plain = try write("v", at: 100, mode: .lww)
        let expiring = try write("v", at: 100, deadline: 1000, mode: .lww)
        func applies(_ state: KeyState, _ change: ExpiryChange, _ condition: ExpiryCondition?) -> Bool {
            ExpiryTouch.plan(
                read: state, change: change, conditions: condition.map { [$0] } ?? [], nowMilliseconds: 200, stamp: ts(200)) != nil
        }
        XCTAssertTrue(applies(plain, .at(milliseconds: 500), .nx))
        XCTAssertFalse(applies(expiring, .at(milliseconds: 500), .nx))
        XCTAssertFalse(applies(plain, .at(milliseconds: 500), .xx))
        XCTAssertTrue(applies(expiring, .at(milliseconds: 500), .xx))
        XCTAssertFalse(applies(plain, .at(milliseconds: 500), .gt), "no ttl counts as infinite")
        XCTAssertTrue(applies(expiring, .at(milliseconds: 2000), .gt))
        XCTAssertFalse(applies(expiring, .at(milliseconds: 1000), .gt))
        XCTAssertTrue(applies(plain, .at(milliseconds: 500), .lt))
        XCTAssertTrue(applies(expiring, .at(milliseconds: 500), .lt))
        XCTAssertFalse(applies(expiring, .at(milliseconds: 2000), .lt))
        let xxLT = { (state: KeyState) in
            ExpiryTouch.plan(read: state, change: .at(milliseconds: 500), conditions: [.xx, .lt], nowMilliseconds: 200, stamp: self.ts(200)) != nil
        }
        XCTAssertFalse(xxLT(plain), "XX LT: only a key with a ttl")
        XCTAssertTrue(xxLT(expiring))
        XCTAssertFalse(applies(plain, .persist, nil), "PERSIST without a ttl answers 0")
        XCTAssertTrue(applies(expiring, .persist, nil))
        XCTAssertFalse(applies(expiring.strippingExpired(atMilliseconds: 1000), .at(milliseconds: 5000), nil), "absent")
        XCTAssertFalse(ExpiryTouch.plan(read: nil, change: .persist, conditions: [], nowMilliseconds: 0, stamp: ts(1)) != nil)
        // A deadline in the past expires the key at once (Redis deletes it).
        let past = try XCTUnwrap(ExpiryTouch.plan(read: plain, change: .at(milliseconds: 150), conditions: [], nowMilliseconds: 200, stamp: ts(200)))
        XCTAssertTrue(past.isDeleted(atMilliseconds: 200))
    }

    /// A SET without KEEPTTL clears the ttl: the new dot has no register.
    func testAWriteWithoutADeadlineClearsTheTTL() throws {
        let expiring = try write("v", at: 100, deadline: 1000, mode: .lww)
        let rewritten = try write(expiring, "w", at: 200, mode: .lww)
        XCTAssertEqual(rewritten.siblings.map(\.expiry), [.none])
        XCTAssertEqual(rewritten.encoded().first, 1, "no expiry left: version 1 bytes")
    }

    // MARK: Purge

    func testAnExpiredVersionIsPurgedLikeATombstoneFromItsDeadline() throws {
        let grace: UInt64 = 60_000
        let full = try write("v", at: 100, deadline: 10_000, mode: .lww)
        let stripped = full.strippingExpired(atMilliseconds: 10_000)
        let now = 10_000 + grace
        let digest = TombstonePurgeRule.purgeDigest(of: stripped, nowMilliseconds: now)
        XCTAssertEqual(TombstonePurgeRule.purgeDigest(of: full, nowMilliseconds: now), digest, "full and stripped copies agree")
        XCTAssertEqual(
            TombstonePurgeRule.decide(state: full, nowMilliseconds: now - 1, graceMilliseconds: grace, replicaDigests: [digest]),
            .keep(.withinGrace(remainingMilliseconds: 1)), "grace counts from the deadline, not the write")
        XCTAssertEqual(
            TombstonePurgeRule.decide(state: full, nowMilliseconds: now, graceMilliseconds: grace, replicaDigests: [digest, digest]),
            .purge)
        XCTAssertEqual(
            TombstonePurgeRule.decide(state: full, nowMilliseconds: 5000, graceMilliseconds: grace, replicaDigests: [digest]),
            .keep(.liveSibling), "not expired yet")
        XCTAssertTrue(TombstonePurgeRule.storedStateMatches(full.encoded(), digest: digest, nowMilliseconds: now))
        XCTAssertTrue(TombstonePurgeRule.storedStateMatches(stripped.encoded(), digest: digest, nowMilliseconds: now))
        let rewritten = try write(full, "w", at: 20_000, mode: .lww)
        XCTAssertFalse(TombstonePurgeRule.storedStateMatches(rewritten.encoded(), digest: digest, nowMilliseconds: now))
    }
}
