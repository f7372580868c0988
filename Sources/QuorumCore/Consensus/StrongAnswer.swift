/// What a strong operation answers a client (issue #17), once it reached a decision;
/// failures (no majority, contention, deadline) are `KVError.unavailable` instead.
public enum StrongAnswer: Sendable, Equatable {
    /// Done. A read: the current value and its etag (nil, nil: the key holds no value). A
    /// write or compare-and-set: the value written and its new etag (nil for a delete).
    case done(value: StrongValue?, etag: StrongETag?)
    /// A compare-and-set whose condition did not hold: nothing was written. The current
    /// value and etag (nil when the key holds none).
    case conditionFailed(current: StrongValue?, etag: StrongETag?)
}
