/// Where a node's services draw random numbers: the system generator on the real node, the
/// seed's generator in the simulator, so every choice replays.
public protocol RandomSource: AnyObject {
    func next() -> UInt64
}

extension RandomSource {
    /// A draw in [0, 1).
    public func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
