import XCTest

@testable import QuorumCore

final class PaxosCodecTests: XCTestCase {
    private var full: AcceptorState {
        AcceptorState(
            promised: ballot(12, "n2"),
            accepted: PaxosProposal(ballot: ballot(11, "n1"), value: text("next"), basedOn: ballot(3, "n3")),
            committed: PaxosCommit(ballot: ballot(3, "n3"), value: .tombstone))
    }

    func testStatesRoundTrip() throws {
        let states = [
            AcceptorState.empty, .wiped, full, AcceptorState(promised: ballot(1)),
            AcceptorState(promised: ballot(4), committed: PaxosCommit(ballot: ballot(4), value: .value(bytes: [], contentType: ""))),
        ]
        for state in states {
            XCTAssertEqual(try AcceptorState(decoding: state.encoded()), state)
        }
    }

    func testCanonicalBytes() {
        XCTAssertEqual(AcceptorState.empty.encoded(), [1, 0])
        XCTAssertEqual(AcceptorState.wiped.encoded(), [1, 0b1000])
        XCTAssertEqual(
            AcceptorState(promised: PaxosBallot(timestamp: stamp(258, 3), node: "a")).encoded(),
            [1, 0b0001, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 1, 0x61])
        let commit = PaxosCommit(ballot: PaxosBallot(timestamp: stamp(1), node: "b"), value: .value(bytes: [7], contentType: "t"))
        XCTAssertEqual(
            AcceptorState(promised: commit.ballot, committed: commit).encoded(),
            [1, 0b0101]
                + [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0x62]
                + [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0x62, 1, 1, 0x74, 1, 7, 0])
        XCTAssertEqual(full.encoded(), full.encoded())
        XCTAssertEqual(Formats.paxosState.readable, 1...1)
    }

    func testBallotAndETagRoundTrip() throws {
        let b = PaxosBallot(timestamp: stamp(1_700_000_000_000, 42), node: "node-7")
        XCTAssertEqual(try PaxosBallot(decoding: b.encoded()), b)
        let etag = StrongETag(ballot: b)
        XCTAssertEqual(StrongETag(token: etag.token), etag)
        XCTAssertNil(StrongETag(token: "not an etag!"))
        XCTAssertNil(StrongETag(token: Base64URL.encode(b.encoded() + [0])))
    }

    func testDecodersRejectGarbage() {
        let good = full.encoded()
        XCTAssertThrowsError(try AcceptorState(decoding: [])) { XCTAssertEqual($0 as? WireError, .truncated) }
        XCTAssertThrowsError(try AcceptorState(decoding: good + [0])) { error in
            guard case .malformed = error as? WireError else { return XCTFail("\(error)") }
        }
        for length in 1..<good.count {
            XCTAssertThrowsError(try AcceptorState(decoding: Array(good.prefix(length))), "prefix of \(length) bytes")
        }
        XCTAssertThrowsError(try AcceptorState(decoding: [0, 0])) { XCTAssertEqual($0 as? WireError, .unsupportedVersion(0)) }
        XCTAssertThrowsError(try AcceptorState(decoding: [2, 0])) { XCTAssertEqual($0 as? WireError, .unsupportedVersion(2)) }
        XCTAssertThrowsError(try AcceptorState(decoding: [1, 0b1_0000]), "unknown flag")
        // A value tag out of range.
        var bad = AcceptorState(committed: PaxosCommit(ballot: ballot(1), value: .tombstone)).encoded()
        bad[bad.count - 2] = 2
        XCTAssertThrowsError(try AcceptorState(decoding: bad)) { XCTAssertEqual($0 as? WireError, .malformed("strong value tag 2")) }
        let backwards = AcceptorState(committed: PaxosCommit(ballot: ballot(1), value: .tombstone, basedOn: ballot(2)))
        XCTAssertThrowsError(try AcceptorState(decoding: backwards.encoded()), "a commit based on a later one")
        // Relations the acceptor keeps: accepted above the promise, or not above the commit.
        let above = AcceptorState(
            promised: ballot(1), accepted: PaxosProposal(ballot: ballot(2), value: .tombstone, basedOn: nil))
        XCTAssertThrowsError(try AcceptorState(decoding: above.encoded()))
        let stale = AcceptorState(
            promised: ballot(5), accepted: PaxosProposal(ballot: ballot(4), value: .tombstone, basedOn: nil),
            committed: PaxosCommit(ballot: ballot(4), value: .tombstone))
        XCTAssertThrowsError(try AcceptorState(decoding: stale.encoded()))
        XCTAssertThrowsError(try PaxosBallot(decoding: ballot(1, "").encoded()), "empty node id")
        XCTAssertThrowsError(try PaxosBallot(decoding: ballot(1, String(repeating: "x", count: 256)).encoded()))
    }

    func testRandomBytesNeverCrashTheDecoder() {
        var random = SplitMix64(seed: 17)
        for _ in 0..<2000 {
            let count = Int(random.next() % 40)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if !bytes.isEmpty { bytes[0] = 1 }
            if let state = try? AcceptorState(decoding: bytes) {
                XCTAssertEqual(try? AcceptorState(decoding: state.encoded()), state, "whatever decodes round-trips")
            }
        }
    }

    func testBackoffIsRandomisedAndBounded() {
        let limits = ConsensusLimits(attemptsMax: 5, backoffBaseMilliseconds: 10, backoffMillisecondsMax: 100)
        XCTAssertTrue(limits.isConsistent)
        XCTAssertFalse(ConsensusLimits(attemptsMax: 5, backoffBaseMilliseconds: 200, backoffMillisecondsMax: 100).isConsistent)
        var random = SplitMix64(seed: 1)
        for retry in 1...40 {
            let ceiling = min(100, UInt64(10) << UInt64(min(retry - 1, 32)))
            for _ in 0..<20 {
                let delay = limits.backoffMilliseconds(retry: retry, draw: random.next())
                XCTAssertTrue((ceiling / 2...ceiling).contains(delay), "retry \(retry): \(delay)")
            }
        }
        XCTAssertNotEqual(limits.backoffMilliseconds(retry: 3, draw: 0), limits.backoffMilliseconds(retry: 3, draw: 7))
    }
}

/// `Tests/Fixtures/format-v1/paxos-state.hex`: version 1 of `AcceptorState`. Never
/// regenerate it; a failing re-encode means the encoding changed and needs a new version.
final class PaxosStateFixtureTests: XCTestCase {
    static let state = AcceptorState(
        promised: PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_500, logical: 2), node: "node-b"),
        accepted: PaxosProposal(
            ballot: PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_400, logical: 0), node: "node-a"),
            value: .value(bytes: Array("next".utf8), contentType: "text/plain; charset=utf-8"),
            basedOn: PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_123, logical: 1), node: "node-c")),
        committed: PaxosCommit(
            ballot: PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_123, logical: 1), node: "node-c"),
            value: .value(bytes: Array("v1".utf8), contentType: "text/plain; charset=utf-8")))

    func testVersion1FixtureDecodesAndReencodes() throws {
        let bytes = try FormatFixtures.bytes("paxos-state")
        XCTAssertEqual(try AcceptorState(decoding: bytes), Self.state)
        assertSameEncoding(Self.state.encoded(), bytes, "paxos-state")
    }
}
