/// A saved bound above every timestamp a node has issued, so that a restart with the wall
/// clock stepped back never issues a timestamp below one issued before (lww would order the
/// new writes before the old ones). The shell saves the values this asks for and reports
/// back; it starts its clock at the saved value after a restart.
///
/// Why saves go ahead of time: saving waits for a commit, and the caller is a request on a
/// network thread. The floor is saved `step` ahead of the timestamps issued, and a new one
/// is asked for in the background once they come within half a step of it, so a save is
/// done long before they reach it. Only a timestamp at or past the saved floor (the clock
/// jumped forward by more than half a step, or saves keep failing) has to wait for a save.
public struct ClockFloor: Sendable, Equatable {
    /// The highest floor known to be saved.
    public private(set) var saved: UInt64
    /// A floor being saved in the background, if any.
    public private(set) var saving: UInt64?
    public let stepMilliseconds: UInt64

    public enum Action: Sendable, Equatable {
        case none
        /// Save this floor in the background; report with `saved` or `saveFailed`.
        case saveAhead(UInt64)
        /// Save this floor before issuing the timestamp; report with `saved` or `saveFailed`.
        case saveBeforeIssuing(UInt64)
    }

    public init(saved: UInt64, stepMilliseconds: UInt64 = 10_000) {
        self.saved = saved
        self.stepMilliseconds = stepMilliseconds
    }

    /// What to do before a timestamp with `physicalMilliseconds` is issued.
    public mutating func issuing(physicalMilliseconds: UInt64) -> Action {
        let next = physicalMilliseconds &+ stepMilliseconds
        if physicalMilliseconds >= saved { return .saveBeforeIssuing(max(next, saving ?? 0)) }
        guard saving == nil, physicalMilliseconds &+ stepMilliseconds / 2 >= saved else { return .none }
        saving = next
        return .saveAhead(next)
    }

    /// `value` is saved.
    public mutating func saved(_ value: UInt64) {
        saved = max(saved, value)
        if let pending = saving, pending <= saved { saving = nil }
    }

    /// Saving `value` failed; a later timestamp asks again.
    public mutating func saveFailed(_ value: UInt64) {
        if saving == value { saving = nil }
    }
}
