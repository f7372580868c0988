import XCTest

@testable import QuorumCore

/// The version 1 encodings committed under `Tests/Fixtures/format-v1` still decode to the
/// values they were made from, and today's encoders still write them byte for byte.
///
/// A failing re-encode means an encoding changed: give it a new version in `Formats`,
/// add a decoder for it beside the old ones, and add fixtures of the new version. Never
/// edit or regenerate these files. (The stored rows' `StoredBlob` header and the LZ4
/// forms are checked in QuorumStorageTests.)
final class FormatV1FixtureTests: XCTestCase {
    // MARK: Versions

    /// Every format starts at version 1, and each version it reads has fixtures.
    func testEveryReadableVersionHasFixtures() throws {
        let formats: [(name: String, versions: FormatVersions, fixture: String)] = [
            ("keyState", Formats.keyState, "row-"),
            ("bucketProps", Formats.bucketProps, "bucket-props"),
            ("membershipState", Formats.membershipState, "membership-state"),
            ("gossipMessage", Formats.gossipMessage, "gossip"),
            ("repairBatch", Formats.repairBatch, "repair-batch"),
            ("hint", Formats.hint, "hint"),
            ("contextToken", Formats.contextToken, "context-token"),
            ("peerProtocol", Formats.peerProtocol, "frame-"),
            ("paxosState", Formats.paxosState, "paxos-state"),
        ]
        for format in formats {
            XCTAssertEqual(format.versions.readable.lowerBound, 1, "\(format.name): decoders are never removed, so version 1 stays readable")
            for version in format.versions.readable {
                let names = (try? FormatFixtures.fileNames(version: Int(version))) ?? []
                XCTAssertTrue(
                    names.contains { $0.contains(format.fixture) },
                    "\(format.name) version \(version) has no fixture in Tests/Fixtures/format-v\(version)")
            }
        }
        XCTAssertEqual(Frame.protocolVersion, Formats.peerProtocol.newest)
        XCTAssertEqual(Frame.protocolVersionsSupported, Formats.peerProtocol.readable)
    }

    // MARK: Stored rows and other stored encodings

    func testVclockRowDecodesFieldByField() throws {
        let row = try FormatFixtures.bytes("row-vclock-raw")
        XCTAssertEqual(row.first, 0, "a raw-tagged StoredBlob")
        let state = try KeyState(decoding: Array(row.dropFirst()))
        XCTAssertEqual(state.clock.entries.map(\.actor), [FormatV1.actorA, FormatV1.actorB])
        XCTAssertEqual(state.clock.entries.map(\.counter), [300, 2])
        XCTAssertEqual(state.clock.entries.map(\.touchedMilliseconds), [1_700_000_000_123, 1_700_000_000_456])
        XCTAssertEqual(state.siblings.count, 2)
        let live = state.siblings[0]
        XCTAssertEqual(live.dot, Dot(actor: FormatV1.actorA, counter: 300))
        XCTAssertFalse(live.isTombstone)
        XCTAssertEqual(live.contentType, "text/plain; charset=utf-8")
        XCTAssertEqual(live.value, FormatV1.vclockValue)
        XCTAssertEqual(live.timestamp, HLCTimestamp(physicalMilliseconds: 1_700_000_000_123, logical: 0))
        let tombstone = state.siblings[1]
        XCTAssertEqual(tombstone.dot, Dot(actor: FormatV1.actorB, counter: 2))
        XCTAssertTrue(tombstone.isTombstone)
        XCTAssertEqual(tombstone.contentType, "")
        XCTAssertEqual(tombstone.value, [])
        XCTAssertEqual(tombstone.timestamp, HLCTimestamp(physicalMilliseconds: 1_700_000_000_456, logical: 7))
        XCTAssertEqual(state, FormatV1.vclockState)
        assertSameEncoding([0] + FormatV1.vclockState.encoded(), row, "row-vclock-raw")
    }

    func testLWWRowDecodesFieldByField() throws {
        let row = try FormatFixtures.bytes("row-lww-raw")
        XCTAssertEqual(row.first, 0, "a raw-tagged StoredBlob")
        let state = try KeyState(decoding: Array(row.dropFirst()))
        XCTAssertTrue(state.clock.isEmpty)
        XCTAssertEqual(state.siblings.count, 1)
        let version = try XCTUnwrap(state.siblings.first)
        XCTAssertEqual(version.dot, Dot(actor: FormatV1.actorA, counter: 1))
        XCTAssertFalse(version.isTombstone)
        XCTAssertEqual(version.contentType, "application/json")
        XCTAssertEqual(String(decoding: version.value, as: UTF8.self), #"{"name":"alice"}"#)
        XCTAssertEqual(version.timestamp, HLCTimestamp(physicalMilliseconds: 1_700_000_001_000, logical: 2))
        XCTAssertEqual(state, FormatV1.lwwState)
        assertSameEncoding([0] + FormatV1.lwwState.encoded(), row, "row-lww-raw")
    }

    func testBucketPropsDecodeFieldByField() throws {
        let bytes = try FormatFixtures.bytes("bucket-props")
        let props = try BucketProps(decoding: bytes)
        XCTAssertEqual(props.n, 5)
        XCTAssertEqual(props.r, .count(2))
        XCTAssertEqual(props.w, .quorum)
        XCTAssertEqual(props.conflict, .vclock)
        XCTAssertEqual(props.version, HLCTimestamp(physicalMilliseconds: 1_700_000_002_000, logical: 1))
        assertSameEncoding(FormatV1.bucketProps.encoded(), bytes, "bucket-props")
    }

    func testMembershipStateDecodesFieldByField() throws {
        let bytes = try FormatFixtures.bytes("membership-state")
        let state = try MembershipState(decoding: bytes)
        XCTAssertEqual(state.partitionCount, 64)
        XCTAssertEqual(state.members.keys.sorted(), ["node-a", "node-b", "node-c", "node-d"])
        XCTAssertEqual(state.members["node-a"]?.status, .up)
        XCTAssertEqual(state.members["node-b"]?.status, .leaving)
        XCTAssertEqual(state.members["node-c"]?.status, .left)
        XCTAssertEqual(state.members["node-d"]?.status, .joining)
        XCTAssertEqual(state.members["node-b"]?.peerAddress, "10.0.0.2:7000")
        XCTAssertEqual(state.members["node-b"]?.httpAddress, "10.0.0.2:8081")
        XCTAssertEqual(state.members["node-d"]?.httpAddress, "")
        XCTAssertEqual(state.members["node-c"]?.version, 5)
        XCTAssertEqual(state.ringOrder, ["node-a", "node-b", "node-c", "node-d"])
        XCTAssertEqual(state.bucketProps["users"], FormatV1.bucketProps)
        XCTAssertEqual(state.bucketProps["sessions"]?.r, .two)
        XCTAssertEqual(state.bucketProps["sessions"]?.w, .three)
        XCTAssertEqual(state, FormatV1.membership)
        assertSameEncoding(FormatV1.membership.encoded(), bytes, "membership-state")
        // Gossip compares digests of the encoding, so nodes of both sides of an upgrade agree.
        XCTAssertEqual(state.digest, StableHash.hash(bytes))
    }

    func testRepairBatchDecodesFieldByField() throws {
        let bytes = try FormatFixtures.bytes("repair-batch")
        let batch = try RepairBatch(decoding: bytes)
        XCTAssertEqual(batch.entries.map(\.bucket), ["users", "cache"])
        XCTAssertEqual(batch.entries.map(\.key), [Array("alice".utf8), [0x00, 0xFF, 0x10]])
        XCTAssertEqual(batch.entries.map(\.mode), [.vclock, .lww])
        XCTAssertEqual(batch.entries.map(\.state), [FormatV1.vclockState, FormatV1.lwwState])
        assertSameEncoding(FormatV1.repairBatch.encoded(), bytes, "repair-batch")
    }

    func testHintDecodesFieldByField() throws {
        let bytes = try FormatFixtures.bytes("hint")
        let hint = try Hint(decoding: bytes)
        XCTAssertEqual(hint.id, 7)
        XCTAssertEqual(hint.target, "node-b")
        XCTAssertEqual(hint.bucket, "users")
        XCTAssertEqual(hint.key, Array("alice".utf8))
        XCTAssertEqual(hint.mode, .vclock)
        XCTAssertEqual(hint.createdMilliseconds, 1_700_000_003_000)
        XCTAssertEqual(hint.state, FormatV1.vclockState)
        assertSameEncoding(FormatV1.hint.encoded(), bytes, "hint")
        XCTAssertEqual(FormatV1.hint.byteSize, bytes.count)
    }

    /// A client may keep a context from a node of one version and send it to another.
    func testContextTokenDecodes() throws {
        let token = try FormatFixtures.text("context-token.txt")
        let context = try VersionVector(contextToken: token)
        XCTAssertEqual(context.entries.map(\.actor), [FormatV1.actorA, FormatV1.actorB])
        XCTAssertEqual(context.entries.map(\.counter), [300, 2])
        XCTAssertEqual(context.entries.map(\.touchedMilliseconds), [0, 0], "touch times stay on the server")
        assertSameEncoding(Array(FormatV1.vclockState.context.contextToken.utf8), Array(token.utf8), "context-token")
    }

    // MARK: Peer frames

    private func frame(_ name: String) throws -> (frame: Frame, bytes: [UInt8]) {
        let bytes = try FormatFixtures.bytes(name)
        let decoded = try XCTUnwrap(Frame.decode(bytes, frameBytesMax: 1 << 20), "\(name) is not a whole frame")
        XCTAssertEqual(decoded.consumed, bytes.count, name)
        XCTAssertEqual(decoded.frame.version, 1, name)
        return (decoded.frame, bytes)
    }

    func testHelloAndErrorFramesDecode() throws {
        let hello = try frame("frame-hello")
        XCTAssertEqual(hello.frame.kind, .hello)
        XCTAssertEqual(hello.frame.requestID, 0)
        let decoded = try PeerHello(decoding: hello.frame.payload)
        XCTAssertEqual(decoded.nodeID, "node-a")
        // Nodes refuse each other when these differ, so the digest must not change by upgrade.
        XCTAssertEqual(decoded.clusterDigest, PeerHello.clusterDigest(partitionCount: 64))
        assertSameEncoding(Frame(kind: .hello, requestID: 0, payload: FormatV1.hello.encoded()).encoded(), hello.bytes, "frame-hello")

        let error = try frame("frame-error")
        XCTAssertEqual(error.frame.kind, .error)
        XCTAssertEqual(error.frame.requestID, 14)
        XCTAssertEqual(String(decoding: error.frame.payload, as: UTF8.self), FormatV1.errorMessage)
        assertSameEncoding(Frame(kind: .error, requestID: 14, payload: Array(FormatV1.errorMessage.utf8)).encoded(), error.bytes, "frame-error")
    }

    func testEveryRequestFrameDecodes() throws {
        for (name, id, expected) in FormatV1.requests {
            let (frame, bytes) = try frame("frame-request-" + name)
            XCTAssertEqual(frame.kind, .request, name)
            XCTAssertEqual(frame.requestID, id, name)
            XCTAssertEqual(try PeerRequest(decoding: frame.payload), expected, name)
            assertSameEncoding(Frame(kind: .request, requestID: id, payload: expected.encoded()).encoded(), bytes, "frame-request-" + name)
        }
        // Decoded above as a whole; the two that carry more encodings, field by field.
        let write = try PeerRequest(decoding: try frame("frame-request-coordinate-write").frame.payload)
        guard case .coordinateWrite(let bucket, let key, let intent, let mode, let timestamp, let ifAbsent) = write else {
            return XCTFail("not a coordinateWrite: \(write)")
        }
        XCTAssertEqual(bucket, "users")
        XCTAssertEqual(key, Array("alice".utf8))
        XCTAssertEqual(intent.value, Array("hello".utf8))
        XCTAssertEqual(intent.contentType, "text/plain")
        XCTAssertFalse(intent.isTombstone)
        XCTAssertEqual(intent.context.entries.map(\.counter), [300, 2])
        XCTAssertEqual(mode, .vclock)
        XCTAssertEqual(timestamp, HLCTimestamp(physicalMilliseconds: 1_700_000_004_000, logical: 0))
        XCTAssertTrue(ifAbsent)

        guard case .gossip(let message) = try PeerRequest(decoding: try frame("frame-request-gossip").frame.payload) else {
            return XCTFail("not a gossip request")
        }
        let gossip = try GossipMessage(decoding: message)
        XCTAssertEqual(gossip.sender, "node-a")
        XCTAssertEqual(gossip.heartbeats["node-a"], Heartbeat(generation: 1_700_000_000_000, counter: 42))
        XCTAssertEqual(gossip.heartbeats["node-b"], Heartbeat(generation: 1_699_999_000_000, counter: 7))
        XCTAssertFalse(gossip.isReply)
        XCTAssertEqual(gossip.state, FormatV1.membership)
        XCTAssertEqual(gossip.digest, FormatV1.membership.digest)
    }

    /// Its payload is LZ4, which QuorumStorageTests inflates back to `repair-batch`.
    func testMergeBatchRequestFrameDecodes() throws {
        let (frame, bytes) = try frame("frame-request-merge-batch")
        XCTAssertEqual(frame.kind, .request)
        XCTAssertEqual(frame.requestID, FormatV1.mergeBatchRequestID)
        let request = try PeerRequest(decoding: frame.payload)
        guard case .mergeBatch(let compressed, let originalLength) = request else { return XCTFail("not a mergeBatch: \(request)") }
        XCTAssertEqual(originalLength, try FormatFixtures.bytes("repair-batch").count)
        XCTAssertFalse(compressed.isEmpty)
        assertSameEncoding(
            Frame(kind: .request, requestID: FormatV1.mergeBatchRequestID, payload: request.encoded()).encoded(), bytes,
            "frame-request-merge-batch")
    }

    func testEveryResponseFrameDecodes() throws {
        for (name, id, expected) in FormatV1.responses {
            let (frame, bytes) = try frame("frame-response-" + name)
            XCTAssertEqual(frame.kind, .response, name)
            XCTAssertEqual(frame.requestID, id, name)
            XCTAssertEqual(try PeerResponse(decoding: frame.payload), expected, name)
            assertSameEncoding(Frame(kind: .response, requestID: id, payload: expected.encoded()).encoded(), bytes, "frame-response-" + name)
        }
        guard case .gossip(let message) = try PeerResponse(decoding: try frame("frame-response-gossip").frame.payload) else {
            return XCTFail("not a gossip answer")
        }
        let gossip = try GossipMessage(decoding: message)
        XCTAssertEqual(gossip.sender, "node-b")
        XCTAssertEqual(gossip.heartbeats, ["node-b": Heartbeat(generation: 1_699_999_000_000, counter: 8)])
        XCTAssertEqual(gossip.digest, 0x0123_4567_89AB_CDEF)
        XCTAssertNil(gossip.state)
        XCTAssertTrue(gossip.isReply)
    }

    /// One fixture per request and response kind, and no fixture left unchecked. A new
    /// kind fails to compile in `kindName` below: add a fixture of it. (A new request kind
    /// keeps the protocol version: an older node answers it with a failure. A new response
    /// kind is a new protocol version; see `Formats`.)
    func testFixturesCoverEveryMessageKind() throws {
        let requests = FormatV1.requests.map(\.request) + [.mergeBatch(compressed: [], originalLength: 0)]
        XCTAssertEqual(Set(requests.map(Self.kindName)).count, 14, "every PeerRequest kind")
        XCTAssertEqual(Set(FormatV1.responses.map(\.response).map(Self.kindName)).count, 10, "every PeerResponse tag")
        let frameFiles = Set(try FormatFixtures.fileNames(version: 1).filter { $0.hasPrefix("frame-") })
        let checked = Set(
            FormatV1.requests.map { "frame-request-\($0.name).hex" } + FormatV1.responses.map { "frame-response-\($0.name).hex" }
                + ["frame-request-merge-batch.hex", "frame-hello.hex", "frame-error.hex"])
        XCTAssertEqual(frameFiles, checked)
    }

    private static func kindName(_ request: PeerRequest) -> String {
        switch request {
        case .fetch: return "fetch"
        case .coordinateWrite: return "coordinateWrite"
        case .merge: return "merge"
        case .setBucketProps: return "setBucketProps"
        case .listKeys: return "listKeys"
        case .storeHint: return "storeHint"
        case .gossip: return "gossip"
        case .treeRoot: return "treeRoot"
        case .treeHashes: return "treeHashes"
        case .segmentKeys: return "segmentKeys"
        case .mergeBatch: return "mergeBatch"
        case .ping: return "ping"
        case .purge: return "purge"
        case .truncate: return "truncate"
        case .typedUpdate, .typedMerge, .typedFetch, .storeTypedHint: return "typed"
        case .paxosPrepare, .paxosPropose, .paxosCommit, .paxosFloor, .paxosFence, .strongFetch: return "paxos"
        }
    }

    private static func kindName(_ response: PeerResponse) -> String {
        switch response {
        case .state(nil): return "stateAbsent"
        case .state: return "state"
        case .ack: return "ack"
        case .failure: return "failure"
        case .pong: return "pong"
        case .gossip: return "gossip"
        case .treeRoot: return "treeRoot"
        case .treeHashes: return "treeHashes"
        case .segmentKeys: return "segmentKeys"
        case .keys: return "keys"
        case .typedApplied, .typed: return "typed"
        case .paxos, .paxosFloor, .paxosFenced, .strongCommit: return "paxos"
        }
    }

    // MARK: Newer versions

    /// What an older node does with an encoding from a newer one: refuse it, saying to upgrade.
    /// "Newer" is the version after the newest each encoding reads (KeyState and BucketProps
    /// read 2 since expiry, so their first unreadable version is 3).
    func testNewerVersionsAreRefusedWithAnUpgradeMessage() throws {
        func newer(_ bytes: [UInt8], than format: FormatVersions) -> [UInt8] {
            var changed = bytes
            changed[0] = format.newest + 1
            return changed
        }
        let cases: [(String, UInt8, () throws -> Void)] = [
            ("KeyState", Formats.keyState.newest + 1, { _ = try KeyState(decoding: newer(FormatV1.vclockState.encoded(), than: Formats.keyState)) }),
            ("BucketProps", Formats.bucketProps.newest + 1, { _ = try BucketProps(decoding: newer(FormatV1.bucketProps.encoded(), than: Formats.bucketProps)) }),
            ("MembershipState", Formats.membershipState.newest + 1, { _ = try MembershipState(decoding: newer(FormatV1.membership.encoded(), than: Formats.membershipState)) }),
            ("GossipMessage", Formats.gossipMessage.newest + 1, { _ = try GossipMessage(decoding: newer(FormatV1.gossipRequest.encoded(), than: Formats.gossipMessage)) }),
            ("RepairBatch", Formats.repairBatch.newest + 1, { _ = try RepairBatch(decoding: newer(FormatV1.repairBatch.encoded(), than: Formats.repairBatch)) }),
            ("Hint", Formats.hint.newest + 1, { _ = try Hint(decoding: newer(FormatV1.hint.encoded(), than: Formats.hint)) }),
            (
                "Frame", Formats.peerProtocol.newest + 1,
                {
                    var bytes = Frame(kind: .request, requestID: 1, payload: PeerRequest.ping.encoded()).encoded()
                    bytes[4] = Formats.peerProtocol.newest + 1
                    _ = try Frame.decode(bytes, frameBytesMax: 1024)
                }
            ),
        ]
        for (name, version, decode) in cases {
            XCTAssertThrowsError(try decode(), name) { error in
                XCTAssertEqual(error as? WireError, .unsupportedVersion(version), name)
                let message = "\(error)"
                XCTAssertTrue(message.contains("format version \(version)"), message)
                XCTAssertTrue(message.contains("newer QuorumKV"), message)
                XCTAssertTrue(message.contains("upgrade this node"), message)
            }
        }
        // A state inside a message is refused the same way.
        let merge = PeerRequest.merge(bucket: "b", key: [1], state: FormatV1.lwwState, mode: .lww).encoded()
        var newerState = merge
        let stateStart = merge.count - FormatV1.lwwState.encoded().count
        newerState[stateStart] = Formats.keyState.newest + 1
        XCTAssertThrowsError(try PeerRequest(decoding: newerState)) {
            XCTAssertEqual($0 as? WireError, .unsupportedVersion(Formats.keyState.newest + 1))
        }

        var token = Base64URL.decode(FormatV1.vclockState.context.contextToken)!
        token[0] = 2
        XCTAssertThrowsError(try VersionVector(contextToken: Base64URL.encode(token))) { error in
            guard case .badParameter(let name, let message) = error as? KVError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "context")
            XCTAssertTrue(message.contains("newer QuorumKV"), message)
        }
    }

    /// Version 0 was never written: such bytes are damaged, and the message says so
    /// rather than sending the operator off to upgrade.
    func testVersionZeroIsCalledDamaged() {
        var bytes = FormatV1.vclockState.encoded()
        bytes[0] = 0
        XCTAssertThrowsError(try KeyState(decoding: bytes)) { error in
            XCTAssertEqual(error as? WireError, .unsupportedVersion(0))
            XCTAssertTrue("\(error)".contains("damaged"), "\(error)")
            XCTAssertFalse("\(error)".contains("upgrade"), "\(error)")
        }
    }

    func testFramesKeepTheVersionTheyWereReadIn() throws {
        let frame = Frame(kind: .response, requestID: 3, payload: [1, 2])
        XCTAssertEqual(frame.version, Frame.protocolVersion)
        for version in Frame.protocolVersionsSupported {
            let bytes = Frame(version: version, kind: .response, requestID: 3, payload: [1, 2]).encoded()
            XCTAssertEqual(bytes[4], version)
            XCTAssertEqual(try Frame.decode(bytes, frameBytesMax: 1024)?.frame.version, version)
        }
    }
}
