import QuorumCore
import XCTest

@testable import QuorumServices

/// Membership changes on one node of the fake world: what a new membership installs and
/// plans, and how the node's own status moves on when its transfers are done.
final class RingChangeDriverTests: XCTestCase {
    /// Saves at once, announces to the ring-change driver, and records the rest.
    private final class Node: MembershipContext, RingChangeContext {
        var ringChanges: RingChangeDriver?
        var installed: [(serving: Ring, target: Ring, peers: [String])] = []
        var planned: [[RingChange.Transfer]] = []
        var departedCount = 0
        var hintsPending = 0
        /// Keeps the fake world alive as long as the node (its callers hold it unowned).
        var world: FakeWorld?

        func save(_ state: MembershipState, completion: @escaping () -> Void) { completion() }
        func membershipChanged(_ state: MembershipState) { ringChanges?.membershipChanged(state) }
        func publish(unreachable: Set<String>) {}
        func reachableAgain(_ nodes: [String]) {}
        func install(serving: Ring, target: Ring, peers: [ClusterMember]) { installed.append((serving, target, peers.map(\.id))) }
        func planTransfers(_ transfers: [RingChange.Transfer]) { planned.append(transfers) }
        var transfersPending: Int { planned.last?.count ?? 0 }
        var replicasMax: Int { 3 }
        func departed() { departedCount += 1 }
    }

    private final class Silent: ServiceLog, RandomSource, SeedCaller {
        func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) {}
        func next() -> UInt64 { 7 }
        func call(address: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void) {
            completion(nil)
        }
    }

    private func setUp(_ state: MembershipState, local: String) -> (FakeWorld, MembershipDriver, RingChangeDriver, Node) {
        let world = FakeWorld(members: ["n1", "n2", "n3"], props: [:])
        let node = Node()
        node.world = world
        let silent = Silent()
        let membership = MembershipDriver(
            local: local, peerAddress: "\(local):7000", httpAddress: "\(local):8000", state: state, generation: 1,
            replicas: FakeCaller(node: world["n1"]), clock: FakeClock(world: world), random: silent, context: node, log: silent)
        let ringChanges = RingChangeDriver(
            membership: membership, executor: FakeExecutor(world: world), seeds: silent, context: node, log: silent,
            gossipIntervalMilliseconds: 500)
        node.ringChanges = ringChanges
        ringChanges.membershipChanged(membership.state)
        return (world, membership, ringChanges, node)
    }

    private func cluster(_ ids: [String]) throws -> MembershipState {
        try MembershipState(founders: ids.map { (id: $0, peerAddress: "\($0):7000", httpAddress: "") }, partitionCount: 8)
    }

    func testAJoinerIsPlannedItsTransfersAndServesOnceTheyAreDone() throws {
        let joining = try cluster(["n1", "n2", "n3"]).requestingJoin(member: "n4", peerAddress: "n4:7000", httpAddress: "")
        let (_, membership, ringChanges, node) = setUp(joining, local: "n4")
        XCTAssertEqual(membership.localStatus, .joining)
        let install = try XCTUnwrap(node.installed.last)
        XCTAssertFalse(install.serving.members.contains("n4"), "a joiner serves nothing yet")
        XCTAssertTrue(install.target.members.contains("n4"))
        XCTAssertEqual(install.peers, ["n1", "n2", "n3"])
        XCTAssertFalse(try XCTUnwrap(node.planned.last).isEmpty, "it pulls the partitions it gains")
        ringChanges.transfersDone()
        XCTAssertEqual(membership.localStatus, .up)
        XCTAssertEqual(node.installed.last?.serving.members.contains("n4"), true)
    }

    func testALeaverHandsOffThenLeavesAndStopsAfterItsDepartureSpread() throws {
        let (world, membership, ringChanges, node) = setUp(try cluster(["n1", "n2", "n3", "n4"]), local: "n4")
        XCTAssertEqual(try ringChanges.leave().status, .leaving)
        XCTAssertFalse(try XCTUnwrap(node.planned.last).isEmpty, "it pushes its partitions to their new replicas")
        ringChanges.transfersDone()
        XCTAssertEqual(membership.localStatus, .left)
        XCTAssertEqual(node.departedCount, 0, "it gossips its departure first")
        world.run()
        XCTAssertEqual(node.departedCount, 1)
    }

    func testALeaverDeliversTheHintsItHoldsBeforeItStopsWithinABound() throws {
        let (world, _, ringChanges, node) = setUp(try cluster(["n1", "n2", "n3", "n4"]), local: "n4")
        _ = try ringChanges.leave()
        node.hintsPending = 3
        ringChanges.transfersDone()
        world.run(for: 10_000)
        XCTAssertEqual(node.departedCount, 0, "it holds writes acknowledged through it")
        node.hintsPending = 0
        world.run(for: 1_000)
        XCTAssertEqual(node.departedCount, 1)

        let (stuckWorld, _, stuck, stuckNode) = setUp(try cluster(["n1", "n2", "n3", "n4"]), local: "n4")
        _ = try stuck.leave()
        stuckNode.hintsPending = 1
        stuck.transfersDone()
        stuckWorld.run()
        XCTAssertEqual(stuckNode.departedCount, 1, "a target down for good does not keep it forever")
    }

    /// Found by the simulator (seed 115): a node told to leave while still joining is left
    /// at once, and must stop as a leaver that handed off does.
    func testANodeThatLeavesWhileJoiningStops() throws {
        let joining = try cluster(["n1", "n2", "n3"]).requestingJoin(member: "n4", peerAddress: "n4:7000", httpAddress: "")
        let (world, membership, ringChanges, node) = setUp(joining, local: "n4")
        _ = try ringChanges.leave()
        XCTAssertEqual(membership.localStatus, .left, "it never served: nothing to hand off")
        world.run()
        XCTAssertEqual(node.departedCount, 1)
    }

    func testTheLastMemberCannotLeave() throws {
        let (_, _, ringChanges, _) = setUp(try cluster(["n1"]), local: "n1")
        XCTAssertThrowsError(try ringChanges.leave())
    }
}
