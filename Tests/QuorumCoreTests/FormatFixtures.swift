import Foundation
import XCTest

@testable import QuorumCore

/// Reads the committed encodings under `Tests/Fixtures` (see the README there).
enum FormatFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// The bytes of a `.hex` fixture (whitespace between hex digits is ignored).
    static func bytes(_ name: String, version: Int = 1) throws -> [UInt8] {
        let text = try self.text(name + ".hex", version: version)
        let digits = Array(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
        guard digits.count % 2 == 0 else { throw FixtureError.badHex(name) }
        return try stride(from: 0, to: digits.count, by: 2).map { index in
            guard let byte = UInt8(String(digits[index]) + String(digits[index + 1]), radix: 16) else {
                throw FixtureError.badHex(name)
            }
            return byte
        }
    }

    /// A text fixture's content without its trailing newline.
    static func text(_ fileName: String, version: Int = 1) throws -> String {
        let url = root.appendingPathComponent("format-v\(version)").appendingPathComponent(fileName)
        return try String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .newlines)
    }

    /// Names of the files in `format-v<version>`.
    static func fileNames(version: Int) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("format-v\(version)").path)
    }

    enum FixtureError: Error {
        case badHex(String)
    }
}

/// Fails, naming the first differing byte, when today's encoding of a value differs from
/// the committed fixture of it.
func assertSameEncoding(
    _ encoded: [UInt8], _ fixture: [UInt8], _ name: String, file: StaticString = #filePath, line: UInt = #line
) {
    guard encoded != fixture else { return }
    let offset = zip(encoded, fixture).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(encoded.count, fixture.count)
    XCTFail(
        "\(name): today's encoder writes other bytes than the fixture (first difference at byte \(offset); "
            + "\(encoded.count) bytes against \(fixture.count)). Don't edit the fixture: give the encoding a new "
            + "version in Formats and a decoder for it beside the old one.", file: file, line: line)
}

/// The values the version 1 fixtures encode, spelled out. A test decodes each fixture and
/// compares with these; never change them to make a test pass (see `Tests/Fixtures/README.md`).
enum FormatV1 {
    static let actorA = "node-a.loyq5j0g"
    static let actorB = "node-b.loyt4p1c"

    /// A `vclock` key with two concurrent versions: a value and a delete.
    static let vclockState = KeyState(
        clock: VersionVector(entries: [
            .init(actor: actorA, counter: 300, touchedMilliseconds: 1_700_000_000_123),
            .init(actor: actorB, counter: 2, touchedMilliseconds: 1_700_000_000_456),
        ]),
        siblings: [
            Sibling(
                dot: Dot(actor: actorA, counter: 300), value: vclockValue, contentType: "text/plain; charset=utf-8",
                isTombstone: false, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_123, logical: 0)),
            Sibling(
                dot: Dot(actor: actorB, counter: 2), value: [], contentType: "", isTombstone: true,
                timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_000_456, logical: 7)),
        ])

    /// Repetitive, so the stored row compresses (`row-vclock-lz4`).
    static let vclockValue = Array(String(repeating: "QuorumKV format v1 fixture. ", count: 8).utf8)

    /// An `lww` key: one version, and an empty clock (lww writes don't advance it).
    static let lwwState = KeyState(siblings: [
        Sibling(
            dot: Dot(actor: actorA, counter: 1), value: Array(#"{"name":"alice"}"#.utf8), contentType: "application/json",
            isTombstone: false, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_001_000, logical: 2))
    ])

    static let bucketProps = BucketProps(
        n: 5, r: .count(2), w: .quorum, conflict: .vclock, version: HLCTimestamp(physicalMilliseconds: 1_700_000_002_000, logical: 1))

    static let sessionProps = BucketProps(
        n: 3, r: .two, w: .three, conflict: .lww, version: HLCTimestamp(physicalMilliseconds: 1_700_000_002_500, logical: 0))

    static let eventProps = BucketProps(
        n: 3, r: .one, w: .all, conflict: .lww, version: HLCTimestamp(physicalMilliseconds: 1_700_000_002_900, logical: 3))

    /// One member in each status, and two buckets' props.
    static let membership = MembershipState(
        partitionCount: 64,
        members: [
            "node-a": ClusterMember(
                id: "node-a", peerAddress: "10.0.0.1:7000", httpAddress: "10.0.0.1:8081", status: .up, version: 1, ringPosition: 1),
            "node-b": ClusterMember(
                id: "node-b", peerAddress: "10.0.0.2:7000", httpAddress: "10.0.0.2:8081", status: .leaving, version: 3,
                ringPosition: 2),
            "node-c": ClusterMember(
                id: "node-c", peerAddress: "10.0.0.3:7000", httpAddress: "10.0.0.3:8081", status: .left, version: 5, ringPosition: 3),
            "node-d": ClusterMember(
                id: "node-d", peerAddress: "10.0.0.4:7000", httpAddress: "", status: .joining, version: 1, ringPosition: 4),
        ],
        bucketProps: ["users": bucketProps, "sessions": sessionProps])

    static let gossipRequest = GossipMessage(
        sender: "node-a",
        heartbeats: [
            "node-a": Heartbeat(generation: 1_700_000_000_000, counter: 42),
            "node-b": Heartbeat(generation: 1_699_999_000_000, counter: 7),
        ],
        digest: membership.digest, state: membership, isReply: false)

    static let gossipReply = GossipMessage(
        sender: "node-b", heartbeats: ["node-b": Heartbeat(generation: 1_699_999_000_000, counter: 8)],
        digest: 0x0123_4567_89AB_CDEF, state: nil, isReply: true)

    static let repairBatch = RepairBatch(entries: [
        .init(bucket: "users", key: Array("alice".utf8), state: vclockState, mode: .vclock),
        .init(bucket: "cache", key: [0x00, 0xFF, 0x10], state: lwwState, mode: .lww),
    ])

    static let hint = Hint(
        id: 7, target: "node-b", bucket: "users", key: Array("alice".utf8), state: vclockState, mode: .vclock,
        createdMilliseconds: 1_700_000_003_000)

    static let hello = PeerHello(nodeID: "node-a", clusterDigest: PeerHello.clusterDigest(partitionCount: 64))

    static let errorMessage = "overloaded: 4096 requests already outstanding on this connection"

    /// Every request kind: fixture name, request id, request. `mergeBatch` is left out: its
    /// payload is LZ4 (QuorumStorage), so its fixture is checked in `StoredRowFixtureTests`
    /// and only structurally here.
    static let requests: [(name: String, id: UInt64, request: PeerRequest)] = [
        ("fetch", 0x0102_0304_0506_0708, .fetch(bucket: "users", key: Array("alice".utf8))),
        (
            "coordinate-write", 2,
            .coordinateWrite(
                bucket: "users", key: Array("alice".utf8),
                intent: WriteIntent(
                    value: Array("hello".utf8), contentType: "text/plain",
                    context: VersionVector(entries: [.init(actor: actorA, counter: 300), .init(actor: actorB, counter: 2)])),
                mode: .vclock, timestamp: HLCTimestamp(physicalMilliseconds: 1_700_000_004_000, logical: 0), ifAbsent: true)
        ),
        ("merge", 3, .merge(bucket: "users", key: Array("alice".utf8), state: vclockState, mode: .vclock)),
        ("set-bucket-props", 4, .setBucketProps(bucket: "events", props: eventProps)),
        ("list-keys", 5, .listKeys(bucket: "users", partition: 17, after: Array("alice".utf8), limit: 1000)),
        ("store-hint", 6, .storeHint(target: "node-c", bucket: "cache", key: [0x00, 0xFF, 0x10], state: lwwState, mode: .lww)),
        ("gossip", 7, .gossip(message: gossipRequest.encoded())),
        ("tree-root", 8, .treeRoot(partition: 17)),
        ("tree-hashes", 9, .treeHashes(partition: 17, level: 2, indices: [0, 5, 300])),
        ("segment-keys", 10, .segmentKeys(partition: 17, segments: [3, 1023])),
        ("ping", 12, .ping),
        ("purge", 13, .purge(bucket: "users", key: Array("bob".utf8), digest: 0xFEDC_BA98_7654_3210)),
        ("truncate", 14, .truncate(bucket: "cache", point: HLCTimestamp(physicalMilliseconds: 1_700_000_005_000, logical: 3))),
    ]

    static let mergeBatchRequestID: UInt64 = 11

    /// Every response kind: fixture name, request id, response.
    static let responses: [(name: String, id: UInt64, response: PeerResponse)] = [
        ("state-absent", 101, .state(nil)),
        ("state", 102, .state(vclockState)),
        ("ack", 103, .ack),
        ("failure", 104, .failure(code: "timeout", message: "2 of 3 replicas answered within 2000 ms")),
        ("pong", 105, .pong),
        ("keys", 106, .keys([Array("alice".utf8), Array("bob".utf8), [0x00, 0xFF]], resumeAfter: Array("carol".utf8))),
        ("gossip", 107, .gossip(message: gossipReply.encoded())),
        ("tree-root", 108, .treeRoot(hash: 0x1122_3344_5566_7788, segmentCount: 1024, fanOut: 16)),
        ("tree-hashes", 109, .treeHashes([0: 0xAAAA_0000_0000_0001, 5: 0xBBBB_0000_0000_0005, 300: 0xCCCC_0000_0000_012C])),
        (
            "segment-keys", 110,
            .segmentKeys([
                SegmentKey(bucket: "users", key: Array("alice".utf8), digest: 0x0A0B_0C0D_0E0F_1011),
                SegmentKey(bucket: "cache", key: [0x00, 0xFF, 0x10], digest: 0x2021_2223_2425_2627),
            ])
        ),
    ]
}
