import QuorumCore
import XCTest

@testable import QuorumServices

/// Strong keys (issue #17) through the background paths on the fake world, with the real
/// `ReplicaDriver` and acceptor: anti-entropy and ring-change transfers carry commits only
/// (never promises or votes) and the receiver learns them through its commit step, so the
/// later ballot wins; stray copies move as commits; purges never remove a commit, not even
/// a delete; listings count a key whose commit is a value; plain reads and merges refuse.
final class StrongRepairServiceTests: XCTestCase {
    private let bucket = "accounts"

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func strongProps(n: Int) -> BucketProps { BucketProps(n: n, conflict: .lww, consistency: .strong) }

    private func ballot(_ milliseconds: UInt64, _ node: String = "p") -> PaxosBallot {
        PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: milliseconds, logical: 0), node: node)
    }

    private func commit(_ value: String?, at milliseconds: UInt64, node: String = "p") -> PaxosCommit {
        PaxosCommit(
            ballot: ballot(milliseconds, node),
            value: value.map { .value(bytes: bytes($0), contentType: "text/plain") } ?? .tombstone)
    }

    /// `node` learns `commit` through its replica's commit step, as after a proposer's commit.
    private func learn(_ world: FakeWorld, _ node: String, _ key: String, _ commit: PaxosCommit) {
        var answer: PeerResponse?
        world[node].replica.handle(.paxosCommit(bucket: bucket, key: bytes(key), commit: commit)) { answer = $0 }
        world.run()
        XCTAssertEqual(answer, .paxos(.committed), "\(node) learns \(key)")
    }

    private func promise(_ world: FakeWorld, _ node: String, _ key: String, _ ballot: PaxosBallot) {
        var answer: PeerResponse?
        world[node].replica.handle(.paxosPrepare(bucket: bucket, key: bytes(key), ballot: ballot)) { answer = $0 }
        world.run()
        guard case .paxos(.promised)? = answer else { return XCTFail("\(node) did not promise: \(String(describing: answer))") }
    }

    /// The node's stored rows of a key: its commit (`kv`) and its votes (Paxos row).
    private func stored(_ world: FakeWorld, _ node: String, _ key: String) -> (commit: PaxosCommit?, votes: AcceptorState?) {
        let name = world[node].rows.keys.first { $0.bucket == bucket && $0.key == bytes(key) }
            ?? world[node].paxos.keys.first { $0.bucket == bucket && $0.key == bytes(key) }
        guard let name else { return (nil, nil) }
        let commit = world[node].rows[name].map { try! StrongRecord.decode($0) }
        let votes = world[node].paxos[name].map { try! AcceptorState(decoding: $0) }
        return (commit, votes)
    }

    private func exchangeEverything(_ drivers: [AntiEntropyDriver], in world: FakeWorld) {
        for driver in drivers {
            for _ in driver.pairs {
                driver.tick()
                world.run()
            }
        }
    }

    private func batches(_ world: FakeWorld, from nodes: [String]) -> [RepairBatch] {
        nodes.flatMap { node in
            world.sent(from: node) { if case .mergeBatch = $0 { return true } else { return false } }.compactMap { sent in
                guard case .mergeBatch(let bytes, _) = sent.request else { return nil }
                return try? RepairBatch(decoding: bytes)
            }
        }
    }

    // MARK: Anti-entropy

    /// One replica missed a later commit, the other missed a key: exchanges carry the later
    /// commit both ways in version 3 batches, and the replicas end with equal `kv` rows;
    /// promises stay where they were given.
    func testAntiEntropyCarriesTheLaterCommitBothWaysAndNoPromise() throws {
        let world = FakeWorld(members: ["a", "b"], props: [bucket: strongProps(n: 2), "plain": BucketProps(n: 2, conflict: .lww)])
        learn(world, "a", "shared", commit("old", at: 10))
        learn(world, "b", "shared", commit("old", at: 10))
        learn(world, "b", "shared", commit("new", at: 20))
        learn(world, "a", "only-a", commit("x", at: 30))
        learn(world, "b", "only-b", commit(nil, at: 40))
        promise(world, "b", "shared", ballot(500, "q"))
        world["a"].put("plain", "k", lwwState("v", at: 100))

        exchangeEverything([world["a"].antiEntropy(), world["b"].antiEntropy()], in: world)

        for node in ["a", "b"] {
            XCTAssertEqual(stored(world, node, "shared").commit, commit("new", at: 20), "\(node): the later ballot wins")
            XCTAssertEqual(stored(world, node, "only-a").commit, commit("x", at: 30), node)
            XCTAssertEqual(stored(world, node, "only-b").commit, commit(nil, at: 40), "\(node): a committed delete travels")
        }
        XCTAssertEqual(world["a"].rows, world["b"].rows, "records agree byte for byte")
        XCTAssertEqual(stored(world, "a", "shared").votes?.promised, ballot(20), "a's promise is its own: raised to the commit only")
        XCTAssertEqual(stored(world, "b", "shared").votes?.promised, ballot(500, "q"))
        XCTAssertEqual(world["b"].state("plain", "k"), lwwState("v", at: 100), "plain keys are repaired beside strong ones")
        let shipped = batches(world, from: ["a", "b"])
        XCTAssertTrue(shipped.flatMap(\.entries).contains { if case .strong = $0.payload { return true } else { return false } })
        XCTAssertTrue(shipped.allSatisfy { batch in
            batch.entries.allSatisfy { if case .strong = $0.payload { return true } else { return $0.bucket == "plain" } }
        })
        // Converged: a further exchange repairs nothing.
        world.clearLog()
        exchangeEverything([world["a"].antiEntropy(), world["b"].antiEntropy()], in: world)
        XCTAssertTrue(batches(world, from: ["a", "b"]).isEmpty)
    }

    /// A batch that carries an older commit than the one held changes nothing: learned
    /// values order by ballot, whatever their HLC or the order they arrive in.
    func testAnOlderCommitInABatchChangesNothing() throws {
        let world = FakeWorld(members: ["a"], partitionCount: 1, props: [bucket: strongProps(n: 1)])
        learn(world, "a", "k", commit("new", at: 20))
        let encoded = RepairBatch(entries: [RepairBatch.Entry(bucket: bucket, key: bytes("k"), commit: commit("old", at: 10))]).encoded()
        XCTAssertEqual(encoded.first, 3, "a batch with a strong entry is version 3")
        var answer: PeerResponse?
        world["a"].replica.handle(.mergeBatch(compressed: encoded, originalLength: encoded.count)) { answer = $0 }
        world.run()
        XCTAssertEqual(answer, .ack)
        XCTAssertEqual(stored(world, "a", "k").commit, commit("new", at: 20))
    }

    /// A replica still catching up (its store started empty) learns commits from repair,
    /// but promises nothing on their account: it votes only once catch-up chose its floor.
    func testAReplicaCatchingUpLearnsRepairedCommitsWithoutPromising() throws {
        let world = FakeWorld(members: ["a", "b"], props: [bucket: strongProps(n: 2)])
        learn(world, "a", "k", commit("v", at: 10))
        world["b"].consensusFloor = .catchingUp(floor: nil)
        exchangeEverything([world["a"].antiEntropy(), world["b"].antiEntropy()], in: world)
        XCTAssertEqual(stored(world, "b", "k").commit, commit("v", at: 10))
        XCTAssertNil(stored(world, "b", "k").votes?.promised, "no promise while catching up")
        var answer: PeerResponse?
        world["b"].replica.handle(.paxosPrepare(bucket: bucket, key: bytes("k"), ballot: ballot(50))) { answer = $0 }
        world.run()
        XCTAssertEqual(answer, .paxos(.notReady))
    }

    /// A replica that does not know the bucket as strong refuses to learn its commits
    /// (it would otherwise store a strong record in a bucket it treats as plain).
    func testABatchForABucketTheReplicaThinksEventualIsRefused() throws {
        let world = FakeWorld(members: ["a"], partitionCount: 1, props: [:])
        let encoded = RepairBatch(entries: [RepairBatch.Entry(bucket: bucket, key: bytes("k"), commit: commit("v", at: 10))]).encoded()
        var answer: PeerResponse?
        world["a"].replica.handle(.mergeBatch(compressed: encoded, originalLength: encoded.count)) { answer = $0 }
        world.run()
        guard case .failure? = answer else { return XCTFail("accepted: \(String(describing: answer))") }
        XCTAssertTrue(world["a"].rows.isEmpty)
    }

    /// A ring-change transfer moves a strong key's commit to a node that had none of it,
    /// and no promise with it.
    func testATransferShipsAStrongKeysCommit() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: strongProps(n: 1)])
        let partition = world.ring.partitions(ownedBy: "a")[0]
        let key = (0...).lazy.map { "k\($0)" }.first { world.ring.partition(bucket: self.bucket, key: Array($0.utf8)) == partition }!
        learn(world, "a", key, commit("moved", at: 10))
        promise(world, "a", key, ballot(900))
        let driver = world["a"].antiEntropy()
        let peer = world.ring.preferenceList(partition: partition, n: 2)[1]
        driver.plan(transfers: [RingChange.Transfer(partition: partition, peer: peer)])
        driver.tick()
        world.run()
        XCTAssertEqual(stored(world, peer, key).commit, commit("moved", at: 10))
        XCTAssertNotEqual(stored(world, peer, key).votes?.promised, ballot(900), "the promise stays on the node that gave it")
        XCTAssertEqual(driver.figures.transfersDone, 1)
    }

    // MARK: Stray copies

    private func key(replicatedBy replica: String, in world: FakeWorld) -> String {
        (0...).lazy.map { "k\($0)" }.first { world.ring.owner(of: world.ring.partition(bucket: self.bucket, key: Array($0.utf8))) == replica }!
    }

    private func sweepAll(_ sweeper: StrayCopyDriver, in world: FakeWorld) {
        for _ in 0..<world.ring.partitionCount {
            sweeper.tick()
            world.run()
        }
    }

    /// A stray copy with a later commit than the replica's is handed off (the replica
    /// learns it), then its `kv` row is deleted; its Paxos row (old votes) stays.
    func testAStrayStrongCopyIsHandedOffThenDeleted() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: strongProps(n: 1)])
        let key = key(replicatedBy: "b", in: world)
        learn(world, "a", key, commit("late", at: 20))
        learn(world, "b", key, commit("early", at: 10))
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertEqual(stored(world, "b", key).commit, commit("late", at: 20))
        XCTAssertNil(stored(world, "a", key).commit)
        XCTAssertNotNil(stored(world, "a", key).votes, "a promise is never dropped")
        XCTAssertEqual(sweeper.handedOff, 1)
        XCTAssertEqual(sweeper.removed, 1)
    }

    func testAStrayStrongCopyTheReplicaSupersedesIsDeletedAndOneWaitsForASilentReplica() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: strongProps(n: 1)])
        let key = key(replicatedBy: "b", in: world)
        learn(world, "a", key, commit("old", at: 10))
        learn(world, "b", key, commit(nil, at: 20))
        world.down = ["b"]
        world["a"].unreachable = ["b"]
        let sweeper = world["a"].sweeper()
        sweepAll(sweeper, in: world)
        XCTAssertNotNil(stored(world, "a", key).commit, "waits while the replica is silent")
        world.down = []
        world["a"].unreachable = []
        sweepAll(sweeper, in: world)
        XCTAssertNil(stored(world, "a", key).commit)
        XCTAssertEqual(stored(world, "b", key).commit, commit(nil, at: 20), "the later delete stands: nothing handed off")
        XCTAssertEqual(sweeper.handedOff, 0)
        XCTAssertEqual(sweeper.removed, 1)
    }

    // MARK: Purge, listing, plain requests

    /// A committed delete held by every replica long past the grace stays: its ballot
    /// orders the commits after it.
    func testThePurgeNeverRemovesAStrongTombstone() throws {
        let world = FakeWorld(members: ["a", "b", "c"], props: [bucket: strongProps(n: 3)])
        for node in ["a", "b", "c"] { learn(world, node, "k", commit(nil, at: 10)) }
        world.advance(byMilliseconds: world.limits.tombstoneGraceMilliseconds * 10)
        for node in ["a", "b", "c"] {
            let purger = world[node].purger()
            for _ in 0..<world.ring.partitionCount {
                purger.tick()
                world.run()
            }
            XCTAssertEqual(purger.purged, 0)
        }
        for node in ["a", "b", "c"] { XCTAssertEqual(stored(world, node, "k").commit, commit(nil, at: 10), node) }
    }

    func testListingCountsStrongKeysWhoseCommitIsAValue() throws {
        let world = FakeWorld(members: ["a"], partitionCount: 1, props: [bucket: strongProps(n: 1)])
        learn(world, "a", "live", commit("v", at: 10))
        learn(world, "a", "deleted", commit("v", at: 10))
        learn(world, "a", "deleted", commit(nil, at: 20))
        var answer: PeerResponse?
        world["a"].replica.handle(.listKeys(bucket: bucket, partition: 0, after: nil, limit: 10)) { answer = $0 }
        world.run()
        XCTAssertEqual(answer, .keys([bytes("live")], resumeAfter: nil))
    }

    /// A plain fetch or merge of a strong key answers wrong_type and leaves the commit as
    /// it was; `.strongFetch` answers the commit (nil for a key never committed).
    func testPlainRequestsOnAStrongKeyAnswerWrongTypeAndStrongFetchAnswersTheCommit() throws {
        let world = FakeWorld(members: ["a"], partitionCount: 1, props: [bucket: strongProps(n: 1)])
        learn(world, "a", "k", commit("v", at: 10))
        var answers: [PeerResponse] = []
        world["a"].replica.handle(.fetch(bucket: bucket, key: bytes("k"))) { answers.append($0) }
        world["a"].replica.handle(.merge(bucket: bucket, key: bytes("k"), state: lwwState("w", at: 99), mode: .lww)) { answers.append($0) }
        world.run()
        XCTAssertEqual(answers.count, 2)
        for answer in answers {
            guard case .failure(let code, let message) = answer else { return XCTFail("not refused: \(answer)") }
            XCTAssertEqual(code, "wrong_type")
            XCTAssertTrue(message.contains("strongly consistent"), message)
        }
        XCTAssertEqual(stored(world, "a", "k").commit, commit("v", at: 10))

        var fetched: [PeerResponse] = []
        world["a"].replica.handle(.strongFetch(bucket: bucket, key: bytes("k"))) { fetched.append($0) }
        world["a"].replica.handle(.strongFetch(bucket: bucket, key: bytes("never"))) { fetched.append($0) }
        world["a"].put("plain", "p", lwwState("v", at: 1))
        world["a"].replica.handle(.strongFetch(bucket: "plain", key: bytes("p"))) { fetched.append($0) }
        world.run()
        XCTAssertEqual(fetched.prefix(2), [.strongCommit(commit("v", at: 10)), .strongCommit(nil)])
        guard case .failure(let code, _)? = fetched.last else { return XCTFail("a plain value answered as a commit") }
        XCTAssertEqual(code, "wrong_type")
    }
}
