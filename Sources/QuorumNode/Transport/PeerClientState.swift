import NIOCore

/// Everything a `PeerClient` changes, confined to the client's event loop so that no
/// lock is needed and every transition is ordered.
final class PeerClientState {
    enum Connection {
        /// No channel and no reason to wait; the next request connects. Becomes `connecting`.
        case idle
        /// A connect is under way; requests wait in `queued`. Becomes `connected`, or
        /// `backingOff` when it fails, or `idle` if the new channel closes at once.
        case connecting(generation: UInt64)
        /// Hello sent; requests go straight out. Becomes `idle` when the channel closes,
        /// `backingOff` when the hello is rejected.
        case connected(any Channel, generation: UInt64)
        /// The last connect (or hello) failed; requests fail with `error` until `until`,
        /// then the state counts as `idle`.
        case backingOff(until: NIODeadline, error: PeerError)
        /// `close()` was called. Final.
        case closed
    }

    struct Pending {
        var promise: EventLoopPromise<[UInt8]>
        var timeout: Scheduled<Void>
    }

    var connection = Connection.idle
    /// Every request not yet answered, sent or queued; its count is the in-flight bound.
    var pending: [UInt64: Pending] = [:]
    /// Requests waiting for the connect to finish, in the order they were made.
    var queued: [(requestID: UInt64, payload: [UInt8])] = []
    /// Zero is the hello's id, so requests start at one.
    var nextRequestID: UInt64 = 1
    /// Tells events of a closed channel apart from those of its successor.
    var nextGeneration: UInt64 = 1
    /// Pause after the last failed connect or rejected hello; nil once the peer answers.
    var backoff: TimeAmount?
    /// Whether the current connection has carried an answer, which is what proves the
    /// hello was accepted (a rejected hello gets an error frame, then the close).
    var isConnectionConfirmed = false
    var isFlushScheduled = false
    /// Whether the next connect uses TLS. Fixed by the mode except in `accept`, where a
    /// connection that closes before its first answer flips it, so a peer not yet on TLS
    /// (or no longer taking plaintext) is reached the other way on the next try.
    var dialsTLS = false

    /// Removes and returns every outstanding request, with its timeout cancelled.
    func takeAllPending() -> [EventLoopPromise<[UInt8]>] {
        let promises = pending.values.map { entry in
            entry.timeout.cancel()
            return entry.promise
        }
        pending.removeAll()
        queued.removeAll()
        return promises
    }
}
