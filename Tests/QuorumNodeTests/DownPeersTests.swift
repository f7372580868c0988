import XCTest

@testable import QuorumNode

/// The request drivers keep replica plans until the peers believed down change: the
/// published set's generation must move with every change and only then.
final class DownPeersTests: XCTestCase {
    func testTheGenerationMovesOnlyWhenThePublishedSetChanges() {
        let down = DownPeers()
        let start = down.generation
        down.publish([])
        XCTAssertEqual(down.generation, start, "publishing the set held changes nothing")
        down.publish(["n2"])
        XCTAssertEqual(down.generation, start + 1)
        XCTAssertEqual(down.snapshot, ["n2"])
        for _ in 0..<5 { down.publish(["n2"]) }
        XCTAssertEqual(down.generation, start + 1, "a gossip round that finds the same peers down changes nothing")
        down.publish(["n2", "n3"])
        down.publish([])
        XCTAssertEqual(down.generation, start + 3)
        XCTAssertEqual(down.snapshot, [])
    }
}
