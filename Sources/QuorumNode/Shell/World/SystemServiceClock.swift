import QuorumServices

/// The wall clock, as the node's services read it.
final class SystemServiceClock: ServiceClock {
    func nowMilliseconds() -> UInt64 { WallClock.nowMilliseconds() }
}
