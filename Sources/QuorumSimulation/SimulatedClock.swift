/// One node's wall clock: virtual time plus an offset that skew and jumps change.
///
/// The node reads only this (for HLC timestamps, hint ages, heartbeats), as the real node
/// reads only `WallClock`. A jump backwards is allowed, as with a real clock stepped by
/// NTP; nothing here keeps it monotonic, so the core must cope.
struct SimulatedClock {
    /// Milliseconds added to virtual time; negative runs behind.
    private(set) var offsetMilliseconds: Int64 = 0

    func nowMilliseconds(virtual: UInt64) -> UInt64 {
        let value = Int64(virtual) + offsetMilliseconds
        return UInt64(max(value, 0))
    }

    /// Sets a steady skew (from the start, or after the clock is corrected).
    mutating func skew(to offset: Int64) {
        offsetMilliseconds = offset
    }

    /// Steps the clock by `delta` at once.
    mutating func jump(by delta: Int64) {
        offsetMilliseconds += delta
    }
}
