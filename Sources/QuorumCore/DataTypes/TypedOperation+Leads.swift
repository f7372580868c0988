/// Whether an update may be led twice: when a lead replica does not answer, the
/// coordinator cannot tell whether it applied the update, and the next lead would apply
/// it again under its own actor.
extension TypedOperation {
    /// True when a second lead applying the operation again leaves the value as one would:
    /// adds (another dot of the same element), removes, register and flag writes, resets.
    /// False for increments (a counter's, or a map counter field's): each lead counts them
    /// under its own actor, so two leads count them twice, and the operation id that
    /// dedupes a retry is only in the first lead's window until its delta spreads.
    public var isIdempotentAcrossLeads: Bool {
        switch self {
        case .increment: return false
        case .mapUpdate(let updates):
            return !updates.contains { if case .incrementCounter = $0 { return true } else { return false } }
        case .setAdd, .setRemove, .setRemoveObserved, .reset: return true
        }
    }
}
