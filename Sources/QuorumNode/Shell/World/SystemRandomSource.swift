import QuorumServices

/// The node's random draws (read-repair sampling, gossip peers): the system generator.
final class SystemRandomSource: RandomSource {
    private var generator = SystemRandomNumberGenerator()

    func next() -> UInt64 { generator.next() }
}
