import XCTest

/// A test case with a fresh three-node cluster per test, killed and removed afterwards.
class ClusterTestCase: XCTestCase {
    var cluster: ClusterHarness!

    override func setUp() async throws {
        cluster = try await ClusterHarness(nodes: 3)
    }

    override func tearDown() async throws {
        cluster?.shutdown()
    }
}
