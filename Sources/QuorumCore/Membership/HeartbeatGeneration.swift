/// The heartbeat generation a node starts a run with.
///
/// Peers keep the newest heartbeat per member and ignore any that compares lower
/// (`Heartbeat` orders by generation first), so each run must start above every earlier
/// one. The start time in wall-clock milliseconds is not enough on its own: a node
/// restarted after its clock was stepped back (NTP, a VM restore) would start below its
/// last run, every peer would ignore its heartbeats, and it would stay down in their eyes
/// until it restarted again. The deterministic simulator found this (seed 2873).
///
/// So the shell persists the generation it used and starts the next run above both it and
/// the clock.
public enum HeartbeatGeneration {
    /// The generation for a run starting now; store it before the first gossip round.
    /// - Parameter previous: the generation of this node's last run, if it had one.
    public static func next(previous: UInt64?, nowMilliseconds: UInt64) -> UInt64 {
        guard let previous else { return nowMilliseconds }
        return max(nowMilliseconds, previous &+ 1)
    }
}
