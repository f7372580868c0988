import XCTest

@testable import QuorumCore

/// A gossiped membership state whose member version or ring position sits at the top of
/// `UInt64` is refused by the decoder. Before the fix it decoded, and the receiving node
/// trapped on the next membership change that added one to it (a join or leave), so any
/// host that reached the peer port could crash nodes with one gossip message.
final class ForgedMembershipCounterTests: XCTestCase {
    private func state(version: UInt64, ringPosition: UInt64) -> [UInt8] {
        let member = ClusterMember(
            id: "node-a", peerAddress: "10.0.0.1:7000", httpAddress: "10.0.0.1:8000", status: .up, version: version,
            ringPosition: ringPosition)
        return MembershipState(partitionCount: 8, members: ["node-a": member], bucketProps: [:]).encoded()
    }

    func testAVersionOrRingPositionAboveTheBoundIsRefused() {
        for (version, ringPosition) in [(UInt64.max, UInt64(1)), (1, .max), (MembershipState.counterMax + 1, 1)] {
            XCTAssertThrowsError(try MembershipState(decoding: state(version: version, ringPosition: ringPosition)))
        }
    }

    func testAStateAtTheBoundDecodesAndStillTakesMembershipChanges() throws {
        let bound = MembershipState.counterMax
        let decoded = try MembershipState(decoding: state(version: bound, ringPosition: bound))
        XCTAssertEqual(try decoded.leaving("node-a").members["node-a"]?.version, bound + 1)
        let joined = try decoded.joining(member: "node-b", peerAddress: "10.0.0.2:7000", httpAddress: "10.0.0.2:8000")
        XCTAssertEqual(joined.members["node-b"]?.ringPosition, bound + 1)
    }
}
