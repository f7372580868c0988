import QuorumCore

/// The one thread of control a node service runs on: the real node's event loop, the
/// simulator's agenda.
///
/// Services hold no lock and start no thread of their own. Everything they do happens in
/// work this executor runs one item at a time, so the simulator can step them one event at
/// a time and replay a run from its seed, and the real node runs them without hops.
public protocol ServiceExecutor: AnyObject {
    /// Runs `work` later on this executor, after the work already queued.
    func execute(_ work: @escaping () -> Void)

    /// Runs `work` on this executor once `milliseconds` have passed, unless cancelled first.
    func schedule(afterMilliseconds milliseconds: Int, _ work: @escaping () -> Void) -> any ScheduledWork

    /// Milliseconds on the clock `schedule` counts in: monotonic (it never steps back, as a
    /// wall clock may), with an arbitrary origin. The node's event loop uptime; the
    /// simulator's virtual time. For deadlines; `ServiceClock` is the wall clock.
    func uptimeMilliseconds() -> UInt64
}

/// Work `ServiceExecutor.schedule` will run; cancelling it after it ran does nothing.
public protocol ScheduledWork: AnyObject {
    func cancel()
}
