@testable import QuorumCore

/// The shared seeded generator, so every property test and simulation replays from its seed.
typealias MembershipTestRandom = SplitMix64

extension SplitMix64 {
    mutating func below(_ bound: Int) -> Int { Int(next(upperBound: UInt64(bound))) }

    /// True with probability `numerator/denominator`.
    mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { below(denominator) < numerator }
}

/// A founders list `node1…nodeN` with loopback addresses.
func membershipFounders(_ count: Int) -> [(id: String, peerAddress: String, httpAddress: String)] {
    (1...count).map { ("node\($0)", "127.0.0.1:\(9080 + $0)", "127.0.0.1:\(8080 + $0)") }
}

func membershipState(founders count: Int, partitionCount: Int = 64) -> MembershipState {
    try! MembershipState(founders: membershipFounders(count), partitionCount: partitionCount)
}
