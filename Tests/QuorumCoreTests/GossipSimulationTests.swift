import XCTest
@testable import QuorumCore

/// Whole clusters of `Gossip` instances on a simulated network: virtual time in 10 ms
/// steps, messages delayed and dropped at random from a seed, nodes killed and restarted.
/// Checks the promises the shell relies on: a killed node is treated as down by every
/// other node within 5 s, comes back up soon after it restarts, live nodes are never
/// suspected, and every change reaches every node.
final class GossipSimulationTests: XCTestCase {
    private struct Simulation {
        struct Node {
            var gossip: Gossip
            var random: MembershipTestRandom
            var alive = true
            /// Offset of this node's 500 ms round timer.
            var phaseMilliseconds: UInt64
        }
        struct InFlight {
            var deliverAtMilliseconds: UInt64
            var sequence: Int
            var to: String
            var bytes: [UInt8]
        }

        var nodes: [String: Node] = [:]
        var inFlight: [InFlight] = []
        var network: MembershipTestRandom
        var now: UInt64 = 0
        var sequence = 0
        let delayMaxMilliseconds: Int
        let dropPercent: Int
        let roundMilliseconds: UInt64 = 500

        init(nodeCount: Int, seed: UInt64, delayMaxMilliseconds: Int = 80, dropPercent: Int = 0) {
            network = MembershipTestRandom(seed: seed)
            self.delayMaxMilliseconds = delayMaxMilliseconds
            self.dropPercent = dropPercent
            let state = membershipState(founders: nodeCount)
            for index in 1...nodeCount {
                let id = "node\(index)"
                nodes[id] = Node(
                    gossip: Gossip(local: id, generation: 1, state: state, nowMilliseconds: 0),
                    random: MembershipTestRandom(seed: seed &* 31 &+ UInt64(index)),
                    phaseMilliseconds: UInt64(network.below(50)) * 10)
            }
        }

        var ids: [String] { nodes.keys.sorted() }

        mutating func send(_ message: GossipMessage, to target: String) {
            guard !network.chance(dropPercent, in: 100) else { return }
            sequence += 1
            inFlight.append(InFlight(
                deliverAtMilliseconds: now + 1 + UInt64(network.below(delayMaxMilliseconds)), sequence: sequence, to: target,
                bytes: message.encoded()))
        }

        /// Advances one 10 ms step: deliveries due, then rounds due.
        mutating func step() throws {
            now += 10
            let due = inFlight.filter { $0.deliverAtMilliseconds <= now }
                .sorted { ($0.deliverAtMilliseconds, $0.sequence) < ($1.deliverAtMilliseconds, $1.sequence) }
            inFlight.removeAll { $0.deliverAtMilliseconds <= now }
            for delivery in due {
                guard var node = nodes[delivery.to], node.alive else { continue }
                let message = try GossipMessage(decoding: delivery.bytes)
                let receipt = try node.gossip.receive(message, nowMilliseconds: now)
                nodes[delivery.to] = node
                if let reply = receipt.reply { send(reply, to: message.sender) }
            }
            for id in ids {
                guard var node = nodes[id], node.alive, now % roundMilliseconds == node.phaseMilliseconds % roundMilliseconds
                else { continue }
                let sends = node.gossip.round(nowMilliseconds: now, using: &node.random)
                nodes[id] = node
                for send in sends { self.send(send.message, to: send.target) }
            }
        }

        mutating func kill(_ id: String) { nodes[id]!.alive = false }

        /// Restarts `id` with the state it had (the shell persists it), a new generation and
        /// a fresh detector.
        mutating func restart(_ id: String) {
            let old = nodes[id]!.gossip
            nodes[id]!.gossip = Gossip(local: id, generation: now, state: old.state, nowMilliseconds: now)
            nodes[id]!.alive = true
        }

        func reachable(_ observer: String, _ node: String) -> Bool {
            nodes[observer]!.gossip.isReachable(node, nowMilliseconds: now)
        }

        var liveIDs: [String] { ids.filter { nodes[$0]!.alive } }
    }

    /// Runs a cluster for a minute, kills one node, restarts it 20 s later.
    private func killAndRestart(nodeCount: Int, seed: UInt64, dropPercent: Int = 0) throws {
        var simulation = Simulation(nodeCount: nodeCount, seed: seed, dropPercent: dropPercent)
        let victim = "node\(1 + Int(seed % UInt64(nodeCount)))"
        // A minute of normal running: nobody is ever suspected.
        while simulation.now < 60_000 {
            try simulation.step()
            for observer in simulation.ids {
                for node in simulation.ids where !simulation.reachable(observer, node) {
                    return XCTFail("seed \(seed): \(observer) suspected live \(node) at \(simulation.now) ms")
                }
            }
        }
        simulation.kill(victim)
        let killedAt = simulation.now
        var downAt: [String: UInt64] = [:]
        while simulation.now < killedAt + 20_000 {
            try simulation.step()
            for observer in simulation.liveIDs {
                if downAt[observer] == nil, !simulation.reachable(observer, victim) { downAt[observer] = simulation.now }
                for node in simulation.liveIDs where !simulation.reachable(observer, node) {
                    return XCTFail("seed \(seed): \(observer) suspected live \(node) at \(simulation.now) ms")
                }
            }
        }
        let observers = simulation.liveIDs
        XCTAssertEqual(Set(downAt.keys), Set(observers), "seed \(seed): every live node marks \(victim) down")
        let slowest = downAt.values.max()! - killedAt
        XCTAssertLessThanOrEqual(slowest, 5_000, "seed \(seed), \(nodeCount) nodes: down after \(slowest) ms")

        simulation.restart(victim)
        let restartedAt = simulation.now
        var upAt: [String: UInt64] = [:]
        while simulation.now < restartedAt + 10_000 {
            try simulation.step()
            for observer in observers where upAt[observer] == nil && simulation.reachable(observer, victim) {
                upAt[observer] = simulation.now
            }
        }
        XCTAssertEqual(Set(upAt.keys), Set(observers), "seed \(seed): every node sees \(victim) again")
        let slowestUp = (upAt.values.max() ?? .max) - restartedAt
        XCTAssertLessThanOrEqual(slowestUp, 3_000, "seed \(seed), \(nodeCount) nodes: back up after \(slowestUp) ms")
    }

    func testThreeNodesKilledNodeIsDownWithinFiveSecondsAndBackAfterRestart() throws {
        for seed in UInt64(1)...3 { try killAndRestart(nodeCount: 3, seed: seed) }
    }

    func testSevenNodesWithFanoutThreeStillDetectWithinFiveSeconds() throws {
        for seed in UInt64(4)...5 { try killAndRestart(nodeCount: 7, seed: seed) }
    }

    func testLossyNetworkCausesNoFalseSuspicion() throws {
        try killAndRestart(nodeCount: 5, seed: 6, dropPercent: 5)
    }

    func testChangesReachEveryNode() throws {
        var simulation = Simulation(nodeCount: 7, seed: 21, dropPercent: 5)
        for _ in 0..<100 { try simulation.step() }
        let props = BucketProps(n: 2, conflict: .vclock, version: HLCTimestamp(physicalMilliseconds: 1000, logical: 0))
        var node5 = simulation.nodes["node5"]!
        node5.gossip.update(node5.gossip.state.settingBucketProps(props, for: "carts"), nowMilliseconds: simulation.now)
        simulation.nodes["node5"] = node5
        var node2 = simulation.nodes["node2"]!
        node2.gossip.update(try node2.gossip.state.leaving("node7"), nowMilliseconds: simulation.now)
        simulation.nodes["node2"] = node2
        let changedAt = simulation.now
        while Set(simulation.ids.map { simulation.nodes[$0]!.gossip.digest }).count > 1 {
            try simulation.step()
            XCTAssertLessThan(simulation.now - changedAt, 5_000, "changes must spread within a few rounds")
            if simulation.now - changedAt >= 5_000 { return }
        }
        for id in simulation.ids {
            XCTAssertEqual(simulation.nodes[id]!.gossip.state.bucketProps["carts"], props)
            XCTAssertEqual(simulation.nodes[id]!.gossip.state.members["node7"]?.status, .leaving)
        }
    }
}
