@testable import QuorumCore

/// A seeded generator (SplitMix64) for the membership, gossip and hint tests, so every
/// property test and simulation replays exactly from its seed.
struct MembershipTestRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

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
