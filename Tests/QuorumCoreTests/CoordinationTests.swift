import XCTest
@testable import QuorumCore

final class CoordinationTests: XCTestCase {
    private let props = BucketProps.defaults
    private let nodes = ["n1", "n2", "n3"]

    func testConsistencyLevelsResolveAgainstN() {
        XCTAssertEqual(ConsistencyLevel(parsing: "QUORUM")?.resolve(n: 3), 2)
        XCTAssertEqual(ConsistencyLevel(parsing: "quorum")?.resolve(n: 5), 3)
        XCTAssertEqual(ConsistencyLevel(parsing: "all")?.resolve(n: 4), 4)
        XCTAssertEqual(ConsistencyLevel(parsing: "One")?.resolve(n: 3), 1)
        XCTAssertEqual(ConsistencyLevel(parsing: "2"), .count(2))
        XCTAssertNil(ConsistencyLevel(parsing: "most"))
        XCTAssertNil(ConsistencyLevel(parsing: "-1"))
    }

    func testInvalidCombinationsAreRejectedUpFront() {
        func resolve(_ options: RequestOptions, clusterSize: Int = 3) throws -> ResolvedOptions {
            try options.resolve(props: props, clusterSize: clusterSize, limits: .defaults)
        }
        XCTAssertEqual(try resolve(RequestOptions()), ResolvedOptions(n: 3, r: 2, w: 2))
        XCTAssertEqual(try resolve(RequestOptions(n: 1)), ResolvedOptions(n: 1, r: 1, w: 1))
        for bad in [
            RequestOptions(w: .count(4)), RequestOptions(r: .count(0)), RequestOptions(n: 4), RequestOptions(n: 0),
            RequestOptions(w: .count(1), pw: .count(2)), RequestOptions(timeoutMilliseconds: 0),
            RequestOptions(timeoutMilliseconds: 10_000_000),
        ] {
            XCTAssertThrowsError(try resolve(bad), "\(bad)") { error in
                XCTAssertEqual((error as? KVError)?.code, "bad_parameter")
            }
        }
        XCTAssertThrowsError(try resolve(RequestOptions(n: 3), clusterSize: 2)) { error in
            XCTAssertTrue((error as! KVError).message.contains("2 node"))
        }
        XCTAssertEqual(try resolve(RequestOptions(), clusterSize: 1), ResolvedOptions(n: 1, r: 1, w: 1), "the bucket's n=3 means every node of a one-node cluster")
    }

    func testOnlyTheOperationsQuorumIsCheckedAndBucketDefaultsAreCappedAtN() throws {
        let strictBucket = BucketProps(n: 3, r: .count(3), w: .count(3))
        let read = try RequestOptions(w: .count(99)).resolve(props: strictBucket, clusterSize: 3, limits: .defaults, for: .read)
        XCTAssertEqual(read.r, 3, "a read ignores w")
        XCTAssertThrowsError(try RequestOptions(w: .count(99)).resolve(props: strictBucket, clusterSize: 3, limits: .defaults, for: .write))
        let narrow = try RequestOptions(n: 1).resolve(props: strictBucket, clusterSize: 3, limits: .defaults, for: .write)
        XCTAssertEqual(narrow.w, 1, "the bucket's default w=3 is capped at the request's n=1")
        XCTAssertThrowsError(try RequestOptions(n: 1, w: .count(3)).resolve(props: strictBucket, clusterSize: 3, limits: .defaults, for: .write))
    }

    func testReplicaPlanFailsAsSoonAsTheQuorumIsOutOfReach() {
        var plan = ReplicaPlan(primaries: nodes, fallbacks: [], down: [], sloppy: false)
        XCTAssertNil(plan.recordFailure(of: "n1"))
        XCTAssertEqual(plan.status(needed: 2, primariesNeeded: 0), .pending)
        XCTAssertNil(plan.recordFailure(of: "n2"))
        XCTAssertEqual(plan.status(needed: 2, primariesNeeded: 0), .failed)
    }

    func testSloppyPlanPutsStandInsInTheSlotsOfDownPrimariesAndCountsThemApartFromPrimaries() {
        var plan = ReplicaPlan(primaries: nodes, fallbacks: ["n4", "n5"], down: ["n2", "n4"], sloppy: true)
        XCTAssertEqual(plan.slots.map(\.node), ["n1", "n5", "n3"], "n4 is down too, so n5 stands in for n2")
        XCTAssertTrue(plan.slots[1].isStandIn)
        XCTAssertTrue(plan.recordAnswer(from: "n1"))
        XCTAssertTrue(plan.recordAnswer(from: "n5"))
        XCTAssertEqual(plan.status(needed: 2, primariesNeeded: 0), .succeeded)
        XCTAssertEqual(plan.status(needed: 2, primariesNeeded: 2), .pending, "only one primary answered so far")
        XCTAssertNil(plan.recordFailure(of: "n3"), "no spare left")
        XCTAssertEqual(plan.status(needed: 2, primariesNeeded: 2), .failed)
        XCTAssertEqual(plan.primariesAnswered, 1)

        let strict = ReplicaPlan(primaries: nodes, fallbacks: ["n4"], down: ["n2"], sloppy: false)
        XCTAssertEqual(strict.slots.map(\.node), nodes, "no stand-ins without sloppy quorum")
    }

    func testFallbacksAreTheNodesPastThePreferenceList() {
        let ring = Ring(members: ["n1", "n2", "n3", "n4", "n5"])
        for partition in 0..<ring.partitionCount {
            let primaries = ring.preferenceList(partition: partition, n: 3)
            let fallbacks = ring.fallbacks(partition: partition, n: 3)
            XCTAssertEqual(fallbacks.count, 2)
            XCTAssertTrue(Set(primaries).isDisjoint(with: fallbacks))
        }
    }

    func testEveryReadQuorumCompletesAfterExactlyRReplies() throws {
        let stored = try KeyState().applying(
            WriteIntent(value: [1], contentType: "x"), actor: "n1", timestamp: .zero, mode: .lww, limits: .defaults)
        for r in 1...3 {
            var read = GetCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: r, w: 1), mode: .lww)
            for (index, node) in nodes.enumerated() {
                let outcome = read.receive(state: index == 0 ? stored : nil, from: node)
                if index + 1 < r {
                    XCTAssertEqual(outcome, .pending)
                } else if index + 1 == r {
                    XCTAssertEqual(outcome, .succeeded(stored, replies: r))
                } else {
                    XCTAssertEqual(outcome, .pending, "decided once")
                }
            }
        }
    }

    func testReadFailsEarlyAndOnDeadlineWithTheCountOfReplies() {
        var read = GetCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 3, w: 1), mode: .vclock)
        XCTAssertEqual(read.receive(state: nil, from: "n1"), .pending)
        let step = read.receiveFailure(from: "n2")
        guard case .outcome(.failed(let error)) = step else { return XCTFail("\(step)") }
        XCTAssertEqual(error, .quorumNotMet(operation: .read, needed: 3, answered: 1, primariesNeeded: 0, primariesAnswered: 1))
        XCTAssertTrue(error.message.contains("1 replied"))

        var slow = GetCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 2, w: 1), mode: .vclock)
        _ = slow.receive(state: nil, from: "n3")
        XCTAssertEqual(slow.deadlinePassed(), .failed(.quorumNotMet(operation: .read, needed: 2, answered: 1, primariesNeeded: 0, primariesAnswered: 1)))
        XCTAssertEqual(slow.receive(state: nil, from: "n1"), .pending, "nothing after the deadline")
    }

    func testReadMergesSiblingsFromDifferentReplicas() throws {
        let a = try KeyState().applying(WriteIntent(value: [1], contentType: "x"), actor: "n1", timestamp: .zero, mode: .vclock, limits: .defaults)
        let b = try KeyState().applying(WriteIntent(value: [2], contentType: "x"), actor: "n2", timestamp: .zero, mode: .vclock, limits: .defaults)
        var read = GetCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 2, w: 1), mode: .vclock)
        _ = read.receive(state: a, from: "n1")
        XCTAssertEqual(read.receive(state: b, from: "n2"), .succeeded(a.merged(with: b, mode: .vclock), replies: 2))
    }

    private func lwwVersion() -> Sibling {
        Sibling(dot: Dot(actor: "n1", counter: 0), value: [7], contentType: "x", isTombstone: false, timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0))
    }

    func testLWWWriteGoesToAllReplicasAndSucceedsAfterWAcks() {
        for w in 1...3 {
            var put = PutCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 1, w: w), mode: .lww, localNode: "n1", lwwVersion: lwwVersion())
            let start = put.start()
            XCTAssertEqual(start, [.replicate(state: KeyState(siblings: [lwwVersion()]), targets: nodes.map { ReplicaTarget(node: $0) })])
            for (index, node) in nodes.enumerated() {
                let actions = put.replicaAcked(node: node)
                if index + 1 == w {
                    XCTAssertEqual(actions, [.finish(.succeeded(state: KeyState(siblings: [lwwVersion()]), acks: w))])
                } else {
                    XCTAssertEqual(actions, [])
                }
            }
        }
    }

    func testWriteWithTwoReplicasDownFailsAtW2AndSucceedsAtW1() {
        var strict = PutCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 1, w: 2), mode: .lww, localNode: "n1", lwwVersion: lwwVersion())
        _ = strict.start()
        XCTAssertEqual(strict.replicaFailed(node: "n2"), [])
        XCTAssertEqual(strict.replicaAcked(node: "n1"), [])
        XCTAssertEqual(strict.replicaFailed(node: "n3"), [.finish(.failed(.quorumNotMet(operation: .write, needed: 2, answered: 1, primariesNeeded: 0, primariesAnswered: 1)))])

        var relaxed = PutCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 1, w: 1), mode: .lww, localNode: "n1", lwwVersion: lwwVersion())
        _ = relaxed.start()
        XCTAssertEqual(relaxed.replicaFailed(node: "n2"), [])
        XCTAssertEqual(relaxed.replicaAcked(node: "n1").count, 1)
    }

    func testAFailedPrimaryHandsItsSlotToAStandInThatHoldsAHint() {
        let plan = ReplicaPlan(primaries: nodes, fallbacks: ["n4"], down: [], sloppy: true)
        var put = PutCoordinator(plan: plan, options: ResolvedOptions(n: 3, r: 1, w: 3, pw: 2), mode: .lww, localNode: "n1", lwwVersion: lwwVersion())
        let state = KeyState(siblings: [lwwVersion()])
        _ = put.start()
        XCTAssertEqual(put.replicaFailed(node: "n3"), [.replicate(state: state, targets: [ReplicaTarget(node: "n4", hintFor: "n3")])])
        XCTAssertEqual(put.replicaAcked(node: "n1"), [])
        XCTAssertEqual(put.replicaAcked(node: "n4"), [])
        XCTAssertEqual(put.replicaAcked(node: "n2"), [.finish(.succeeded(state: state, acks: 3))])

        var strictPrimaries = PutCoordinator(
            plan: ReplicaPlan(primaries: nodes, fallbacks: ["n4"], down: ["n3"], sloppy: true),
            options: ResolvedOptions(n: 3, r: 1, w: 2, pw: 3), mode: .lww, localNode: "n1", lwwVersion: lwwVersion())
        XCTAssertEqual(
            strictPrimaries.start(),
            [.finish(.failed(.quorumNotMet(operation: .write, needed: 2, answered: 0, primariesNeeded: 3, primariesAnswered: 0)))],
            "pw=3 refuses stand-ins: with a primary down it fails at once")
    }

    func testVClockWriteIsNotLedByAStandInAndSkipsPrimariesBelievedDown() throws {
        let plan = ReplicaPlan(primaries: nodes, fallbacks: ["n4"], down: ["n1"], sloppy: true)
        var put = PutCoordinator(plan: plan, options: ResolvedOptions(n: 3, r: 1, w: 2), mode: .vclock, localNode: "n1", lwwVersion: nil)
        XCTAssertEqual(put.start(), [.askLead(node: "n2")])
        let state = try KeyState().applying(WriteIntent(value: [1], contentType: "x"), actor: "n2", timestamp: .zero, mode: .vclock, limits: .defaults)
        XCTAssertEqual(
            put.leadSucceeded(node: "n2", newState: state),
            [.replicate(state: state, targets: [ReplicaTarget(node: "n4", hintFor: "n1"), ReplicaTarget(node: "n3")])])
    }

    func testReadFailsOverToAStandInAndPlansRepairOfStalePrimaries() throws {
        let old = try KeyState().applying(WriteIntent(value: [1], contentType: "x"), actor: "a", timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0), mode: .lww, limits: .defaults)
        let new = try KeyState().applying(WriteIntent(value: [2], contentType: "x"), actor: "a", timestamp: HLCTimestamp(physicalMilliseconds: 2, logical: 0), mode: .lww, limits: .defaults)
        let plan = ReplicaPlan(primaries: nodes, fallbacks: ["n4"], down: [], sloppy: true)
        var read = GetCoordinator(plan: plan, options: ResolvedOptions(n: 3, r: 2, w: 1), mode: .lww)
        XCTAssertEqual(read.initialNodes, nodes)
        XCTAssertEqual(read.receiveFailure(from: "n3"), .ask(node: "n4", then: .pending))
        XCTAssertEqual(read.receive(state: old, from: "n1"), .pending)
        XCTAssertEqual(read.receive(state: new, from: "n4"), .succeeded(new, replies: 2))
        XCTAssertFalse(read.allAnswered)
        XCTAssertEqual(read.receive(state: nil, from: "n2"), .pending)
        XCTAssertTrue(read.allAnswered)
        XCTAssertEqual(read.readRepairTargets, ["n1", "n2"], "stale and missing primaries; never the stand-in")
        let repair = try XCTUnwrap(read.takeReadRepair())
        XCTAssertEqual(repair.state, new)
        XCTAssertEqual(repair.nodes, ["n1", "n2"])
        XCTAssertNil(read.takeReadRepair(), "planned once")
    }

    func testVClockWriteIsLedLocallyThenReplicated() throws {
        var put = PutCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 1, w: 2), mode: .vclock, localNode: "n2", lwwVersion: nil)
        XCTAssertEqual(put.start(), [.askLead(node: "n2")])
        let state = try KeyState().applying(WriteIntent(value: [1], contentType: "x"), actor: "n2", timestamp: .zero, mode: .vclock, limits: .defaults)
        XCTAssertEqual(put.leadSucceeded(node: "n2", newState: state), [.replicate(state: state, targets: [ReplicaTarget(node: "n1"), ReplicaTarget(node: "n3")])])
        XCTAssertEqual(put.replicaAcked(node: "n3"), [.finish(.succeeded(state: state, acks: 2))])
        XCTAssertTrue(put.isDone)
    }

    func testVClockWriteFailsOverToTheNextLeadButNotOnASiblingLimit() {
        var put = PutCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 1, w: 1), mode: .vclock, localNode: "elsewhere", lwwVersion: nil)
        XCTAssertEqual(put.start(), [.askLead(node: "n1")])
        XCTAssertEqual(put.leadFailed(node: "n1", error: nil), [.askLead(node: "n2")])
        XCTAssertEqual(put.leadFailed(node: "n2", error: .siblingLimit(limit: 64)), [.finish(.failed(.siblingLimit(limit: 64)))])

        var allDown = PutCoordinator(replicas: nodes, options: ResolvedOptions(n: 3, r: 1, w: 2), mode: .vclock, localNode: "n1", lwwVersion: nil)
        _ = allDown.start()
        XCTAssertEqual(allDown.leadFailed(node: "n1", error: nil), [.askLead(node: "n2")])
        XCTAssertEqual(allDown.leadFailed(node: "n2", error: nil), [.finish(.failed(.quorumNotMet(operation: .write, needed: 2, answered: 0, primariesNeeded: 0, primariesAnswered: 0)))])
    }

    func testCreateOnlyLWWWriteIsLedSoTheLeadCanCheckAtomically() throws {
        var put = PutCoordinator(
            replicas: nodes, options: ResolvedOptions(n: 3, r: 1, w: 2), mode: .lww, localNode: "n3", lwwVersion: lwwVersion(),
            leadRequired: true)
        XCTAssertEqual(put.start(), [.askLead(node: "n3")])
        XCTAssertEqual(
            put.leadFailed(node: "n3", error: .preconditionFailed(message: "exists")),
            [.finish(.failed(.preconditionFailed(message: "exists")))])
    }

    func testPeerMessagesRoundTripAndRejectGarbage() throws {
        let state = try KeyState().applying(WriteIntent(value: [1, 2], contentType: "t"), actor: "a", timestamp: .zero, mode: .vclock, limits: .defaults)
        let requests: [PeerRequest] = [
            .fetch(bucket: "b", key: [0, 1, 2]),
            .coordinateWrite(bucket: "b", key: [9], intent: WriteIntent(value: [5], contentType: "c", isTombstone: false, context: VersionVector(entries: [.init(actor: "a", counter: 1)])), mode: .vclock, timestamp: HLCTimestamp(physicalMilliseconds: 9, logical: 1), ifAbsent: true),
            .listKeys(bucket: "b", partition: 7, after: [1, 2], limit: 100),
            .listKeys(bucket: "b", partition: 0, after: nil, limit: 1),
            .storeHint(target: "n3", bucket: "b", key: [4], state: state, mode: .vclock),
            .gossip(message: [1, 2, 3]),
            .treeRoot(partition: 5), .treeHashes(partition: 5, level: 1, indices: [0, 31]),
            .segmentKeys(partition: 63, segments: [7, 1023]),
            .mergeBatch(compressed: [9, 9, 9], originalLength: 40),
            .merge(bucket: "b", key: [1], state: state, mode: .lww),
            .setBucketProps(bucket: "b", props: BucketProps(n: 2, r: .one, w: .count(2), conflict: .vclock, version: HLCTimestamp(physicalMilliseconds: 3, logical: 0))),
            .ping,
            .purge(bucket: "b", key: [0, 255], digest: 0xDEAD_BEEF_0000_0001),
        ]
        for request in requests {
            let decoded = try PeerRequest(decoding: request.encoded())
            XCTAssertEqual(decoded, request)
        }
        for response in [PeerResponse.state(nil), .state(state), .ack, .pong, .failure(code: "sibling_limit", message: "m"), .keys([[1], [], [2, 3]], resumeAfter: [2, 3]), .keys([], resumeAfter: nil), .gossip(message: [9, 8]),
            .treeRoot(hash: 42, segmentCount: 1024, fanOut: 32), .treeHashes([3: 9, 0: 1]),
            .segmentKeys([SegmentKey(bucket: "b", key: [1], digest: 7)]),
        ] {
            XCTAssertEqual(try PeerResponse(decoding: response.encoded()), response)
        }
        XCTAssertThrowsError(try PeerRequest(decoding: [99]))
        XCTAssertThrowsError(try PeerRequest(decoding: []))
        XCTAssertThrowsError(try PeerRequest(decoding: PeerRequest.ping.encoded() + [0]))
        // Random bytes never crash the decoder.
        var generator = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let length = Int(generator.next() % 64)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? PeerRequest(decoding: bytes)
            _ = try? PeerResponse(decoding: bytes)
        }
    }

    func testRepairBatchesRoundTrip() throws {
        let state = try KeyState().applying(WriteIntent(value: [1, 2], contentType: "t"), actor: "a", timestamp: .zero, mode: .vclock, limits: .defaults)
        let batch = RepairBatch(entries: [
            .init(bucket: "b", key: [1], state: state, mode: .vclock), .init(bucket: "c", key: [], state: KeyState(), mode: .lww),
        ])
        XCTAssertEqual(try RepairBatch(decoding: batch.encoded()), batch)
        XCTAssertThrowsError(try RepairBatch(decoding: Array(batch.encoded().dropLast())))
    }

    func testFramesRoundTripAndRejectOversizedOrForeignFrames() throws {
        let frame = Frame(kind: .request, requestID: 42, payload: [1, 2, 3])
        let bytes = frame.encoded()
        XCTAssertNil(try Frame.decode(Array(bytes.prefix(5)), frameBytesMax: 1024))
        let decoded = try XCTUnwrap(Frame.decode(bytes + [9, 9], frameBytesMax: 1024))
        XCTAssertEqual(decoded.frame, frame)
        XCTAssertEqual(decoded.consumed, bytes.count)
        XCTAssertThrowsError(try Frame.decode(bytes, frameBytesMax: 10))
        var foreign = bytes
        foreign[4] = 99
        XCTAssertThrowsError(try Frame.decode(foreign, frameBytesMax: 1024)) { error in
            XCTAssertEqual(error as? WireError, .unsupportedVersion(99))
        }
    }

    func testBucketNamesAreOneToSixtyFourOfTheAllowedCharacters() {
        for name in ["a", "default", "A-Z_a.z-09", String(repeating: "b", count: 64)] {
            XCTAssertNoThrow(try validateBucketName(name), name)
        }
        for name in ["", String(repeating: "b", count: 65), "a b", "a/b", "ä", "a\u{0}", "kv:1"] {
            XCTAssertThrowsError(try validateBucketName(name), name)
        }
        XCTAssertThrowsError(try validateBucketName("abcd", limits: { var limits = Limits(); limits.bucketNameBytesMax = 3; return limits }()))
    }
}
