import XCTest
@testable import QuorumCore

final class GossipTests: XCTestCase {
    private func gossip(_ local: String, _ state: MembershipState, generation: UInt64 = 1, now: UInt64 = 0) -> Gossip {
        Gossip(local: local, generation: generation, state: state, nowMilliseconds: now)
    }

    private func props(n: Int, at milliseconds: UInt64) -> BucketProps {
        BucketProps(n: n, version: HLCTimestamp(physicalMilliseconds: milliseconds, logical: 0))
    }

    // MARK: Messages

    func testMessagesRoundTripWithAndWithoutState() throws {
        let state = membershipState(founders: 3).settingBucketProps(BucketProps(n: 2), for: "b")
        let heartbeats = ["node1": Heartbeat(generation: 17, counter: 3), "node2": Heartbeat(generation: 1, counter: 0)]
        for message in [
            GossipMessage(sender: "node1", heartbeats: heartbeats, digest: state.digest, state: state, isReply: false),
            GossipMessage(sender: "node1", heartbeats: heartbeats, digest: state.digest, state: nil, isReply: true),
            GossipMessage(sender: "x", heartbeats: [:], digest: 0, state: MembershipState(partitionCount: 8), isReply: false),
        ] {
            XCTAssertEqual(try GossipMessage(decoding: message.encoded()), message)
        }
    }

    func testMessageDecodingIsBoundedAndSurvivesHostileBytes() {
        let state = membershipState(founders: 4)
        let message = GossipMessage(
            sender: "node1", heartbeats: ["node1": Heartbeat(generation: 1, counter: 2)], digest: state.digest, state: state,
            isReply: false)
        let bytes = message.encoded()
        var limits = GossipLimits()
        limits.messageBytesMax = bytes.count - 1
        XCTAssertThrowsError(try GossipMessage(decoding: bytes, limits: limits))
        limits = GossipLimits()
        limits.membersMax = 3
        XCTAssertThrowsError(try GossipMessage(decoding: bytes, limits: limits), "the state's members are bounded too")
        var random = MembershipTestRandom(seed: 5)
        for _ in 0..<20_000 {
            var mutated = bytes
            for _ in 0...random.below(3) {
                if random.chance(1, in: 4) {
                    mutated.removeLast(random.below(mutated.count))
                } else if !mutated.isEmpty {
                    mutated[random.below(mutated.count)] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            _ = try? GossipMessage(decoding: mutated)
        }
    }

    // MARK: Targets

    func testTargetsAreDistinctPeersChosenUniformly() throws {
        let state = try membershipState(founders: 6).left("node6")
        var random = MembershipTestRandom(seed: 11)
        var picks: [String: Int] = [:]
        for _ in 0..<3000 {
            let targets = GossipRound.targets(of: state, local: "node1", fanout: 3, using: &random)
            XCTAssertEqual(targets.count, 3)
            XCTAssertEqual(Set(targets).count, 3)
            XCTAssertFalse(targets.contains("node1"), "never itself")
            XCTAssertFalse(targets.contains("node6"), "never a member that left")
            for target in targets { picks[target, default: 0] += 1 }
        }
        // 4 peers, 3 picks per round: each peer in 3/4 of the rounds.
        XCTAssertEqual(Set(picks.keys), ["node2", "node3", "node4", "node5"])
        for (peer, count) in picks { XCTAssertEqual(Double(count), 2250, accuracy: 120, "\(peer): \(count)") }
        let pair = membershipState(founders: 2)
        XCTAssertEqual(GossipRound.targets(of: pair, local: "node1", fanout: 3, using: &random), ["node2"])
        XCTAssertEqual(GossipRound.targets(of: membershipState(founders: 1), local: "node1", using: &random), [])
        var again = MembershipTestRandom(seed: 11)
        var first = MembershipTestRandom(seed: 11)
        XCTAssertEqual(
            GossipRound.targets(of: state, local: "node1", using: &again),
            GossipRound.targets(of: state, local: "node1", using: &first), "a seed replays the same choice")
    }

    func testTheScheduleReachesEveryPeerWithinTwoPasses() {
        for (peerCount, fanout) in [(1, 3), (2, 3), (5, 3), (9, 3), (10, 2), (7, 1)] {
            let peers = (1...peerCount).map { "p\($0)" }
            var schedule = GossipSchedule()
            var random = MembershipTestRandom(seed: UInt64(peerCount * 10 + fanout))
            var lastRound = Dictionary(uniqueKeysWithValues: peers.map { ($0, 0) })
            let passRounds = (peerCount + fanout - 1) / fanout
            for round in 1...500 {
                let chosen = schedule.next(peers: peers, fanout: fanout, using: &random)
                XCTAssertEqual(chosen.count, min(fanout, peerCount))
                XCTAssertEqual(Set(chosen).count, chosen.count)
                for peer in chosen { lastRound[peer] = round }
                for (peer, last) in lastRound {
                    XCTAssertLessThanOrEqual(
                        round - last, 2 * passRounds, "\(peer) waited too long (\(peerCount) peers, fanout \(fanout))")
                }
            }
        }
        // Peers that disappear are never chosen.
        var schedule = GossipSchedule()
        var random = MembershipTestRandom(seed: 1)
        _ = schedule.next(peers: ["a", "b", "c", "d"], fanout: 1, using: &random)
        for _ in 0..<10 { XCTAssertEqual(schedule.next(peers: ["b"], fanout: 2, using: &random), ["b"]) }
    }

    // MARK: One node

    /// Found by the simulator (seed 134, chaos): a node restarted on a wiped disk with its
    /// clock behind its last run started a lower generation, and every peer ignored it.
    func testARestartWithALowerGenerationIsSeenAgainOnceAPeerEchoesTheOldOne() throws {
        let state = membershipState(founders: 2)
        var peer = gossip("node2", state, generation: 1)
        var previous = gossip("node1", state, generation: 5000)
        var random = MembershipTestRandom(seed: 3)
        for round in previous.round(nowMilliseconds: 100, using: &random) {
            _ = try peer.receive(round.message, nowMilliseconds: 100)
        }
        var restarted = gossip("node1", state, generation: 4000, now: 200)
        let stale = try XCTUnwrap(restarted.round(nowMilliseconds: 200, using: &random).first)
        let ignored = try peer.receive(stale.message, nowMilliseconds: 200)
        XCTAssertEqual(peer.heartbeats["node1"]?.generation, 5000, "a lower generation is old news to the peer")
        XCTAssertTrue(ignored.newlyReachable.isEmpty)
        // The peer's own round carries node1's old heartbeat; node1 moves past it.
        for round in peer.round(nowMilliseconds: 300, using: &random) where round.target == "node1" {
            _ = try restarted.receive(round.message, nowMilliseconds: 300)
        }
        XCTAssertEqual(restarted.heartbeats["node1"]?.generation, 5001)
        let next = try XCTUnwrap(restarted.round(nowMilliseconds: 400, using: &random).first)
        _ = try peer.receive(next.message, nowMilliseconds: 400)
        XCTAssertEqual(peer.heartbeats["node1"]?.generation, 5001, "the peer takes heartbeats from it again")
    }

    func testReceivingMergesStateAndFeedsTheDetector() throws {
        let state = membershipState(founders: 3)
        var one = gossip("node1", state)
        var two = gossip("node2", state.settingBucketProps(props(n: 2, at: 5), for: "b"))
        var random = MembershipTestRandom(seed: 3)
        let sends = two.round(nowMilliseconds: 500, using: &random)
        XCTAssertEqual(Set(sends.map(\.target)), ["node1", "node3"])
        XCTAssertEqual(sends.first { $0.target == "node1" }?.peerAddress, "127.0.0.1:9081")
        let toOne = sends.first { $0.target == "node1" }!.message
        XCTAssertNotNil(toOne.state, "first contact carries the state")
        let receipt = try one.receive(toOne, nowMilliseconds: 510)
        XCTAssertTrue(receipt.stateChanged)
        XCTAssertNil(receipt.reply, "node1 now has everything node2 has")
        XCTAssertEqual(one.state.bucketProps["b"]?.n, 2)
        XCTAssertEqual(one.digest, two.digest)
        XCTAssertEqual(one.heartbeats["node2"], Heartbeat(generation: 1, counter: 1))
        XCTAssertTrue(one.detector.statuses(nowMilliseconds: 510).first { $0.node == "node2" }!.heard)
        XCTAssertFalse(one.detector.statuses(nowMilliseconds: 510).first { $0.node == "node3" }!.heard, "node3 only watched")

        // The same heartbeat again is no heartbeat; an older one neither.
        _ = try one.receive(toOne, nowMilliseconds: 600)
        XCTAssertEqual(one.heartbeats["node2"]?.counter, 1)
        // Next round node2 knows node1 has its state only optimistically; node1 tells it.
        let sendsAgain = two.round(nowMilliseconds: 1000, using: &random)
        XCTAssertNil(sendsAgain.first { $0.target == "node1" }!.message.state, "digest-only once the peer has our state")
        XCTAssertEqual(sendsAgain.first { $0.target == "node1" }!.message.heartbeats["node2"]?.counter, 2)
    }

    func testADifferingDigestGetsAReplyButAReplyDoesNot() throws {
        let state = membershipState(founders: 2)
        var one = gossip("node1", state)
        var two = gossip("node2", state)
        var random = MembershipTestRandom(seed: 4)
        // Both start in sync: exchange once so each knows the other's digest.
        _ = try two.receive(one.round(nowMilliseconds: 0, using: &random)[0].message, nowMilliseconds: 0)
        _ = try one.receive(two.round(nowMilliseconds: 0, using: &random)[0].message, nowMilliseconds: 0)
        XCTAssertNil(one.round(nowMilliseconds: 500, using: &random)[0].message.state)
        // node2 changes something; node1's digest-only message now differs from node2's.
        two.update(two.state.settingBucketProps(props(n: 1, at: 9), for: "z"), nowMilliseconds: 600)
        let digestOnly = one.round(nowMilliseconds: 1000, using: &random)[0].message
        XCTAssertNil(digestOnly.state)
        let receipt = try two.receive(digestOnly, nowMilliseconds: 1001)
        XCTAssertFalse(receipt.stateChanged)
        let reply = try XCTUnwrap(receipt.reply)
        XCTAssertTrue(reply.isReply)
        XCTAssertNotNil(reply.state)
        let back = try one.receive(reply, nowMilliseconds: 1002)
        XCTAssertTrue(back.stateChanged)
        XCTAssertNil(back.reply, "a reply is never answered")
        XCTAssertEqual(one.digest, two.digest)
    }

    func testRefusals() {
        var one = gossip("node1", membershipState(founders: 2))
        let other = membershipState(founders: 2, partitionCount: 128)
        XCTAssertThrowsError(
            try one.receive(
                GossipMessage(sender: "node2", heartbeats: [:], digest: other.digest, state: other, isReply: false),
                nowMilliseconds: 0)
        ) { XCTAssertEqual($0 as? GossipRefusal, .partitionCountMismatch(local: 64, remote: 128)) }
        XCTAssertThrowsError(
            try one.receive(
                GossipMessage(sender: "node1", heartbeats: [:], digest: 0, state: nil, isReply: false), nowMilliseconds: 0)
        ) { XCTAssertEqual($0 as? GossipRefusal, .fromSelf) }
        XCTAssertEqual(one.counters.refusedMessages, 2)
        XCTAssertTrue(GossipRefusal.partitionCountMismatch(local: 64, remote: 128).message.contains("128"))
    }

    func testHeartbeatsFromNonMembersAndLeftMembersAreIgnored() throws {
        var one = gossip("node1", try membershipState(founders: 3).left("node3"))
        let message = GossipMessage(
            sender: "node2",
            heartbeats: ["node2": Heartbeat(generation: 1, counter: 1), "node3": Heartbeat(generation: 1, counter: 9),
                         "stranger": Heartbeat(generation: 1, counter: 1), "node1": Heartbeat(generation: 99, counter: 1)],
            digest: one.digest, state: nil, isReply: false)
        _ = try one.receive(message, nowMilliseconds: 10)
        XCTAssertEqual(Set(one.heartbeats.keys), ["node1", "node2"])
        XCTAssertEqual(
            one.heartbeats["node1"], Heartbeat(generation: 100, counter: 0),
            "our own heartbeat is never taken from a peer; a later generation of ours it echoes only moves us past it")
        XCTAssertEqual(one.detector.trackedNodes, ["node2"])
        XCTAssertEqual(one.unreachable(nowMilliseconds: 100_000), ["node2"])
    }

    func testAPeerThatComesBackIsReportedNewlyReachable() throws {
        let state = membershipState(founders: 2)
        var one = gossip("node1", state)
        func beat(_ counter: UInt64, generation: UInt64 = 1, at now: UInt64) throws -> GossipReceipt {
            try one.receive(
                GossipMessage(sender: "node2", heartbeats: ["node2": Heartbeat(generation: generation, counter: counter)],
                              digest: one.digest, state: nil, isReply: false), nowMilliseconds: now)
        }
        XCTAssertEqual(try beat(1, at: 500).newlyReachable, [])
        XCTAssertTrue(one.isReachable("node2", nowMilliseconds: 1000))
        XCTAssertFalse(one.isReachable("node2", nowMilliseconds: 10_000))
        XCTAssertEqual(one.unreachable(nowMilliseconds: 10_000), ["node2"])
        // Restarted: its counter starts over, but the generation is newer.
        XCTAssertEqual(try beat(0, generation: 2, at: 10_000).newlyReachable, ["node2"])
        XCTAssertTrue(one.isReachable("node2", nowMilliseconds: 10_000))
        XCTAssertEqual(try beat(5, generation: 1, at: 10_100).newlyReachable, [], "the old generation is older")
        XCTAssertEqual(one.heartbeats["node2"], Heartbeat(generation: 2, counter: 0))
        XCTAssertTrue(one.isReachable("node1", nowMilliseconds: 1_000_000), "a node always reaches itself")
        let view = one.view(nowMilliseconds: 10_000)
        XCTAssertEqual(view.map(\.member.id), ["node1", "node2"])
        XCTAssertEqual(view.map(\.isReachable), [true, true])
        XCTAssertEqual(view.map(\.partitionsOwned), [32, 32])
    }

    func testANewNodeLearnsTheClusterFromASeedAndJoins() throws {
        let cluster = membershipState(founders: 3)
        var seed = gossip("node1", cluster)
        var newcomer = gossip("node4", MembershipState(partitionCount: 64))
        var random = MembershipTestRandom(seed: 8)
        XCTAssertEqual(newcomer.round(nowMilliseconds: 0, using: &random), [], "knows no peers yet")
        // The shell sends a first message to the seed address it was given.
        let hello = GossipMessage(
            sender: "node4", heartbeats: newcomer.heartbeats, digest: newcomer.digest, state: newcomer.state, isReply: false)
        let reply = try XCTUnwrap(try seed.receive(hello, nowMilliseconds: 0).reply)
        XCTAssertEqual(seed.state, cluster, "a not-yet-member's empty state adds nothing")
        XCTAssertTrue(try newcomer.receive(reply, nowMilliseconds: 1).stateChanged)
        XCTAssertEqual(newcomer.state, cluster)
        let joined = try newcomer.state.joining(member: "node4", peerAddress: "127.0.0.1:9084", httpAddress: "127.0.0.1:8084")
        newcomer.update(joined, nowMilliseconds: 2)
        XCTAssertEqual(newcomer.ring, cluster.ring!.adding("node4"))
        let sends = newcomer.round(nowMilliseconds: 500, using: &random)
        XCTAssertEqual(Set(sends.map(\.target)), ["node1", "node2", "node3"])
        _ = try seed.receive(sends.first { $0.target == "node1" }!.message, nowMilliseconds: 501)
        XCTAssertEqual(seed.state.ringOrder, ["node1", "node2", "node3", "node4"])
        XCTAssertEqual(seed.ring, newcomer.ring)
        XCTAssertTrue(seed.detector.trackedNodes.contains("node4"))
    }

    func testAnOversizedStateIsNotSent() {
        var limits = GossipLimits()
        limits.stateBytesMax = 16
        var one = Gossip(local: "node1", generation: 1, state: membershipState(founders: 3), nowMilliseconds: 0, limits: limits)
        var random = MembershipTestRandom(seed: 2)
        let sends = one.round(nowMilliseconds: 0, using: &random)
        XCTAssertEqual(sends.count, 2)
        XCTAssertTrue(sends.allSatisfy { $0.message.state == nil })
        XCTAssertTrue(sends.allSatisfy { $0.message.heartbeats["node1"]?.counter == 1 }, "heartbeats still go out")
        XCTAssertEqual(one.counters.oversizedStates, 2)
    }

    func testLeftMembersAreNoLongerWatchedOrGossipedWith() throws {
        var one = gossip("node1", membershipState(founders: 3))
        XCTAssertEqual(one.detector.trackedNodes, ["node2", "node3"])
        one.update(try one.state.left("node3"), nowMilliseconds: 10)
        XCTAssertEqual(one.detector.trackedNodes, ["node2"])
        XCTAssertFalse(one.unreachable(nowMilliseconds: 100_000).contains("node3"))
        var random = MembershipTestRandom(seed: 6)
        for round in 0..<10 {
            XCTAssertEqual(one.round(nowMilliseconds: UInt64(round) * 500, using: &random).map(\.target), ["node2"])
        }
        XCTAssertFalse(one.update(one.state, nowMilliseconds: 20), "merging what we have changes nothing")
    }
}
