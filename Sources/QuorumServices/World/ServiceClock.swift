/// The wall clock as a node reads it (the simulator's per-node clock may be skewed or jump).
/// Services read time only here; the core gets it as an argument.
public protocol ServiceClock: AnyObject {
    func nowMilliseconds() -> UInt64
}
