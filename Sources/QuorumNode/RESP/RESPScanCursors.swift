import Synchronization

/// The positions behind `SCAN`'s decimal cursors, remembered by the server.
///
/// Redis clients parse a cursor as an integer, but a listing position is a partition and
/// the last key returned (up to 1 KiB): it can't fit in one. So each `SCAN` page stores its
/// `KeyCursor` token here under a fresh number and answers the number. The position names
/// a partition, not a node, so a cursor keeps working while partitions move between
/// nodes. A number the server does not know (forgotten after `scanCursorsMax` newer ones,
/// issued before a restart, or by another node) fails with `ERR invalid cursor` and says
/// to start again from 0, never silently resumes somewhere else: numbers carry a random
/// per-process tag in their high bits, so two nodes' or two runs' cursors don't collide.
/// Cursors stay below 2^53, so clients that keep them as doubles (JavaScript) read them exactly.
public final class RESPScanCursors: Sendable {
    private struct Entry {
        var bucket: String
        var token: String
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var sequence: UInt64 = 0
    }

    private static let sequenceBits: UInt64 = 32
    private static let tagBits: UInt64 = 21

    private let state = Mutex(State())
    private let tag: UInt64
    public let capacity: Int

    /// - Parameter tag: the high bits of every cursor (1 ..< 2^21); random unless a test fixes it.
    public init(capacity: Int, tag: UInt64? = nil) {
        precondition(capacity > 0 && UInt64(capacity) < (1 << Self.sequenceBits), "scan cursor capacity out of range: \(capacity)")
        self.capacity = capacity
        self.tag = tag ?? UInt64.random(in: 1..<(1 << Self.tagBits))
        precondition((1..<(1 << Self.tagBits)).contains(self.tag), "scan cursor tag out of range: \(self.tag)")
    }

    /// A new cursor number for `token` (a `KeyCursor` token of `bucket`); never 0.
    public func issue(bucket: String, token: String) -> UInt64 {
        state.withLock { state in
            state.sequence = (state.sequence + 1) & ((1 << Self.sequenceBits) - 1)
            if state.sequence == 0 { state.sequence = 1 }
            let cursor = tag << Self.sequenceBits | state.sequence
            state.entries[cursor] = Entry(bucket: bucket, token: token)
            if state.entries.count > capacity {
                // Numbers are issued in sequence, so the one `capacity` back is the oldest.
                var oldest = (state.sequence &- UInt64(capacity)) & ((1 << Self.sequenceBits) - 1)
                if oldest == 0 { oldest = (1 << Self.sequenceBits) - 1 }
                state.entries[tag << Self.sequenceBits | oldest] = nil
            }
            return cursor
        }
    }

    /// The token behind `cursor`, or the error reply that says why there is none.
    public func token(for cursor: UInt64, bucket: String) -> Result<String, RESPCommandError> {
        let entry = state.withLock { $0.entries[cursor] }
        guard let entry else {
            return .failure(RESPCommandError(
                "ERR",
                "invalid cursor: \(cursor) is not a SCAN cursor this node issued since it started, or it is older than the \(capacity) most recent ones it keeps (cursors belong to the node that issued them); start again from 0"))
        }
        guard entry.bucket == bucket else {
            return .failure(RESPCommandError(
                "ERR",
                "invalid cursor: \(cursor) lists bucket '\(entry.bucket)', not '\(bucket)' (SELECT changed the bucket); start again from 0"))
        }
        return .success(entry.token)
    }
}
